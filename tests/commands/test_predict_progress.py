"""mrcnn-predict's progress (issue 22): a bar with a total (so a percentage) on a terminal in both modes, and
without a terminal a log line with done/total and the rate. Genome mode once crashed on a bar without a total."""

import contextlib
import fcntl
import functools
import os
import pty
import re
import struct
import termios
import threading

import pytest
from helpers import run_main

import mrcnn_tools.prediction.predict as predict_module
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.progress import Progress

REGION = ["--region", "22:20610001-20650000"]


def _on_a_terminal(argv):
    """predict's main(argv) with stderr on a pseudo-terminal: (exit code, what the terminal showed)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # 30 lines, 100 columns
    shown = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stream = open(terminal, "w", buffering=1, encoding="utf-8", closefd=False)
    try:
        with contextlib.redirect_stderr(stream):
            rc = predict([str(a) for a in argv])
    finally:
        stream.close()
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    return rc, bytes(shown).decode("utf-8", "replace")


@pytest.mark.parametrize("mode", ["dataset", "genome", "genome-shard"])
def test_a_bar_with_a_percentage_on_a_terminal(mode, td, tmp_path):
    inputs = {
        "dataset": [td / "test_small.npz"],
        "genome": ["--genome", td / "22_20-21M.fa", *REGION],
        "genome-shard": ["--genome", td / "22_20-21M.fa", *REGION, "--shard", "2/3"],
    }[mode]
    rc, screen = _on_a_terminal(["-m", td / "model_small_gbr.skops", *inputs, "-o", tmp_path / "p.tsv"])
    assert rc == 0, screen[-2000:]
    assert "Traceback" not in screen and "error" not in screen
    assert re.search(r"predicting:\s+\d+%\|", screen), screen[-2000:]  # a total: tqdm draws a percentage
    assert ("bp" if mode == "genome" else "CpG") in screen
    assert (tmp_path / "p.tsv").stat().st_size > 0


def _progress_lines(err):
    return [ln for ln in err if "predicting:" in ln]


@pytest.fixture
def every_update(monkeypatch):
    """A log line at every update instead of every 30 s, so that a short run shows them."""
    monkeypatch.setattr(predict_module, "Progress", functools.partial(Progress, interval=0.0))


@pytest.mark.parametrize(
    "mode, unit",
    [("dataset", "CpG"), ("genome", "bp"), ("genome-shard", "CpG")],
)
def test_log_lines_without_a_terminal(mode, unit, every_update, td, tmp_path, capsys):
    inputs = {
        "dataset": [td / "test_small.npz"],
        "genome": ["--genome", td / "22_20-21M.fa", *REGION],
        "genome-shard": ["--genome", td / "22_20-21M.fa", *REGION, "--shard", "2/3"],
    }[mode]
    argv = ["-m", td / "model_small_gbr.skops", *inputs, "--chunk-size", 20, "-o", tmp_path / "p.tsv"]
    rc, err = run_main(predict, argv, capsys)
    assert rc == 0, err
    lines = _progress_lines(err)
    assert len(lines) >= 2, err
    pattern = rf"predicting: [\d.]+k?/[\d.]+k? {unit} \((\d+)%\), [\d.]+[kMG]? {unit}/s"
    percents = [int(re.search(pattern, ln)[1]) for ln in lines]
    assert percents == sorted(percents) and percents[-1] == 100, lines
    if mode == "genome":  # the selected bases of the region: 40,000
        assert "/40k bp" in lines[-1]
    assert not any("\r" in ln for ln in err)  # no bar drawn into a pipe


def test_quiet_shows_no_progress(every_update, td, tmp_path, capsys):
    argv = ["-q", "-m", td / "model_small_gbr.skops", "--genome", td / "22_20-21M.fa", *REGION, "-o", tmp_path / "p"]
    rc, err = run_main(predict, argv, capsys)
    assert rc == 0 and err == []
