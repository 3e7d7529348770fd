"""Each command as typed in a terminal (issue 22): progress bars draw only where stderr is a terminal, so logs,
pipes and CI never ran the code that draws them (``mrcnn-predict --genome`` crashed on a tqdm bar in every
terminal while every test passed).

Here stdin, stdout and stderr are a pseudo-terminal (100 columns x 30 lines) and each command must exit 0 and write
its outputs. Fast tier: the command's main() in this process with its streams on the pseudo-terminal. Slow tier: the
installed command as a child process whose controlling terminal is the pseudo-terminal, as a shell starts it.
Inputs are copies of test-data/ (the tools write FASTA indexes beside the FASTA); the caller's MRCNN_* settings are
removed and TERM is set, so the caller's environment changes nothing.
"""

import contextlib
import fcntl
import importlib
import logging
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROWS, COLS = 30, 100

MODULES = {
    "mrcnn-encode": "mrcnn_tools.cli.encode",
    "mrcnn-train": "mrcnn_tools.cli.train",
    "mrcnn-predict": "mrcnn_tools.cli.predict",
    "mrcnn-eval": "mrcnn_tools.cli.evaluate",
    "mrcnn-filters2meme": "mrcnn_tools.cli.filters2meme",
}

TINY = ["--filters", "4", "--dense-units", "8", "--batch-size", "64", "--epochs", "2", "--seed", "1"]

