"""mrcnn-encode on hand-checked toy files and on real data."""

import gzip
import json
import re

import numpy as np
import pytest
from helpers import load, run_main

from mrcnn_tools.cli.encode import main
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.encoding import decode, encode_bytes, extract_windows, n_counts

TOY = {
    "bismark-cov": "toy.bismark.cov",
    "bismark-cpg-report": "toy.CpG_report.txt",
    "bedmethyl": "toy.bedMethyl",
    "methyldackel": "toy.methyldackel.bedGraph",
    "tsv": "toy.tsv",
}
# Worked out by hand from toy.fa = ACGTTCGAACGNNCGTACGA (see test-data/README.md), flank 3, min coverage 2:
# site: (level, coverage, window codes T0 C1 G2 A3 N4)
MERGED = {
    1: (0.75, 4, [4, 4, 3, 2, 0, 0]),
    5: (0.7, 10, [2, 0, 0, 2, 3, 3]),
    9: (0.0, 5, [2, 3, 3, 2, 4, 4]),
    13: (2 / 6, 6, [2, 4, 4, 2, 0, 3]),
    17: (1.0, 2, [2, 0, 3, 2, 3, 4]),
}
# --keep-strands, min coverage 1: minus sites sit on the G and their windows are reverse-complemented
STRANDS = {
    (1, "+"): (0.75, 4, [4, 4, 3, 2, 0, 0]),
    (5, "+"): (5 / 6, 6, [2, 0, 0, 2, 3, 3]),
    (6, "-"): (0.5, 4, [2, 0, 0, 2, 3, 3]),
    (9, "+"): (0.0, 5, [2, 3, 3, 2, 4, 4]),
    (13, "+"): (0.5, 4, [2, 4, 4, 2, 0, 3]),
    (14, "-"): (0.0, 2, [2, 0, 3, 2, 4, 4]),
    (17, "+"): (1.0, 1, [2, 0, 3, 2, 3, 4]),
    (18, "-"): (1.0, 1, [4, 4, 0, 2, 0, 3]),
}


@pytest.mark.parametrize("fmt", sorted(TOY))
def test_toy_formats_merged(td, tmp_path, capsys, fmt):
    out = tmp_path / "toy.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            td / "toy.fa",
            "--calls",
            td / TOY[fmt],
            "--flank",
            3,
            "--min-coverage",
            2,
            "--max-n-fraction",
            1,
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    assert any(f"detected format {fmt}" in e for e in err)
    assert any("not on a C/G 1" in e for e in err)  # the call on a T (README)
    assert any("1 duplicated calls were summed" in e for e in err)
    d = load(out)
    assert str(d["schema"]) == "mrcnn-dataset/1"
    assert d["seq"].dtype == np.uint8 and d["y"].dtype == np.float32 and d["pos"].dtype == np.int64
    assert list(d["pos"]) == sorted(MERGED)
    for i, p in enumerate(d["pos"]):
        level, cov, window = MERGED[p]
        assert d["y"][i] == pytest.approx(level, abs=1e-6)
        assert d["coverage"][i] == cov
        assert list(d["seq"][i]) == window
    assert set(d["strand"]) == {"."}
    assert set(d["cgi"]) == {-1}
    assert list(d["chrom"]) == ["chrT"] * 5


@pytest.mark.parametrize("fmt", ["bismark-cpg-report", "bedmethyl", "bismark-cov"])
def test_toy_keep_strands(td, tmp_path, capsys, fmt):
    out = tmp_path / "toy.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            td / "toy.fa",
            "--calls",
            td / TOY[fmt],
            "--flank",
            3,
            "--keep-strands",
            "--min-coverage",
            1,
            "--max-n-fraction",
            1,
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    d = load(out)
    got = {
        (int(p), s): (float(y), int(c), list(w))
        for p, s, y, c, w in zip(d["pos"], d["strand"], d["y"], d["coverage"], d["seq"])
    }
    assert set(got) == set(STRANDS)
    for key, (level, cov, window) in STRANDS.items():
        assert got[key][0] == pytest.approx(level, abs=1e-6), key
        assert got[key][1:] == (cov, window), key


def test_toy_bedgraph_level_only(td, tmp_path, capsys):
    out = tmp_path / "toy.npz"
    rc, err = run_main(
        main,
        ["--genome", td / "toy.fa", "--calls", td / "toy.bedGraph", "--flank", 3, "--max-n-fraction", 1, "-o", out],
        capsys,
    )
    assert rc == 0, err
    assert any("--min-coverage is not applied" in e for e in err)
    d = load(out)
    # level-only: the calls of a CpG (both strands, duplicates) are averaged
    expected = {1: 0.75, 5: (1 + 0.5 + 0.5) / 3, 9: 0.0, 13: 0.25, 17: 1.0}
    assert dict(zip(d["pos"].tolist(), d["y"].tolist())) == pytest.approx(expected)
    assert (d["coverage"] == 0).all()


