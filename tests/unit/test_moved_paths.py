"""0.2's module paths still import for one release, with a DeprecationWarning naming the new path."""

import importlib

import pytest

import mrcnn_tools
from mrcnn_tools.data import dataset
from mrcnn_tools.models import files
from mrcnn_tools.prediction import predictors


def test_every_old_flat_module_is_the_module_it_moved_to():
    for old, new in mrcnn_tools.MOVED.items():
        with pytest.warns(DeprecationWarning, match=f"mrcnn_tools.{old} moved to mrcnn_tools.{new}"):
            module = importlib.import_module(f"mrcnn_tools.{old}")
        assert module is importlib.import_module(f"mrcnn_tools.{new}"), old


def test_old_names_of_the_modules_that_became_layers():
    with pytest.warns(DeprecationWarning, match="mrcnn_tools.models.load_model moved to mrcnn_tools.models.files"):
        from mrcnn_tools.models import load_model  # noqa: PLC0415 (the import is what is tested)
    assert load_model is files.load_model
    with pytest.warns(DeprecationWarning, match="mrcnn_tools.prediction.Predictor moved to"):
        from mrcnn_tools.prediction import Predictor  # noqa: PLC0415
    assert Predictor is predictors.Predictor
    from mrcnn_tools.dataset import load_dataset  # noqa: PLC0415

    assert load_dataset is dataset.load_dataset
    with pytest.raises(ImportError):
        from mrcnn_tools.models import no_such_name  # noqa: F401, PLC0415
