"""Every shell example of README.md and docs/*.md runs, on small data (issue 22: an example that fails fails CI).

Extraction: each fenced block whose info string is ``bash``, ``sh``, ``shell`` or ``console`` (in a console block
only the lines after a ``$`` prompt are commands, continued by a trailing backslash). The line just above the
fence may carry a marker, an HTML comment that GitHub does not show:

    <!-- example: skip REASON -->   never run by the tests; REASON says why (a cluster, an install, the demo)
    <!-- example: slow -->          run by make test-slow only (it takes more than a few seconds)

Each block runs with ``bash -euo pipefail`` in an empty temporary directory of its own, with the installed
commands first on PATH and an environment cleared of the caller's MRCNN_* settings. There, ``test-data/`` and
``examples/`` are session copies of the checkout's (the tools write FASTA indexes beside the FASTA, never into the
checkout), and the file names the documentation uses for the reader's own files (``hg19.fa.gz``, ``mrcnn.keras``,
``sample.cov.gz``, ...) are links to small stand-ins made once per session (:data:`STAND_INS`). A name that the
block writes itself (``-o NAME``, ``--out-dir NAME``) gets no stand-in.
"""

import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from Bio import bgzf

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = ("bash", "sh", "shell", "console")
MARKER = re.compile(r"^<!--\s*example:\s*(?P<kind>\w+)\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<info>[\w+-]*)")
BIN = Path(sys.executable).parent
TIMEOUT = 900


class Block:
    """One fenced shell block: where it is, its commands, and its marker (None, 'skip' or 'slow')."""

    def __init__(self, path, line, info, text, marker, reason):
        self.path, self.line, self.info, self.text, self.marker, self.reason = path, line, info, text, marker, reason

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def script(self):
        """The commands of the block: as written, or for a console block the lines after each ``$`` prompt."""
        if self.info != "console":
            return self.text
        out, going_on = [], False
        for ln in self.text.splitlines():
            if ln.startswith("$ ") or going_on:
                cmd = ln[2:] if ln.startswith("$ ") and not going_on else ln
                out.append(cmd)
                going_on = cmd.rstrip().endswith("\\")
        return "\n".join(out) + "\n"


def extract(path):
    """The shell blocks of a Markdown file, with the marker on the line above each fence."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group("fence"), m.group("info").lower(), i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        if info in SHELLS:
            above = lines[start - 1].strip() if start > 0 else ""
            mk = MARKER.match(above)
            blocks.append(
                Block(
                    path,
                    start + 1,
                    info,
                    "\n".join(body) + "\n",
                    mk and mk.group("kind"),
                    mk.group("reason") if mk else "",
                )
            )
    return blocks


BLOCKS = [b for doc in DOCS for b in extract(doc)]


def _params():
    for b in BLOCKS:
        marks = []
        if b.marker == "skip":
            marks.append(pytest.mark.skip(reason=f"{b.name}: {b.reason}"))
        elif b.marker == "slow":
            marks.append(pytest.mark.slow)
        yield pytest.param(b, id=b.name, marks=marks)


# ---- stand-ins for the reader's own files -------------------------------------------------------------------


def _bgzip_fasta(records, dst):
    """Write *records* ((name, sequence) pairs) as a BGZF FASTA, as bgzip does (the tools refuse plain gzip)."""
    with bgzf.BgzfWriter(str(dst), "wb") as fh:
        for name, seq in records:
            fh.write(f">{name}\n".encode())
            for k in range(0, len(seq), 60):
                fh.write((seq[k : k + 60] + "\n").encode())


def _read_fasta(path):
    name, seq = None, []
    for ln in Path(path).read_text().splitlines():
        if ln.startswith(">"):
            name = ln[1:].split()[0]
        else:
            seq.append(ln.strip())
    return name, "".join(seq)


def _every(path, step, rename=None):
    """Every *step*-th data line of a (gzipped) text file, with the chromosome renamed where asked."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        rows = [ln for ln in fh if ln.strip() and not ln.startswith(("#", "track"))]
    rows = rows[::step]
    if rename:
        rows = [rename + ln[ln.index("\t") :] for ln in rows]
    return rows