def test_toy_n_filter_and_cgi(td, tmp_path, capsys):
    bed = tmp_path / "cgi.bed"
    bed.write_text("chrT\t4\t10\n")
    out = tmp_path / "toy.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            td / "toy.fa",
            "--calls",
            td / "toy.bismark.cov",
            "--flank",
            3,
            "--min-coverage",
            2,
            "--max-n-fraction",
            0,
            "--cgi",
            bed,
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    d = load(out)
    # windows of 9 and 13 reach into the N run at 11-12; those of 1 and 17 reach beyond the chromosome ends,
    # which is not a gap in the sequence and is not counted
    assert list(d["pos"]) == [1, 5, 17]
    assert list(d["cgi"]) == [0, 1, 0]
    assert any("N-rich 2" in e for e in err)


def one_record(fasta_gz):
    """The sequence of a one-record gzip FASTA, upper case, read without the package."""
    with gzip.open(fasta_gz, "rb") as fh:
        raw = fh.read()
    assert raw.startswith(b">") and raw.count(b">") == 1
    return raw[raw.index(b"\n") + 1 :].replace(b"\n", b"").replace(b"\r", b"").upper().decode()


def naive_window(seq, pos, flank, strand):
    """Reference: per-site string slicing with N beyond the ends."""
    padded = "N" * flank + seq + "N" * (flank + 1)
    p = pos + flank
    w = padded[p - flank : p] + padded[p + 1 : p + flank + 1]
    if strand == "-":
        w = w[::-1].translate(str.maketrans("ACGTN", "TGCAN"))
    return w


def test_windows_equal_naive_reference():
    rng = np.random.default_rng(1)
    seq = "".join(rng.choice(list("ACGT"), 5000))
    seq = seq[:1000] + "N" * 300 + seq[1300:4000] + "nacgtRYK" + seq[4008:]
    codes = encode_bytes(seq)
    pos = np.r_[0, 1, 2, len(seq) - 1, len(seq) - 2, 1000, 1299, rng.integers(0, len(seq), 500)]
    strand = rng.choice(["+", "-", "."], len(pos))
    for flank in (1, 7, 200):
        got = extract_windows(codes, pos, flank, strand, chunk=64)
        for p, s, w in zip(pos, strand, got):
            assert decode(w) == naive_window(seq.upper().translate(str.maketrans("RYK", "NNN")), int(p), flank, s)


def test_real_imr90_bismark_on_region_fasta(td, tmp_path, capsys):
    calls = td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"
    # independent count: lines with count_m + count_u >= 5
    expect = sum(1 for ln in open(calls) if int(ln.split()[4]) + int(ln.split()[5]) >= 5)
    out = tmp_path / "r.npz"
    rc, err = run_main(
        main, ["--genome", td / "22_20-21M.fa", "--calls", calls, "--max-n-fraction", 1, "-o", out], capsys
    )
    assert rc == 0, err
    assert any("chr22 -> 22" in e for e in err)
    d = load(out)
    assert len(d["y"]) == expect == 8335
    assert (d["seq"][:, 200] == 2).all()  # the base after the C is the G of the CpG
    assert (d["seq"][:, 199] != 4).mean() > 0.99
    assert not any("not a CpG" in e for e in err)


def test_real_h1_bedmethyl_region(td, tmp_path, capsys):
    calls = td / "rrbsH1hESC_chr22_20-21M.bedMethyl"
    rows = [ln.split("\t") for ln in open(calls) if not ln.startswith("track")]
    cpgs = {int(r[1]) - (r[5] == "-") for r in rows}  # merged site = C on +
    out = tmp_path / "h1.npz"
    rc, err = run_main(
        main,
        ["--genome", td / "22_20-21M.fa", "--calls", calls, "--min-coverage", 0, "--max-n-fraction", 1, "-o", out],
        capsys,
    )
    assert rc == 0, err
    assert len(rows) == 60
    d = load(out)
    assert set(d["pos"].tolist()) == cpgs
    assert d["y"].min() == 0.0


