"""Start-up of a job-array task: TensorFlow and Keras imported without the modules Keras imports only for helpers
no command uses (matplotlib, scikit-learn), and those modules still importable afterwards."""

import importlib
import shutil
import subprocess
import sys

import pytest
from helpers import TEST_DATA

from mrcnn_tools.prediction import predict as predict_module
from mrcnn_tools.prediction.predict import start_tensorflow


def test_skipped_modules_fail_only_during_the_import(monkeypatch):

    seen = {}

    def fake_load(threads=None):
        for name in ("tabnanny", "json"):
            try:
                seen[name] = importlib.import_module(name) is not None
            except ImportError:
                seen[name] = False
        seen["threads"] = threads

    monkeypatch.setattr(predict_module, "load_tensorflow", fake_load)
    monkeypatch.delitem(sys.modules, "tabnanny", raising=False)
    start_tensorflow(3, skip=("tabnanny", "json"))  # json is imported already: left alone
    assert seen == {"tabnanny": False, "json": True, "threads": 3}
    assert "tabnanny" not in sys.modules and importlib.import_module("tabnanny").check  # importable again


@pytest.mark.slow
def test_a_keras_prediction_imports_neither_matplotlib_nor_sklearn(tmp_path):

    shutil.copy(TEST_DATA / "22_20-21M.fa", tmp_path / "g.fa")
    code = (
        "import sys; from mrcnn_tools.cli.predict import main; "
        f"rc = main(['-q', '-m', {str(TEST_DATA / 'model_small.keras')!r}, '--genome', {str(tmp_path / 'g.fa')!r}, "
        f"'--region', '22:20000001-20010000', '-o', {str(tmp_path / 'p.tsv')!r}]); "
        "print(rc, 'tensorflow' in sys.modules, [m for m in ('matplotlib', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[-2] == "0 True []"