def _hg19(d, data, td):
    # hg19 chr22 at its true coordinates (real bases in pieces, N elsewhere), the genome of sample.cov.gz
    return data / "GRCh37_chr22_pieces.fa.gz"


def _sample_cov(d, data, td):
    # IMR90 WGBS on hg19 chr22 24-35 Mb, every 20th call: the README's region split in seconds of training
    dst = d / "sample.cov.gz"
    with gzip.open(dst, "wt") as fh:
        fh.writelines(_every(data / "IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz", 20))
    return dst


def _hg38(d, data, td):
    # two chromosomes, so that --val-chroms chr8 holds one out: the 1 Mb of chr22 in test-data, and a copy as chr8
    name, seq = _read_fasta(td / "22_20-21M.fa")
    dst = d / "hg38.fa.gz"
    _bgzip_fasta([(name, seq), ("8" + name[name.index(":") :], seq)], dst)
    return dst


def _sample_hg38(d, data, td):
    rows = _every(td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov", 8)
    dst = d / "sample_hg38.cov.gz"
    with gzip.open(dst, "wt") as fh:
        fh.writelines(rows + [("chr8" + r[r.index("\t") :]) for r in rows])
    return dst


def _simple_keras(d, data, td):
    dst = d / "simple.keras"
    subprocess.run(
        [
            str(BIN / "mrcnn-train"),
            str(td / "train_small.npz"),
            "--arch",
            "simple-cnn",
            "--filters",
            "4",
            "--dense-units",
            "8",
            "--epochs",
            "1",
            "--seed",
            "1",
            "-q",
            "-o",
            str(dst),
        ],
        check=True,
        env=_env(d),
        cwd=d,
        timeout=TIMEOUT,
    )
    return dst


def _my_motifs(d, data, td):
    # a motif database in MEME minimal format: the CTCF core (JASPAR MA0139-like counts, rounded)
    rows = [
        "0.10 0.40 0.10 0.40",
        "0.20 0.10 0.60 0.10",
        "0.05 0.01 0.93 0.01",
        "0.30 0.10 0.50 0.10",
        "0.01 0.98 0.00 0.01",
        "0.80 0.10 0.05 0.05",
        "0.01 0.98 0.00 0.01",
        "0.01 0.40 0.01 0.58",
        "0.05 0.05 0.85 0.05",
        "0.05 0.05 0.85 0.05",
    ]
    dst = d / "my_motifs.meme"
    dst.write_text(
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n"
        "A 0.25 C 0.25 G 0.25 T 0.25\n\nMOTIF CTCF_core\nletter-probability matrix: alength= 4 w= "
        f"{len(rows)} nsites= 100 E= 0\n" + "\n".join(rows) + "\n"
    )
    return dst


def _test_data(name):
    return lambda d, data, td: td / name


# name in the docs -> how its stand-in is made (from the session copies of examples/data and test-data)
STAND_INS = {
    "hg19.fa.gz": _hg19,
    "sample.cov.gz": _sample_cov,
    "hg38.fa.gz": _hg38,
    "sample_hg38.cov.gz": _sample_hg38,
    "mrcnn.keras": _test_data("model_small.keras"),
    "simple.keras": _simple_keras,
    "model.keras": _test_data("model_small.keras"),
    "train.npz": _test_data("train_small.npz"),
    "test.npz": _test_data("test_small.npz"),
    "mrcnn.tsv": _test_data("pred_small.tsv"),
    "simple.tsv": _test_data("pred_small.tsv"),
    "gbr.tsv": _test_data("pred_small_gbr.tsv"),
    "my_motifs.meme": _my_motifs,
}


def _env(home):
    """The environment of a block: the caller's, less the settings that change what the tools do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MRCNN_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HOME=str(home),
        OMP_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        LC_ALL="C.UTF-8",
    )
    env.pop("TERM", None)
    return env


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """Session copies of test-data/ and examples/ (data copied, the rest linked) and a lazily filled stand-ins
    directory; returns ``provide(name) -> path``."""
    base = tmp_path_factory.mktemp("docs-examples")
    td = base / "test-data"
    shutil.copytree(ROOT / "test-data", td, ignore=shutil.ignore_patterns("*.fai", "*.gzi", "*.codes", "*.codes.json"))
    ex = base / "examples"
    ex.mkdir()
    for entry in (ROOT / "examples").iterdir():
        if entry.name == "data":
            shutil.copytree(entry, ex / "data", ignore=shutil.ignore_patterns("*.fai", "*.gzi", "*.codes*"))
        else:
            (ex / entry.name).symlink_to(entry)
    stand = base / "stand-ins"
    stand.mkdir()
    made = {}

    def provide(name):
        if name not in made:
            made[name] = STAND_INS[name](stand, ex / "data", td)
        return made[name]

    provide.base = base
    return provide


def _outputs(script):
    """Names a block writes itself (``-o NAME``, ``--output NAME``, ``--out-dir NAME``, ``> NAME``)."""
    return set(re.findall(r"(?:-o|--output|--out-dir|--bigwig|--history|>)\s+([^\s;|&]+)", script))


def _needed(script):
    written = {w.rstrip("/") for w in _outputs(script)}
    return [n for n in STAND_INS if n not in written and re.search(rf"(?<![\w./-]){re.escape(n)}(?![\w-])", script)]


@pytest.mark.parametrize("block", list(_params()))
def test_example_runs(block, sandbox, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for shared in ("test-data", "examples"):
        (work / shared).symlink_to(sandbox.base / shared)
    for name in _needed(block.script()):
        (work / name).symlink_to(sandbox(name))
    script = block.script()
    p = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert p.returncode == 0, (
        f"{block.name} failed (exit {p.returncode}) in {work}:\n{script}\n--- stderr (end) ---\n{p.stderr[-3000:]}"
    )


# ---- the extractor and the markers themselves ----------------------------------------------------------------


def test_docs_have_shell_examples():
    assert any(b.path.name == "README.md" for b in BLOCKS)
    assert len(BLOCKS) >= 8, [b.name for b in BLOCKS]


def test_every_marker_is_known_and_every_skip_says_why():
    bad = [f"{b.name}: {b.marker}" for b in BLOCKS if b.marker not in (None, "skip", "slow")]
    bad += [f"{b.name}: skip without a reason" for b in BLOCKS if b.marker == "skip" and len(b.reason) < 10]
    assert not bad, bad


def test_no_marker_is_left_detached():
    """A marker that is not on the line just above a shell fence would silently mark nothing."""
    loose = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for i, ln in enumerate(lines):
            if MARKER.match(ln.strip()):
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                m = FENCE.match(nxt)
                if not m or m.group("info").lower() not in SHELLS:
                    loose.append(f"{doc.relative_to(ROOT)}:{i + 1}")
    assert not loose, loose


def test_console_blocks_run_their_prompt_lines_only():
    b = Block(ROOT / "README.md", 1, "console", "$ echo a \\\n  b\na b\n$ true\n", None, "")
    assert b.script() == "echo a \\\n  b\ntrue\n"


def test_stand_ins_are_given_to_inputs_only():
    script = "mrcnn-encode --genome hg19.fa.gz --calls sample.cov.gz -o train.npz\nmrcnn-train train.npz -o m.keras\n"
    assert _needed(script) == ["hg19.fa.gz", "sample.cov.gz"]
    assert _needed("mrcnn-predict -m mrcnn.keras test.npz | mrcnn-eval - --out-dir eval/\n") == [
        "mrcnn.keras",
        "test.npz",
    ]
