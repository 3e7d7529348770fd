"""Bad input: exit 1, one line on stderr naming the file (and line), and no output file."""

import gzip

import pytest
from helpers import run_main

from mrcnn_tools.cli.encode import main

COV = "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"


def _bad(td, tmp_path, capsys, calls, genome=None, extra=()):
    out = tmp_path / "out.npz"
    rc, err = run_main(main, ["--genome", genome or td / "22_20-21M.fa", "--calls", calls, *extra, "-o", out], capsys)
    assert rc == 1, err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.npz*")), "temporary file left behind"
    errors = [e for e in err if "error:" in e]
    assert len(errors) == 1 and len(err) <= 3, err
    assert not any("Traceback" in e for e in err)
    return errors[0]


def _write(path, lines):
    path.write_text("".join(ln + "\n" for ln in lines))
    return path


def test_empty_file(td, tmp_path, capsys):
    msg = _bad(td, tmp_path, capsys, _write(tmp_path / "empty.cov", []))
    assert "empty.cov" in msg and "empty" in msg


def test_truncated_gzip(td, tmp_path, capsys):
    data = gzip.compress((td / COV).read_bytes())
    bad = tmp_path / "trunc.cov.gz"
    bad.write_bytes(data[: len(data) // 2])
    msg = _bad(td, tmp_path, capsys, bad)
    assert "trunc.cov.gz" in msg and ("truncated" in msg or "corrupt" in msg)


def test_wrong_column_count(td, tmp_path, capsys):
    lines = (td / COV).read_text().splitlines()[:20]
    lines[7] += "\textra"
    msg = _bad(td, tmp_path, capsys, _write(tmp_path / "cols.cov", lines))
    assert "cols.cov, line 8" in msg and "columns" in msg


@pytest.mark.parametrize("col,value,word", [(4, "abc", "not a number"), (5, "-3", "below"), (3, "150", "above 100")])
def test_bad_values(td, tmp_path, capsys, col, value, word):
    lines = [ln.split("\t") for ln in (td / COV).read_text().splitlines()[:20]]
    lines[4][col] = value
    msg = _bad(
        td,
        tmp_path,
        capsys,
        _write(tmp_path / "vals.cov", ["\t".join(r) for r in lines]),
        extra=["--calls-format", "bismark-cov"],
    )
    assert "vals.cov, line 5" in msg and word in msg


def test_missing_fasta(td, tmp_path, capsys):
    msg = _bad(td, tmp_path, capsys, td / COV, genome=tmp_path / "nope.fa")
    assert "nope.fa" in msg and "does not exist" in msg


def test_plain_gzip_fasta_refused(td, tmp_path, capsys):
    gz = tmp_path / "plain.fa.gz"
    gz.write_bytes(gzip.compress((td / "toy.fa").read_bytes()))
    msg = _bad(td, tmp_path, capsys, td / "toy.bismark.cov", genome=gz)
    assert "bgzip" in msg and "decompress" in msg


def test_shifted_by_one(td, tmp_path, capsys):
    rows = [ln.split("\t") for ln in (td / COV).read_text().splitlines()]
    shifted = ["\t".join([r[0], str(int(r[1]) - 1), str(int(r[2]) - 1), *r[3:]]) for r in rows]
    msg = _bad(td, tmp_path, capsys, _write(tmp_path / "shift.cov", shifted))
    assert "Shifting positions by +1" in msg and "0-based" in msg


def test_other_assembly(td, tmp_path, capsys):
    rows = [ln.split("\t") for ln in (td / COV).read_text().splitlines()]
    moved = ["\t".join([r[0], str(int(r[1]) + 1_000_000 - 600_000), str(int(r[2]) + 400_000), *r[3:]]) for r in rows]
    msg = _bad(td, tmp_path, capsys, _write(tmp_path / "asm.cov", moved))
    assert "another assembly" in msg


def test_output_directory_missing(td, tmp_path, capsys):
    out = tmp_path / "nodir" / "x.npz"
    rc, err = run_main(main, ["--genome", td / "22_20-21M.fa", "--calls", td / COV, "-o", out], capsys)
    assert rc == 1 and "does not exist" in err[-1] and not out.parent.exists()


def test_usage_error_exit_2(td, tmp_path, capsys):
    rc, err = run_main(
        main,
        ["--genome", td / "toy.fa", "--calls", td / "toy.tsv", "--flank", "zero", "-o", tmp_path / "x.npz"],
        capsys,
    )
    assert rc == 2
