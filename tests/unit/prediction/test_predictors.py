"""One predictor protocol (predict_rows) for sequence and neighbour models, in prediction/ only."""

import ast
from pathlib import Path

import numpy as np
from helpers import bundled

import mrcnn_tools.models.context_inputs as context_inputs
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.models.files import load_model
from mrcnn_tools.prediction import predict as predict_module
from mrcnn_tools.prediction.predictors import (
    PREDICT_ROWS,
    ContextPredictor,
    Predictor,
    RowPredictor,
    WindowRows,
    context_predictor,
)

PREDICTION = Path(predict_module.__file__).parent
# layers prediction may not import (docs/FORMATS.md §5): training beside it, everything above it
FORBIDDEN = ("mrcnn_tools.training", "mrcnn_tools.evaluation", "mrcnn_tools.motifs", "mrcnn_tools.cli")


def test_sequence_model_rows_windows_and_views_agree():
    model, meta = load_model(str(bundled("model_small_gbr.skops")))
    data = load_dataset(str(bundled("test_small.npz")))
    p = Predictor(model, meta, batch_size=7)
    assert isinstance(p, RowPredictor)
    whole = p.predict_rows(data)
    assert whole.dtype == np.float32 and whole.shape == (len(data),)
    np.testing.assert_array_equal(p.predict_rows(WindowRows(data.seq)), whole)
    idx = np.arange(3, len(data), 5)
    np.testing.assert_array_equal(p.predict_rows(data.rows(idx)), whole[idx])
    np.testing.assert_array_equal(p.predict_rows(data.subset(idx)), whole[idx])


def test_neighbour_average_rows_and_views_agree():
    data = load_dataset(str(bundled("test_small_context.npz")))
    p = context_predictor(None, {"arch": "neighbours"}, data, "test_small_context.npz")
    assert isinstance(p, ContextPredictor) and isinstance(p, RowPredictor)
    whole = p.predict_rows(data)
    assert whole.shape == (len(data),) and np.isfinite(whole).any()
    idx = np.arange(1, len(data), 3)
    np.testing.assert_array_equal(p.predict_rows(data.rows(idx)), whole[idx])
    np.testing.assert_array_equal(p.predict_rows(data.subset(idx)), whole[idx])


def test_window_rows():
    codes = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rows = WindowRows(codes)
    assert len(rows) == 3 and rows.windows() is codes
    np.testing.assert_array_equal(rows.windows([2, 0]), codes[[2, 0]])


def test_one_home_for_the_fixed_batch_shape():
    assert PREDICT_ROWS == 1024
    assert not hasattr(context_inputs, "PREDICT_ROWS")
    assert not hasattr(context_inputs, "ContextPredictor") and not hasattr(context_inputs, "context_predictor")
    defined = []
    for path in sorted(Path(context_inputs.__file__).parents[1].rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PREDICT_ROWS" for t in node.targets):
                defined.append(path.name)
    assert defined == ["predictors.py"]


def test_prediction_imports_no_training_nor_higher_layer():
    for path in sorted(PREDICTION.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            bad = [n for n in names if n.startswith(FORBIDDEN)]
            assert not bad, f"{path.name} imports {bad}"
