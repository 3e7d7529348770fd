"""Dataset NPZ and model files through a pipe or stdin (issue 22): both are zips, read by seeking, so they must be
regular files; the refusal says so in one line with the fix, not "no such file" or "damaged"."""

import threading

import pytest
from helpers import bundled, run_main

from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.io import require_regular_file
from mrcnn_tools.models.files import load_model, read_model_meta

NPZ = bundled("test_small.npz")
MODEL = bundled("model_small_gbr.skops")


def _drain(path):
    """Read what the fixture's writer sends into a named pipe the command refused unread, so that it ends."""
    t = threading.Thread(target=lambda: open(path, "rb").read(), daemon=True)
    t.start()
    t.join(30)


def _one_clear_line(err, path):
    assert len(err) == 1, err
    line = err[0]
    assert f"{path}:" in line and "regular (seekable) file" in line and "write it to a file first" in line, line
    assert "damaged" not in line and "No such file" not in line and "Traceback" not in line
    return line


def test_dataset_through_a_pipe(fifo, tmp_path, capsys):
    path = fifo(NPZ.read_bytes(), "data.npz")
    rc, err = run_main(predict, ["-m", MODEL, path, "-o", tmp_path / "p.tsv"], capsys)
    _drain(path)
    assert rc == 1
    assert "not a pipe" in _one_clear_line(err, path)
    assert not (tmp_path / "p.tsv").exists()


def test_dataset_on_stdin(tmp_path, capsys):
    rc, err = run_main(predict, ["-m", MODEL, "-", "-o", tmp_path / "p.tsv"], capsys)
    assert rc == 1
    assert "not stdin" in _one_clear_line(err, "-")


def test_model_through_a_pipe(fifo, tmp_path, capsys):
    path = fifo(MODEL.read_bytes(), "model.skops")
    rc, err = run_main(predict, ["-m", path, NPZ, "-o", tmp_path / "p.tsv"], capsys)
    _drain(path)
    assert rc == 1
    assert "model file" in _one_clear_line(err, path)


def test_keras_model_through_a_pipe_is_not_called_damaged(fifo, tmp_path, capsys):
    path = fifo(bundled("model_small.keras").read_bytes(), "model.keras")
    rc, err = run_main(predict, ["-m", path, NPZ, "-o", tmp_path / "p.tsv"], capsys)
    _drain(path)
    assert rc == 1
    _one_clear_line(err, path)


def test_model_on_stdin(tmp_path, capsys):
    rc, err = run_main(predict, ["-m", "-", NPZ, "-o", tmp_path / "p.tsv"], capsys)
    assert rc == 1
    assert "model file" in _one_clear_line(err, "-")


def test_the_loaders_refuse_before_reading(fifo):
    """The one check sits in the loaders: every command that reads a dataset or a model refuses the same way."""
    for loader, data in ((load_dataset, NPZ), (read_model_meta, MODEL), (load_model, MODEL)):
        path = fifo(data.read_bytes(), f"x{loader.__name__}")
        with pytest.raises(MrcnnError, match="regular"):
            loader(str(path))
        _drain(path)


def test_regular_files_and_redirected_stdin_pass(tmp_path, monkeypatch):
    require_regular_file(str(NPZ), "dataset NPZ")
    require_regular_file(str(tmp_path / "absent.npz"), "dataset NPZ")  # left to the existence check
    with open(NPZ, "rb") as fh:  # `mrcnn-predict ... /dev/stdin < data.npz`: stdin is the file itself
        require_regular_file(f"/proc/self/fd/{fh.fileno()}", "dataset NPZ")
    with pytest.raises(MrcnnError, match="not a device"):
        require_regular_file("/dev/null", "model file")
