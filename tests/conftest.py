import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "test-data"
EXAMPLES = ROOT / "examples" / "data"


@pytest.fixture(autouse=True)
def _fresh_logger():
    """Each command run in-process points the package logger at that test's stderr; undo it afterwards so that a
    later test neither writes to a closed stream nor misses records that caplog should see."""
    yield
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