# case -> (command line, with {td} = the copy of test-data and {out} = an empty directory; files it must write).
# Output directories that do not exist yet are what a user types first (--out-dir is created with its parents).
CASES = {
    "encode": (
        ["mrcnn-encode", "--genome", "{td}/22_20-21M.fa", "--calls", "{td}/IMR90_r1_chr22_20-21M_GRCh37.bismark.cov",
         "--cgi", "{td}/cpgIslands_hg19_chr22_20-21M.bed", "--region", "chr22:20000001-20300000", "--context", "2",
         "-o", "{out}/train.npz"],
        ["train.npz"],
    ),
    "train-mrcnn": (
        ["mrcnn-train", "{td}/train_small.npz", "--arch", "mrcnn", *TINY, "--history", "{out}/h.tsv",
         "-o", "{out}/m.keras"],
        ["m.keras", "h.tsv"],
    ),
    "train-kmer-gbr": (
        ["mrcnn-train", "{td}/train_small.npz", "--arch", "kmer-gbr", "--seed", "1", "--history", "{out}/g.tsv",
         "-o", "{out}/g.skops"],
        ["g.skops", "g.tsv"],
    ),
    "predict-dataset": (
        ["mrcnn-predict", "-m", "{td}/model_small.keras", "{td}/test_small.npz", "-o", "{out}/p.tsv",
         "--bigwig", "{out}/p.bw"],
        ["p.tsv", "p.bw"],
    ),
    "predict-dataset-to-terminal": (
        ["mrcnn-predict", "-m", "{td}/model_small_gbr.skops", "{td}/test_small.npz"],
        [],
    ),
    "predict-genome": (
        ["mrcnn-predict", "-m", "{td}/model_small.keras", "--genome", "{td}/22_20-21M.fa",
         "--region", "22:20000001-20200000", "--output-format", "bedgraph", "-o", "{out}/g.bedGraph.gz",
         "--bigwig", "{out}/g.bw"],
        ["g.bedGraph.gz", "g.bw"],
    ),
    "predict-genome-tsv": (
        ["mrcnn-predict", "-m", "{td}/model_small.keras", "--genome", "{td}/22_20-21M.fa",
         "--region", "chr22:20600001-20700000", "-o", "{out}/g.tsv"],
        ["g.tsv"],
    ),
    "eval": (
        ["mrcnn-eval", "{td}/pred_small.tsv", "{td}/pred_small_gbr.tsv", "--labels", "mrcnn,kmer-gbr",
         "--out-dir", "{out}/eval/new"],
        ["eval/new/metrics.tsv", "eval/new/roc.png"],
    ),
    "filters2meme": (
        ["mrcnn-filters2meme", "-m", "{td}/model_small.keras", "{td}/train_small.npz", "--sites-per-group", "60",
         "--tsne", "{out}/motifs/tsne.png", "--out-dir", "{out}/motifs"],
        ["motifs/motifs.meme", "motifs/motifs.tsv"],  # no tsne.png: train_small has 4 hypo sites (t-SNE needs 25)
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def td(tmp_path_factory):
    dst = tmp_path_factory.mktemp("terminal") / "td"
    shutil.copytree(ROOT / "test-data", dst, ignore=shutil.ignore_patterns("*.fai", "*.gzi", "*.codes*"))
    return dst


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for key in [k for k in os.environ if k.startswith("MRCNN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(COLS))
    monkeypatch.setenv("LINES", str(ROWS))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield
    log = logging.getLogger("mrcnn_tools")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.setLevel(logging.NOTSET)
    log.propagate = True


def _argv(case, td, out):
    argv, files = CASES[case]
    return [a.format(td=td, out=out) for a in argv], files


def _open_terminal():
    """A pseudo-terminal of ROWS x COLS: (controller fd, terminal fd)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return controller, terminal


def _drain(fd, sink):
    """Read what the terminal shows until every writer has closed it (EIO on Linux)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.extend(chunk)


def _screen(raw):
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    return "\n".join(ln.rsplit("\r", 1)[-1] for ln in text.split("\n"))


def _check(case, rc, shown, out, files):
    screen = _screen(shown)
    assert rc == 0, f"{case}: exit {rc} in a terminal; the terminal showed (end):\n{screen[-3000:]}"
    assert "Traceback" not in screen, screen[-3000:]
    for name in files:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, f"{case}: {name} not written\n{screen}"
    if case == "predict-dataset-to-terminal":
        assert "#chrom\tstart\tend" in screen.replace("\r", "")


def _run_in_process(argv):
    """main(argv[1:]) of the command with stdin, stdout and stderr on a pseudo-terminal; (exit code, bytes shown)."""
    main = importlib.import_module(MODULES[argv[0]]).main
    controller, terminal = _open_terminal()
    shown = bytearray()
    reader = threading.Thread(target=_drain, args=(controller, shown), daemon=True)
    reader.start()
    streams = [open(terminal, mode, buffering=1, encoding="utf-8", closefd=False) for mode in ("r", "w", "w")]
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_swap("stdin", streams[0]))
            stack.enter_context(contextlib.redirect_stdout(streams[1]))
            stack.enter_context(contextlib.redirect_stderr(streams[2]))
            rc = main(argv[1:])
    finally:
        for s in streams:
            with contextlib.suppress(OSError, ValueError):
                s.flush()
            s.close()
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    return rc, bytes(shown)


@contextlib.contextmanager
def _swap(name, stream):
    old = getattr(sys, name)
    setattr(sys, name, stream)
    try:
        yield
    finally:
        setattr(sys, name, old)


def _become_terminal_session():
    """In the child: a session of its own whose controlling terminal is the pseudo-terminal (stdin)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _run_child(argv, cwd, timeout=600):
    """The installed command as a shell in a terminal starts it; (exit code, bytes shown)."""
    controller, terminal = _open_terminal()
    shown = bytearray()
    try:
        p = subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=cwd,
            env=dict(os.environ),
            preexec_fn=_become_terminal_session,
        )
    finally:
        os.close(terminal)
    reader = threading.Thread(target=_drain, args=(controller, shown), daemon=True)
    reader.start()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    reader.join(timeout=30)
    os.close(controller)
    return rc, bytes(shown)


# training the paper's network in a terminal is the slow case (5 s); train-kmer-gbr keeps a training's bar fast
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c == "train-mrcnn" else c for c in CASES])
def test_command_in_a_terminal(case, td, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    argv, files = _argv(case, td, out)
    rc, shown = _run_in_process(argv)
    _check(case, rc, shown, out, files)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_installed_command_in_a_terminal(case, td, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    argv, files = _argv(case, td, out)
    rc, shown = _run_child(argv, cwd=tmp_path)
    _check(case, rc, shown, out, files)


def test_the_terminal_is_one():
    """The harness itself: what runs under it sees a terminal of the set size on stdin, stdout and stderr."""
    controller, terminal = _open_terminal()
    try:
        assert os.isatty(terminal) and os.get_terminal_size(terminal) == os.terminal_size((COLS, ROWS))
    finally:
        os.close(terminal)
        os.close(controller)
