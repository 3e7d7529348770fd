import contextlib
import io
import logging
import os
import shutil
from pathlib import Path

# OpenMP pools (scikit-learn's HistGradientBoosting) spin while they wait: on a loaded 2-core machine a k-mer GBR
# fit then burnt 10-40x the CPU of a one-thread fit (24-38 s instead of 1-2.5 s). Set before anything loads
# OpenMP; the child processes of the tests inherit it. A value given by the caller wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

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


@pytest.fixture(autouse=True)
def _fresh_logger():
    """Each command run in-process points the package logger at that test's stderr; undo it afterwards so that a
    later test neither writes to a closed stream nor misses records that caplog should see."""
    yield
    _reset_logger()


def _reset_logger():
    log = logging.getLogger("mrcnn_tools")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.setLevel(logging.NOTSET)
    log.propagate = True


@pytest.fixture
def td(tmp_path):
    """Copy of test-data in a writable temp dir (FASTA indexes are written beside the FASTA)."""
    dst = tmp_path / "td"
    shutil.copytree(TEST_DATA, dst)
    return dst


@pytest.fixture(scope="session")
def examples(tmp_path_factory):
    """Writable copy of the big example files, shared by the whole session."""
    dst = tmp_path_factory.mktemp("examples")
    for f in EXAMPLES.iterdir():
        if f.is_file() and not f.name.endswith((".fai", ".gzi")):
            shutil.copy(f, dst / f.name)
    return dst


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
        _reset_logger()
    return rc, [ln for ln in buf.getvalue().splitlines() if ln.strip()]


class TrainRun:
    """One mrcnn-train run: its argv, exit code, stderr lines, model and history paths."""

    def __init__(self, argv, rc, err, model, history):
        self.argv, self.rc, self.err, self.model, self.history = argv, rc, err, model, history


# per architecture: model suffix and options. Keras: tiny and 30% held out (random 10-kb blocks, so that some
# validation sites leak); kmer-gbr: as test-data/make_galaxy_inputs.sh trained model_small_gbr.skops (seed 1)
TRAINED = {"mrcnn": ("keras", [*TINY_KERAS, "--seed", "3", "--val-fraction", "0.3"]),
           "simple-cnn": ("keras", [*TINY_KERAS, "--seed", "3", "--val-fraction", "0.3"]),
           "kmer-gbr": ("skops", ["--seed", "1"])}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """``trained(arch)``: a model of *arch* trained by mrcnn-train's main() on test-data/train_small.npz, once per
    session (on first use) and shared by every test that needs a freshly trained model (a :class:`TrainRun`)."""
    from mrcnn_tools.cli.train import main as train

    d = tmp_path_factory.mktemp("trained")
    runs = {}

    def get(arch):
        if arch not in runs:
            ext, options = TRAINED[arch]
            model, history = d / f"{arch}.{ext}", d / f"{arch}.history.tsv"
            argv = [bundled("train_small.npz"), "--arch", arch, *options, "--history", history, "-o", model]
            rc, err = run_quietly(train, argv)
            runs[arch] = TrainRun(argv, rc, err, model, history)
        return runs[arch]

    return get
