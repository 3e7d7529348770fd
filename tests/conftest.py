import os
import shutil
import threading

# OpenMP pools (scikit-learn's HistGradientBoosting) spin while they wait: on a loaded 2-core machine a k-mer GBR
# fit then burnt 10-40x the CPU of a one-thread fit (24-38 s instead of 1-2.5 s). Set before anything loads
# OpenMP, whatever the caller's environment says (the suite does not depend on it); child processes inherit it.
os.environ["OMP_NUM_THREADS"] = "1"

import pytest  # noqa: E402
from helpers import EXAMPLES, TEST_DATA, TINY_KERAS, TrainRun, bundled, reset_logger, run_quietly  # noqa: E402

from mrcnn_tools.cli.train import main as train


@pytest.fixture(autouse=True, scope="session")
def _plain_environment():
    """Tests do not depend on the caller's environment: no MRCNN_* setting (MRCNN_CACHE_DIR moves the genome codes
    away from the FASTA that tests look beside; MRCNN_PORT), TF_CONFIG or Slurm job variable (make test run inside
    an allocation) reaches a test, a session fixture or a command a test starts."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("MRCNN_", "SLURM_")) or key == "TF_CONFIG":
                mp.delenv(key)
        yield


@pytest.fixture(autouse=True)
def _fresh_logger():
    """Each command run in-process points the package logger at that test's stderr; undo it afterwards so that a
    later test neither writes to a closed stream nor misses records that caplog should see."""
    yield
    reset_logger()


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


@pytest.fixture
def fifo(tmp_path):
    """``fifo(data, name)``: a named pipe (what bash's ``<(zcat ...)`` gives a command) that a thread fills with
    *data* once; the path is returned. Should the reader open it a second time, a watchdog ends that open with an
    EOF after 120 s instead of hanging the suite."""
    threads = []

    def make(data, name="input.fifo"):
        path = tmp_path / name
        os.mkfifo(path)

        def feed():
            with open(path, "wb") as fh:
                fh.write(data)

        writer = threading.Thread(target=feed, daemon=True)
        watchdog = threading.Timer(120, lambda: open(path, "wb").close())
        watchdog.daemon = True
        writer.start()
        watchdog.start()
        threads.append((writer, watchdog))
        return path

    yield make
    for writer, watchdog in threads:
        watchdog.cancel()
        writer.join(5)


# per architecture: model suffix and options. Keras: tiny and 30% held out (random 10-kb blocks, so that some
# validation sites leak); kmer-gbr: as test-data/make_galaxy_inputs.sh trained model_small_gbr.skops (seed 1)
TRAINED = {
    "mrcnn": ("keras", [*TINY_KERAS, "--seed", "3", "--val-fraction", "0.3"]),
    "simple-cnn": ("keras", [*TINY_KERAS, "--seed", "3", "--val-fraction", "0.3"]),
    "kmer-gbr": ("skops", ["--seed", "1"]),
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """``trained(arch)``: a model of *arch* trained by mrcnn-train's main() on test-data/train_small.npz, once per
    session (on first use) and shared by every test that needs a freshly trained model (a :class:`TrainRun`)."""

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
