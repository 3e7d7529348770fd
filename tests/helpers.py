"""Helpers shared by the tests: paths of the bundled and shared data, running a command in-process, loading an NPZ.
Fixtures live in conftest.py; tests import these names from here (never from conftest)."""

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "test-data"
EXAMPLES = ROOT / "examples" / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"

# the smallest Keras models mrcnn-train builds: what the tests of training mechanics need, in ~2 s of CPU each
TINY_KERAS = ["--filters", "4", "--dense-units", "8", "--batch-size", "64", "--epochs", "2"]


def shared_data(*parts):
    """A file of the project's shared data (../shared/data); the test is skipped, saying so, where a clone has no
    ../shared beside it (CI clones into /tmp). Bundled test-data is never skipped: use :func:`bundled`."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent: the shared data lies beside the project's own checkout only")
    return path


def bundled(*parts):
    """A file of test-data/ that must exist: a missing one fails the test instead of skipping it."""
    path = TEST_DATA.joinpath(*parts)
    assert path.exists(), f"{path} is missing from test-data/ (see test-data/README.md)"
    return path


def reset_logger():
    log = logging.getLogger("mrcnn_tools")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.setLevel(logging.NOTSET)
    log.propagate = True


def load(path):
    with np.load(path, allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


def run_main(main, argv, capsys):
    """Run a command in-process; return (exit code, stderr lines)."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return rc, [ln for ln in err.splitlines() if ln.strip()]


def run_quietly(main, argv):
    """Run a command in-process outside a test's capsys (session fixtures); return (exit code, stderr lines)."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stderr(buf):
            rc = main([str(a) for a in argv])
    finally:
        reset_logger()
    return rc, [ln for ln in buf.getvalue().splitlines() if ln.strip()]


class TrainRun:
    """One mrcnn-train run: its argv, exit code, stderr lines, model and history paths."""

    def __init__(self, argv, rc, err, model, history):
        self.argv, self.rc, self.err, self.model, self.history = argv, rc, err, model, history


# per architecture: model suffix and options. Keras: tiny and 30% held out (random 10-kb blocks, so that some
# validation sites leak); kmer-gbr: as test-data/make_galaxy_inputs.sh trained model_small_gbr.skops (seed 1)