@pytest.mark.slow  # 10 s on a whole chromosome; bgzip FASTA and strand merging stay in the fast tier elsewhere
def test_bedmethyl_chr20_bgzip_merge(td, examples, tmp_path, capsys):
    calls = td / "rrbsH1hESC_hg19_chr20-22Y.bedMethyl"
    rows = [ln.split("\t") for ln in open(calls) if ln.startswith("chr20\t")]
    assert len(rows) == 1660
    merged = {int(r[1]) - (r[5] == "-") for r in rows}
    out = tmp_path / "c20.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            examples / "GRCh37_chr20.fa.gz",
            "--calls",
            calls,
            "--chroms",
            "chr20",
            "--min-coverage",
            0,
            "--max-n-fraction",
            1,
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    assert not any("not a CpG" in e for e in err)
    d = load(out)
    assert len(d["pos"]) == len(merged) < 1660
    assert set(d["pos"].tolist()) == merged


def test_missing_chromosomes_dropped_with_warning_or_refused(td, tmp_path, capsys):
    calls = td / "rrbsH1hESC_hg19_chr20-22Y.bedMethyl"
    out = tmp_path / "x.npz"
    # chr20, chr21 and chrY are not in the chr22 region FASTA: their calls are dropped, said on stderr
    rc, err = run_main(
        main,
        ["--genome", td / "22_20-21M.fa", "--calls", calls, "--min-coverage", 0, "--max-n-fraction", 1, "-o", out],
        capsys,
    )
    assert rc == 0, err
    assert any("absent from the genome" in e and "chr20" in e and "dropped" in e for e in err)
    assert len(load(out)["y"]) == 59  # the 60 region calls, one CpG called on both strands
    rc, err = run_main(
        main,
        [
            "--genome",
            td / "22_20-21M.fa",
            "--calls",
            calls,
            "--skip-missing-chroms",
            "--min-coverage",
            0,
            "--max-n-fraction",
            1,
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0 and not any("absent from the genome" in e for e in err)
    assert len(load(out)["y"]) == 59
    # no call at all on the genome's chromosomes: refused
    out2 = tmp_path / "y.npz"
    rc, err = run_main(main, ["--genome", td / "toy.fa", "--calls", calls, "-o", out2], capsys)
    assert rc == 1 and not out2.exists()
    assert "absent from the genome" in err[-1] and "none on its chromosomes" in err[-1]


# the whole chr20 with its 287 MB of windows is the slow variant; sites only, the same sites, is fast (windows of
# all CpGs are checked against stored ones in test_scale and on 1 Mb in test_no_windows_all_cpgs)
@pytest.mark.parametrize("windows", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_all_cpgs_chr20(examples, tmp_path, capsys, windows):
    # independent count of CG dinucleotides straight from the gzip stream
    seq = one_record(examples / "GRCh37_chr20.fa.gz")
    expect = seq.count("CG")
    assert expect == 717722
    out = tmp_path / "all.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            examples / "GRCh37_chr20.fa.gz",
            "--all-cpgs",
            "--max-n-fraction",
            1,
            *([] if windows else ["--no-windows"]),
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    d = load(out)
    assert len(d["pos"]) == expect
    assert d["seq"].shape == (expect, 400 if windows else 0)
    assert np.isnan(d["y"]).all()
    first, last = int(d["pos"][0]), int(d["pos"][-1])
    assert seq[first : first + 2] == seq[last : last + 2] == "CG"
    assert first == seq.index("CG") and last == seq.rindex("CG")
    if windows:
        assert (d["seq"][:, 200] == 2).all()  # the base after each C is the G of its CpG


def test_imr90_chr22_pieces_n_filter(examples, tmp_path, capsys):
    calls = examples / "IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz"
    out = tmp_path / "c22.npz"
    rc, err = run_main(
        main,
        ["--genome", examples / "GRCh37_chr22_pieces.fa.gz", "--calls", calls, "--max-n-fraction", 0, "-o", out],
        capsys,
    )
    assert rc == 0, err
    summary = next(e for e in err if "calls read" in e)
    assert "not a CpG" not in summary and "outside genome" not in summary
    # independent count: coverage >= 5 and no N in the 400 bases around the C
    seq = one_record(examples / "GRCh37_chr22_pieces.fa.gz")
    kept = 0
    for ln in gzip.open(calls, "rt"):
        c = ln.split("\t")
        p = int(c[1]) - 1
        assert seq[p : p + 2] == "CG"
        if int(c[4]) + int(c[5]) >= 5 and "N" not in seq[p - 200 : p] + seq[p + 1 : p + 201]:
            kept += 1
    d = load(out)
    assert len(d["y"]) == kept
    n_rich = int(re.search(r"N-rich (\d+)", summary)[1])
    assert n_rich > 10000


def test_region_selection_subsample_and_shards(td, tmp_path, capsys):
    calls = td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"
    base = ["--genome", td / "22_20-21M.fa", "--calls", calls, "--region", "chr22:20000001-20300000"]
    rc, _ = run_main(main, base + ["-o", tmp_path / "r.npz"], capsys)
    assert rc == 0
    d = load(tmp_path / "r.npz")
    assert d["pos"].min() >= 20000000 and d["pos"].max() < 20300000
    runs = []
    for name in ("a", "b"):
        rc, _ = run_main(main, base + ["--max-sites", 100, "--seed", 3, "-o", tmp_path / f"{name}.npz"], capsys)
        assert rc == 0
        runs.append(load(tmp_path / f"{name}.npz"))
    assert len(runs[0]["pos"]) == 100 and (runs[0]["pos"] == runs[1]["pos"]).all()
    assert set(runs[0]["pos"]) <= set(d["pos"])
    rc, _ = run_main(main, base + ["--shard-size", 1000, "-o", tmp_path / "sh.npz"], capsys)
    assert rc == 0
    shards = sorted(tmp_path.glob("sh.*.npz"))
    assert len(shards) == -(-len(d["pos"]) // 1000)
    assert (np.concatenate([load(s)["pos"] for s in shards]) == d["pos"]).all()


def test_n_counts_equal_naive():

    rng = np.random.default_rng(5)
    codes = rng.integers(0, 4, 3000).astype(np.uint8)
    for s, e in ((0, 7), (100, 180), (181, 182), (1500, 1900), (2990, 3000)):
        codes[s:e] = 4
    pos = np.r_[0, 5, 6, 7, 150, 2995, 2999, rng.integers(0, 3000, 300)]
    for flank in (1, 10, 200):
        padded = np.r_[np.full(flank, 4), codes, np.full(flank + 1, 4)]
        naive = [
            int((padded[p : p + flank] == 4).sum() + (padded[p + flank + 1 : p + 2 * flank + 1] == 4).sum())
            for p in pos
        ]
        assert n_counts(codes, pos, flank).tolist() == naive
    clean = np.zeros(50, np.uint8)  # no N at all: only the chromosome ends count
    assert n_counts(clean, np.array([0, 25, 49]), 3).tolist() == [3, 0, 3]


def test_no_windows_sites_only(td, tmp_path, capsys):
    calls = td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"
    # independent expectation straight from the Bismark columns: C at start-1, level m/(m+u), coverage >= 5
    expect = {}
    for ln in open(calls):
        c = ln.split("\t")
        m, u = int(c[4]), int(c[5])
        if m + u >= 5:
            expect[int(c[1]) - 1] = (m / (m + u), m + u)
    out = tmp_path / "s.npz"
    rc, err = run_main(
        main,
        ["--genome", td / "22_20-21M.fa", "--calls", calls, "--max-n-fraction", 1, "--no-windows", "-o", out],
        capsys,
    )
    assert rc == 0, err
    d = load(out)
    assert d["seq"].shape == (len(expect), 0) and d["seq"].dtype == np.uint8
    assert sorted(expect) == d["pos"].tolist()
    assert d["y"] == pytest.approx([expect[p][0] for p in d["pos"].tolist()], abs=1e-6)
    assert d["coverage"].tolist() == [expect[p][1] for p in d["pos"].tolist()]

    meta = json.loads(str(d["meta"]))
    assert meta["windows"] is False and meta["flank"] == 200 and meta["genome_checksum"]
    assert out.stat().st_size / len(expect) <= 64
    # the dataset loader accepts it

    assert len(load_dataset(str(out))) == len(expect)


def test_no_windows_all_cpgs(td, tmp_path, capsys):
    seq = "".join(ln.strip() for ln in open(td / "22_20-21M.fa") if not ln.startswith(">")).upper()
    expect = [i for i in range(len(seq) - 1) if seq[i : i + 2] == "CG"]
    out = tmp_path / "a.npz"
    rc, err = run_main(
        main, ["--genome", td / "22_20-21M.fa", "--all-cpgs", "--no-windows", "--max-n-fraction", 1, "-o", out], capsys
    )
    assert rc == 0, err
    d = load(out)
    assert d["seq"].shape == (len(expect), 0)
    assert (d["pos"] - 20000000).tolist() == expect
    assert np.isnan(d["y"]).all()


def test_n_counts_beyond_ends_not_counted():

    codes = np.array([0, 1, 2, 4, 4, 3, 1, 2, 0, 0], np.uint8)  # TCGNNACGTT
    # flank 3: site 1 sees [-2..0] + [2..4] -> N at 3, 4 (and 2 beyond the start); site 6 sees 3..5 + 7..9
    assert n_counts(codes, np.array([1, 6]), 3).tolist() == [4, 2]
    assert n_counts(codes, np.array([1, 6]), 3, beyond_ends=False).tolist() == [2, 2]
