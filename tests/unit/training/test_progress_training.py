"""Progress of training (issue 22): the batches of each Keras epoch with the running loss, and k-mer GBR's boosting
iterations; a log line per interval without a terminal (the interval made tiny here through
$MRCNN_PROGRESS_INTERVAL), a bar on a terminal, nothing with -q; and the same numbers trained either way."""

import contextlib
import fcntl
import json
import logging
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import threading

import numpy as np
import pytest
from helpers import TINY_KERAS, bundled, load, run_main

from mrcnn_tools.cli.train import main as train
from mrcnn_tools.models.baselines import build_kmer_gbr, features
from mrcnn_tools.models.files import load_model
from mrcnn_tools.progress import INTERVAL_VARIABLE
from mrcnn_tools.training.fit import fit_with_progress

EPOCH_LINE = re.compile(r"^mrcnn-train: epoch 1/2: (\d+)/(\d+) batch \(\d+%\), .* batch/s.*, loss \d\.\d{4}$")
GBR_LINE = re.compile(r"^mrcnn-train: kmer-gbr: (\d+)/300 iteration \(\d+%\), .* iteration/s")


@pytest.fixture
def every_update(monkeypatch):
    """A log line at every update (interval 0), whatever the caller's environment says."""
    monkeypatch.setenv(INTERVAL_VARIABLE, "0")


# the smallest training that has several batches an epoch: 87 sites, 10% held out, batches of 16
TINY = [*TINY_KERAS, "--batch-size", "16", "--seed", "1"]


def _train(argv, capsys):
    return run_main(train, [bundled("test_small.npz"), *argv], capsys)


# 7 s; the fast tier keeps the terminal's bar for each epoch
@pytest.mark.slow
def test_keras_epochs_log_their_batches_without_a_terminal_and_quiet_silences_them(every_update, tmp_path, capsys):
    """A log line at every batch (interval 0) and none with -q; progress only reads what Keras hands it, so the same
    seed gives the same weights, bit for bit, either way."""
    rc, err = _train([*TINY, "-o", tmp_path / "shown.keras"], capsys)
    assert rc == 0, err
    lines = [m for m in map(EPOCH_LINE.match, err) if m]
    done = [int(m[1]) for m in lines]
    total = {int(m[2]) for m in lines}
    # about 78 sites in batches of 16: every batch of the epoch reported, in order
    assert len(total) == 1 and done == list(range(1, max(done) + 1)) and max(done) == total.pop() >= 4, err
    assert any(ln.startswith("mrcnn-train: epoch 1/2 loss") for ln in err)  # the epoch's own line still follows
    rc, quiet = _train([*TINY, "-q", "-o", tmp_path / "quiet.keras"], capsys)
    assert rc == 0 and quiet == [], quiet
    a, b = (load_model(str(tmp_path / f))[0].get_weights() for f in ("shown.keras", "quiet.keras"))
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_kmer_gbr_logs_its_boosting_iterations(every_update, tmp_path, capsys):
    rc, err = _train(["--arch", "kmer-gbr", "--seed", "1", "-o", tmp_path / "g.skops"], capsys)
    assert rc == 0, err
    done = [int(m[1]) for m in map(GBR_LINE.match, err) if m]
    assert done and done == list(range(1, len(done) + 1)), err
    summary = next(ln for ln in err if "boosting iterations" in ln)
    assert f"kmer-gbr: {len(done)} boosting iterations" in summary  # one line per iteration of the model


def test_kmer_gbr_with_progress_is_the_model_of_a_silent_fit(every_update, caplog):
    """Its verbose report is read, nothing else changes: the same predictions bit for bit, the same iterations and
    parameters (verbose set back), and nothing written to stdout."""
    data = load(bundled("train_small.npz"))
    x, y = features(data["seq"][:1500], 200), data["y"][:1500]
    test = features(load(bundled("test_small.npz"))["seq"], 200)
    silent = fit_with_progress(build_kmer_gbr(seed=1), x, y)  # no logging set up: not enabled
    out = []
    with caplog.at_level(logging.INFO, logger="mrcnn_tools"), contextlib.redirect_stdout(Sink(out)):
        shown = fit_with_progress(build_kmer_gbr(seed=1), x, y)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("kmer-gbr: ")]
    assert len(lines) == shown.n_iter_ and not out
    assert shown.n_iter_ == silent.n_iter_ and shown.get_params() == silent.get_params()
    assert np.array_equal(shown.predict(test), silent.predict(test))
    assert np.array_equal(shown.validation_score_, silent.validation_score_)


class Sink:
    def __init__(self, out):
        self.out = out

    def write(self, text):
        self.out.append(text)

    def flush(self):
        pass


def test_a_terminal_shows_a_bar_for_each_epoch(monkeypatch, tmp_path):
    """mrcnn-train with stderr on a pseudo-terminal: a tqdm bar of the epoch's batches (with its loss) is drawn."""
    monkeypatch.delenv(INTERVAL_VARIABLE, raising=False)
    controller, terminal = pty.openpty()
    # a terminal of 30 lines x 100 columns (tqdm hides its bars on one of 0 lines, the size of a bare pty)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
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
            rc = train([str(bundled("test_small.npz")), *TINY, "-o", str(tmp_path / "m.keras")])
    finally:
        stream.flush()
        stream.close()
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    screen = shown.decode("utf-8", "replace")
    assert rc == 0, screen[-2000:]
    assert re.search(r"epoch 1/2:\s+\d+%\|", screen), screen[-2000:]  # the bar: percentage and its left edge
    assert re.search(r"[\d.]+/[\d.]+ \[[^]]*loss \d\.\d{4}\]", screen), screen[-2000:]  # done/total, the loss
    assert "mrcnn-train: epoch 2/2 loss" in screen


@pytest.mark.slow
def test_the_multi_worker_loop_logs_its_batches_and_quiet_changes_no_weight(tmp_path):
    """--strategy multi-worker runs its own loop (no model.fit, no callbacks): one worker, a line at every batch; the
    same run with -q trains the same weights."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MRCNN_", "SLURM_")) and k != "TF_CONFIG"}
    cluster = {"cluster": {"worker": [f"localhost:{port}"]}, "task": {"type": "worker", "index": 0}}
    env.update(TF_CONFIG=json.dumps(cluster), **{INTERVAL_VARIABLE: "0"})
    errs = []
    for name, extra in (("shown", []), ("quiet", ["-q"])):
        argv = [
            str(bundled("test_small.npz")),
            *TINY,
            "--strategy",
            "multi-worker",
            *extra,
            "-o",
            tmp_path / f"{name}.keras",
        ]
        p = subprocess.run(
            [sys.executable, "-m", "mrcnn_tools.cli.train", *map(str, argv)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert p.returncode == 0, p.stderr[-3000:]
        errs.append(p.stderr.splitlines())
    done = [int(m[1]) for m in map(EPOCH_LINE.match, errs[0]) if m]
    assert len(done) >= 4 and done == list(range(1, len(done) + 1)), errs[0]
    assert not any("batch" in ln for ln in errs[1])
    a, b = (load_model(str(tmp_path / f))[0].get_weights() for f in ("shown.keras", "quiet.keras"))
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
