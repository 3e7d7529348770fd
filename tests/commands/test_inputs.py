"""Real inputs: files written by the callers themselves (test-data/formats, see its README) and the variants users
meet. Every expectation is computed here from the producer's documented columns, never by the reader's code."""

import fnmatch
import gzip
import io
import json
import re
import shutil
from collections import defaultdict

import pytest
from helpers import ROOT, load, run_main, shared_data

from mrcnn_tools.calls.formats import PRODUCERS
from mrcnn_tools.cli.encode import main
from mrcnn_tools.data.dataset import load_dataset

FMT = ROOT / "test-data" / "formats"


@pytest.fixture(autouse=True)
def fmt_copy(tmp_path, monkeypatch):
    """The real files in a writable copy: the FASTA index is written beside the FASTA."""
    dst = tmp_path / "formats"
    shutil.copytree(FMT, dst)
    monkeypatch.setitem(globals(), "FMT", dst)


def fasta_seq(path):
    """{record: sequence} of a small FASTA, upper case."""
    seqs, name = {}, None
    for ln in open(path):
        if ln.startswith(">"):
            name = ln[1:].split()[0]
            seqs[name] = []
        elif name:
            seqs[name].append(ln.strip().upper())
    return {k: "".join(v) for k, v in seqs.items()}


def encode(tmp_path, capsys, genome, calls, *extra, flank=3):
    out = tmp_path / "o.npz"
    rc, err = run_main(
        main, ["--genome", genome, "--calls", calls, "--flank", flank, "--max-n-fraction", 1, "-o", out, *extra], capsys
    )
    return rc, err, (load(out) if rc == 0 else None)


def got_sites(d, strands=False):
    """{(chrom, pos[, strand]): (level, coverage)} of a dataset."""
    keys = zip(d["chrom"], d["pos"].tolist(), d["strand"]) if strands else zip(d["chrom"], d["pos"].tolist())
    return {k if strands else k[:2]: (float(y), int(c)) for k, y, c in zip(keys, d["y"], d["coverage"])}


def merged(calls, min_cov=1):
    """Naive strand merge: calls {(chrom, pos0, strand): (m, u)} -> {(chrom, C position): (level, coverage)}."""
    acc = defaultdict(lambda: [0, 0])
    for (chrom, p, s), (m, u) in calls.items():
        key = (chrom, p - 1 if s == "-" else p)
        acc[key][0] += m
        acc[key][1] += u
    # coverage is a number of reads: whole even where m was rebuilt from a percentage
    return {k: (m / (m + u), round(m + u)) for k, (m, u) in acc.items() if round(m + u) >= min_cov}


def assert_sites(got, expect):
    assert set(got) == set(expect)
    for k, (level, cov) in expect.items():
        assert got[k][0] == pytest.approx(level, abs=1e-6), k
        assert got[k][1] == cov, k


def on_cpg(seq, p, strand):
    return seq[p : p + 2] == "CG" if strand == "+" else p >= 1 and seq[p - 1 : p + 1] == "CG"


# --- Bismark coverage2cytosine (real outputs of the Perl tool, with their genomes) -----------------------------


def bismark_report_expect(path):
    calls = {}
    for ln in open(path):
        c = ln.rstrip("\n").split("\t")
        if c[5] == "CG":  # the context column; the pos is the C of its strand, 1-based
            calls[(c[0], int(c[1]) - 1, c[2])] = (int(c[3]), int(c[4]))
    return merged(calls)


@pytest.mark.parametrize("name", ["bismark_ffs.CpG_report.txt", "bismark_ffs.CX_report.txt"])
def test_bismark_ffs_and_cx_reports(tmp_path, capsys, name):
    rc, err, d = encode(tmp_path, capsys, FMT / "bismark_c2c_main.fa", FMT / name, "--min-coverage", 1)
    assert rc == 0, err
    assert any("detected format bismark-cpg-report" in e for e in err)
    expect = bismark_report_expect(FMT / name)
    assert_sites(got_sites(d), expect)
    assert len(expect) == 3
    if "CX" in name:
        n_other = sum(1 for ln in open(FMT / name) if ln.split("\t")[5] != "CG")
        assert n_other == 10
        assert any(f"{n_other} calls outside CpG context" in e for e in err)


def test_bismark_merged_cpg_cov_is_one_based_c(tmp_path, capsys):
    # the merged .cov (2 bp, 1-based) written by the same run as the CpG report: both must give the same sites
    cov = FMT / "bismark_merge.merged_CpG_evidence.cov"
    rc, err, d = encode(tmp_path, capsys, FMT / "bismark_c2c_merge.fa", cov, "--keep-strands", "--min-coverage", 1)
    assert rc == 0, err
    assert any("detected format bismark-merged-cov" in e for e in err)
    seq = fasta_seq(FMT / "bismark_c2c_merge.fa")["chr1"]
    expect = {}
    for ln in open(cov):
        c = ln.split("\t")
        p = int(c[1]) - 1
        assert seq[p : p + 2] == "CG" and int(c[2]) == int(c[1]) + 1
        expect[(c[0], p, "+")] = (int(c[4]) / (int(c[4]) + int(c[5])), int(c[4]) + int(c[5]))
    assert_sites(got_sites(d, strands=True), expect)
    report = bismark_report_expect(FMT / "bismark_merge.CpG_report.txt")
    assert set(report) == {(k[0], k[1]) for k in expect}
    for (chrom, p, _), (level, cov) in expect.items():
        assert report[(chrom, p)][0] == pytest.approx(level) and report[(chrom, p)][1] == cov


# --- modkit pileup (real test resources of nanoporetech/modkit, with the oligo reference) ----------------------


def modkit_expect(path, code="m", keep_strands=False):
    seq = fasta_seq(FMT / "modkit_oligo_1512_adapters.fa")["oligo_1512_adapters"]
    calls = {}
    for ln in open(path):
        c = ln.split()
        if c[0] == "chrom" or c[3] != code:
            continue
        p, s = int(c[1]), c[5]
        if not on_cpg(seq, p, s):
            continue
        valid, nmod = int(c[9]), int(c[11])  # Nvalid_cov, Nmod of this code
        calls[(c[0], p, s)] = (nmod, valid - nmod)
    if keep_strands:
        return {k: (m / (m + u), m + u) for k, (m, u) in calls.items() if m + u >= 1}
    return merged(calls)


@pytest.mark.parametrize("name", ["modkit_pileup_with_header.bed", "modkit_bc_anchored_10_reads_nofilt_cg_motif.bed"])
def test_modkit_h_and_m_rows(tmp_path, capsys, name):
    path = FMT / name
    if "motif" in name:  # columns after the 10th separated by spaces, as modkit's own resources
        assert " 50.00 2 1 1 0 0 2 0" in path.read_text()
    rc, err, d = encode(tmp_path, capsys, FMT / "modkit_oligo_1512_adapters.fa", path, "--min-coverage", 1)
    assert rc == 0, err
    assert any("detected format modkit" in e for e in err)
    assert any("h (5hmC)" in e and "m (5mC)" in e and "level of m" in e for e in err)
    expect = modkit_expect(path)
    assert len(expect) == 11
    assert_sites(got_sites(d), expect)


def test_modkit_mod_code_h_and_keep_strands(tmp_path, capsys):
    path = FMT / "modkit_pileup_with_header.bed"
    rc, err, d = encode(
        tmp_path,
        capsys,
        FMT / "modkit_oligo_1512_adapters.fa",
        path,
        "--min-coverage",
        1,
        "--mod-code",
        "h",
        "--keep-strands",
    )
    assert rc == 0, err
    assert_sites(got_sites(d, strands=True), modkit_expect(path, "h", keep_strands=True))
    rc, err, d = encode(tmp_path, capsys, FMT / "modkit_oligo_1512_adapters.fa", path, "--mod-code", "a")
    assert rc == 1 and "codes seen" in err[-1] and "--mod-code" in err[-1]


def test_modkit_all_context_accepted(tmp_path, capsys):
    # the header file is an all-context pileup: calls on C/G outside CpGs are dropped and counted, not refused
    path = FMT / "modkit_pileup_with_header.bed"
    seq = fasta_seq(FMT / "modkit_oligo_1512_adapters.fa")["oligo_1512_adapters"]
    rows = [ln.split() for ln in open(path) if not ln.startswith("chrom")]
    m_rows = [r for r in rows if r[3] == "m"]
    outside = sum(
        1 for r in m_rows if seq[int(r[1])] == ("C" if r[5] == "+" else "G") and not on_cpg(seq, int(r[1]), r[5])
    )
    assert outside == 5 and len(m_rows) == 26
    rc, err, d = encode(tmp_path, capsys, FMT / "modkit_oligo_1512_adapters.fa", path, "--min-coverage", 1)
    assert rc == 0, err
    assert any(f"outside CpG context {outside}" in e for e in err)


def test_modkit_combined_mods_code_c(tmp_path, capsys, td):
    # --combine-mods writes code C only: read by default, level = Nmod / Nvalid_cov
    fa = td / "toy.fa"  # ACGTTCGAACGNNCGTACGA
    rows = [("chrT", 1, "+", 10, 7), ("chrT", 2, "-", 4, 1), ("chrT", 5, "+", 6, 0)]
    path = tmp_path / "combined.bed"
    path.write_text(
        "".join(
            f"{c}\t{p}\t{p + 1}\tC,CG,0\t{v}\t{s}\t{p}\t{p + 1}\t255,0,0\t{v}\t{100 * m / v:.2f}\t{m}"
            f"\t{v - m}\t0\t0\t1\t0\t0\n"
            for c, p, s, v, m in rows
        )
    )
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1)
    assert rc == 0, err
    assert any("level of C" in e for e in err)
    # the - call at 2 is the G of the CpG at 1: (7 + 1) / (10 + 4)
    assert_sites(got_sites(d), {("chrT", 1): (8 / 14, 14), ("chrT", 5): (0.0, 6)})


# --- modbam2bed (extended output; column 10 is read depth, not the denominator) ---------------------------------


def test_modbam2bed_level_from_columns_12_13(tmp_path, capsys, td):
    # depth (col 10) includes filtered/substituted/deleted reads; level = Nmod / (Ncanon + Nmod)
    rows = [("chrT", 1, "+", 20, 3, 9, 8), ("chrT", 5, "+", 12, 6, 2, 4), ("chrT", 6, "-", 9, 1, 7, 1)]
    path = tmp_path / "m2b.bed"
    path.write_text(
        "".join(
            f"{c}\t{p}\t{p + 1}\t5mC\t{1000 * (ca + mo) // d}\t{s}\t{p}\t{p + 1}\t0,0,0\t{d}\t"
            f"{100 * mo / (ca + mo):.2f}\t{ca}\t{mo}\t{fi}\n"
            for c, p, s, d, ca, mo, fi in rows
        )
    )
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--min-coverage", 1)
    assert rc == 0, err
    assert any("detected format modbam2bed" in e for e in err)
    assert_sites(got_sites(d), {("chrT", 1): (9 / 12, 12), ("chrT", 5): ((2 + 7) / (8 + 8), 16)})


# --- bedGraph, count tables, stdin, TSV -----------------------------------------------------------------------


def test_bedgraph_fractions_and_level_scale(tmp_path, capsys, td):
    path = tmp_path / "frac.bedGraph"
    path.write_text("chrT\t1\t2\t0.75\nchrT\t5\t6\t0.5\nchrT\t9\t10\t1\n")
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path)
    assert rc == 0, err
    assert any("fractions (0-1)" in e for e in err)
    assert dict(zip(d["pos"].tolist(), d["y"].tolist())) == pytest.approx({1: 0.75, 5: 0.5, 9: 1.0})
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--level-scale", "percent")
    assert rc == 0, err
    assert dict(zip(d["pos"].tolist(), d["y"].tolist())) == pytest.approx({1: 0.0075, 5: 0.005, 9: 0.01})
    pct = tmp_path / "pct.bedGraph"
    pct.write_text("chrT\t1\t2\t75\nchrT\t5\t6\t0.5\n")  # one value above 1 makes the whole column percent
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", pct)
    assert rc == 0 and any("percent (0-100)" in e for e in err)
    assert dict(zip(d["pos"].tolist(), d["y"].tolist())) == pytest.approx({1: 0.75, 5: 0.005})


def test_bedgraph_end_not_after_start(tmp_path, capsys, td):
    path = tmp_path / "bad.bedGraph"
    path.write_text("track type=bedGraph\nchrT\t1\t2\t75\nchrT\t5\t5\t50\n")
    rc, err, _ = encode(tmp_path, capsys, td / "toy.fa", path)
    assert rc == 1 and "bad.bedGraph, line 3" in err[-1] and "end 5 is not after start 5" in err[-1]


def count_table_genome(tmp_path, rows):
    """A FASTA of one 2-bp record 'CG' per CpG (region records placed at their coordinates)."""
    fa = tmp_path / "cg.fa"
    cpgs = sorted({(c, p) for c, p in rows})
    fa.write_text("".join(f">{c}:{p}-{p + 1}\nCG\n" for c, p in cpgs))
    return fa


@pytest.mark.parametrize("name", ["C1.bedGraph.gz", "N2.bedGraph.gz"])
def test_methrix_count_tables(tmp_path, capsys, name):
    path = shared_data("format_examples", "methrix", name)
    rows = [ln.split("\t") for ln in gzip.open(path, "rt")]
    # documented: chrom, pos (1-based C), M, U; no header
    expect = {(r[0], int(r[1]) - 1): (int(r[2]) / (int(r[2]) + int(r[3])), int(r[2]) + int(r[3])) for r in rows}
    fa = count_table_genome(tmp_path, [(r[0], int(r[1])) for r in rows])
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1, flank=2)
    assert rc == 0, err
    assert any("detected format counts" in e for e in err)
    assert_sites(got_sites(d), {k: v for k, v in expect.items() if v[1] >= 1})


def test_count_table_with_header_and_crlf(tmp_path, capsys, td):
    path = tmp_path / "counts.txt"
    path.write_bytes(b'\xef\xbb\xbf"chr"\t"pos"\t"M"\t"U"\r\n"chrT"\t2\t3\t1\t\r\nchrT\t6\t0\t4\r\n')
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--min-coverage", 1)
    assert rc == 0, err
    assert any("detected format counts" in e for e in err)
    assert_sites(got_sites(d), {("chrT", 1): (0.75, 4), ("chrT", 5): (0.0, 4)})


def test_stdin_with_format(tmp_path, capsys, td, monkeypatch):
    data = (td / "toy.bismark.cov").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", "-", "--calls-format", "bismark-cov", "--min-coverage", 2)
    assert rc == 0, err
    # toy.bismark.cov merged by hand in test_encode.py: CpGs 1, 5, 9, 13, 17 with coverage >= 2
    assert d["pos"].tolist() == [1, 5, 9, 13, 17]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    rc, err, d2 = encode(tmp_path, capsys, td / "toy.fa", "-", "--min-coverage", 2)  # detected from stdin too
    assert rc == 0, err
    assert d2["y"].tolist() == d["y"].tolist()


def test_tsv_level_above_one_message(tmp_path, capsys, td):
    path = tmp_path / "lv.tsv"
    path.write_text("chrom\tstart\tlevel\nchrT\t1\t0.5\nchrT\t5\t1.5\n")
    rc, err, _ = encode(tmp_path, capsys, td / "toy.fa", path)
    assert rc == 1 and "lv.tsv, line 3" in err[-1] and "divide percentages by 100" in err[-1]
    assert "use --format tsv" not in err[-1]


def test_unknown_format_shows_line_and_resemblance(tmp_path, capsys, td):
    path = tmp_path / "odd.txt"
    path.write_text("chrT\t1\t2\tx\ty\tz\n")
    rc, err, _ = encode(tmp_path, capsys, td / "toy.fa", path)
    assert rc == 1 and "line 1" in err[-1] and "1 2 x y z" in err[-1] and "(6 columns)" in err[-1]
    assert "resembles bismark-cov" in err[-1]


def test_meta_names_format(tmp_path, capsys):
    rc, err, d = encode(tmp_path, capsys, FMT / "bismark_c2c_main.fa", FMT / "bismark_ffs.CX_report.txt")
    assert rc == 0, err
    assert json.loads(str(d["meta"]))["format"] == "bismark-cpg-report"


def test_readme_format_table_lists_every_producer():

    readme = (ROOT / "README.md").read_text()
    for p in PRODUCERS:
        assert f"`{p.name}`" in readme, p.name
    listed = (ROOT / "test-data" / "README.md").read_text()
    patterns = re.findall(r"`formats/([^`]+)`", listed)  # names, and globs such as bismark2bedGraph_input_*.txt
    assert len(patterns) > 20
    for f in sorted(FMT.iterdir()):  # every bundled real file has its provenance row
        if f.name.endswith((".fai", ".gzi")):  # indexes a tool run leaves beside the files are not bundled
            continue
        assert any(fnmatch.fnmatch(f.name, p) for p in patterns), f"{f.name} has no row in test-data/README.md"


# --- MethylDackel 0.6.1 outputs (run on its own test BAMs; see test-data/README.md) ---------------------------


def strand_from_reference(seq, p):
    return "+" if seq[p] == "C" else "-"


def test_methyldackel_bedgraph_per_c_and_merged(tmp_path, capsys):
    fa = FMT / "methyldackel_cg100.fa"
    seq = fasta_seq(fa)["chrCG"]
    per_c = FMT / "methyldackel_cg100_CpG.bedGraph"
    calls = {}
    for ln in open(per_c):
        if ln.startswith("track"):
            continue
        c = ln.split("\t")
        p = int(c[1])  # 0-based start of the C of its strand
        calls[(c[0], p, strand_from_reference(seq, p))] = (int(c[4]), int(c[5]))
    rc, err, d = encode(tmp_path, capsys, fa, per_c, "--min-coverage", 1)
    assert rc == 0 and any("detected format methyldackel" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))
    merged_file = FMT / "methyldackel_cg100_merged_CpG.bedGraph"
    expect = {}
    for ln in open(merged_file):
        if ln.startswith("track"):
            continue
        c = ln.split("\t")
        assert int(c[2]) - int(c[1]) == 2 and seq[int(c[1]) : int(c[2])] == "CG"  # the whole CpG, 0-based
        expect[(c[0], int(c[1]))] = (int(c[4]) / (int(c[4]) + int(c[5])), int(c[4]) + int(c[5]))
    rc, err, d = encode(tmp_path, capsys, fa, merged_file, "--min-coverage", 1)
    assert rc == 0, err
    assert_sites(got_sites(d), expect)
    assert len(expect) > 10


def test_methyldackel_methylkit_output(tmp_path, capsys):
    fa = FMT / "methyldackel_cg100.fa"
    path = FMT / "methyldackel_cg100_CpG.methylKit"
    calls = {}
    for ln in list(open(path))[1:]:
        c = ln.split()
        # documented: chrBase, chr, base (1-based), strand F/R, coverage, freqC (percent), freqT
        m = int(c[4]) * float(c[5]) / 100  # documented level freqC / 100, weighted by coverage
        calls[(c[1], int(c[2]) - 1, "+" if c[3] == "F" else "-")] = (m, int(c[4]) - m)
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1)
    assert rc == 0 and any("detected format methylkit" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))


def test_methyldackel_cytosine_report_chg_chh(tmp_path, capsys):
    fa = FMT / "methyldackel_chgchh.fa"
    path = FMT / "methyldackel_chgchh.cytosine_report.txt"
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 0)
    assert rc == 0 and any("detected format bismark-cpg-report" in e for e in err), err
    expect = bismark_report_expect(path)
    got = got_sites(d)
    assert set(got) == {k for k, v in expect.items()} | {k for k in got if k not in expect and got[k][1] == 0}
    for k, (level, cov) in expect.items():
        assert got[k][0] == pytest.approx(level) and got[k][1] == cov
    n_other = sum(1 for ln in open(path) if ln.split("\t")[5] != "CG")
    assert n_other > 0 and any(f"{n_other} calls outside CpG context" in e for e in err)


# --- methylKit and methrix examples of the shared data (no reference ships: one CG record per call) ------------


@pytest.mark.parametrize("name", ["test1.myCpG.txt", "control2.myCpG.txt"])
def test_methylkit_examples(tmp_path, capsys, name):
    path = shared_data("format_examples", "methylkit", name)
    calls, cpgs = {}, []
    for ln in list(open(path))[1:]:
        c = ln.split()
        base, strand = int(c[2]), "+" if c[3] == "F" else "-"
        m = int(c[4]) * float(c[5]) / 100  # documented level freqC / 100, weighted by coverage
        calls[(c[1], base - 1, strand)] = (m, int(c[4]) - m)
        cpgs.append((c[1], base if strand == "+" else base - 1))  # 1-based C of the CpG
    fa = count_table_genome(tmp_path, cpgs)
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1, flank=2)
    assert rc == 0 and any("detected format methylkit" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))


# --- BSseeker2 CGmap, methylpy allc, BISCUIT (written by their documented columns) ----------------------------

GENOME = "TTCGATCAGGCCGTACGTTCAGTT"  # CpGs at 2, 11, 15; CHG C at 6 (CAG), CHH C at 10 (CCG's first C)


def small_genome(tmp_path):
    fa = tmp_path / "s.fa"
    fa.write_text(">chrS\n" + GENOME + "\n")
    return fa


def test_cgmap(tmp_path, capsys):
    # chrom, base (C on +, G on -), pos 1-based, context, dinucleotide, level, mC, total
    rows = [
        ("C", 3, "CG", 4, 5),
        ("G", 4, "CG", 1, 5),
        ("C", 7, "CHG", 2, 2),
        ("C", 12, "CG", 0, 3),
        ("G", 17, "CG", 3, 3),
    ]
    path = tmp_path / "x.CGmap"
    path.write_text("".join(f"chrS\t{b}\t{p}\t{ctx}\t{ctx[:2]}\t{m / t:.2f}\t{m}\t{t}\n" for b, p, ctx, m, t in rows))
    calls = {("chrS", p - 1, "+" if b == "C" else "-"): (m, t - m) for b, p, ctx, m, t in rows if ctx == "CG"}
    rc, err, d = encode(tmp_path, capsys, small_genome(tmp_path), path, "--min-coverage", 1)
    assert rc == 0 and any("detected format cgmap" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))
    assert any("1 calls outside CpG context" in e for e in err)


def test_allc(tmp_path, capsys):
    # chrom (no chr), pos 1-based, strand, context, mc, cov, methylated
    rows = [(3, "+", "CGA", 2, 4), (4, "-", "CGA", 1, 1), (7, "+", "CAG", 1, 9), (12, "+", "CGT", 0, 6)]
    path = tmp_path / "allc_chrS.tsv"
    path.write_text("".join(f"chrS\t{p}\t{s}\t{ctx}\t{m}\t{c}\t1\n" for p, s, ctx, m, c in rows))
    calls = {("chrS", p - 1, s): (m, c - m) for p, s, ctx, m, c in rows if ctx.startswith("CG")}
    rc, err, d = encode(tmp_path, capsys, small_genome(tmp_path), path, "--min-coverage", 1)
    assert rc == 0 and any("detected format allc" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))


def test_biscuit_beta_coverage(tmp_path, capsys):
    # vcf2bed: chrom, start (0-based), end, beta, coverage; '.' = no call
    rows = [(11, ".", 0), (2, "0.750", 4), (3, "0.000", 2), (15, "1.000", 3)]  # a first line without a call
    path = tmp_path / "b.bed"
    path.write_text("".join(f"chrS\t{p}\t{p + 1}\t{b}\t{c}\n" for p, b, c in rows))
    rc, err, d = encode(tmp_path, capsys, small_genome(tmp_path), path, "--min-coverage", 1)
    assert rc == 0 and any("detected format biscuit" in e for e in err), err
    # C at 2 (3 of 4) and its G at 3 (0 of 2) merge: 3 / 6; the CpG at 15: 3 of 3
    assert_sites(got_sites(d), {("chrS", 2): (3 / 6, 6), ("chrS", 15): (1.0, 3)})


def test_quotes_crlf_bom_trailing_tabs_spaces(tmp_path, capsys, td):
    # the toy Bismark .cov rewritten the way spreadsheets and scripts leave files, under a misleading name
    rows = [ln.split("\t") for ln in (td / "toy.bismark.cov").read_text().splitlines()]
    text = "\ufeff" + "".join(f'"{r[0]}"  {r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t\r\n' for r in rows)
    path = tmp_path / "calls.bedGraph"
    path.write_bytes(text.encode())
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--min-coverage", 2)
    assert rc == 0 and any("detected format bismark-cov" in e for e in err), err
    assert d["pos"].tolist() == [1, 5, 9, 13, 17] and list(d["chrom"]) == ["chrT"] * 5


@pytest.mark.parametrize("via_stdin", [False, True])
def test_trackless_methyldackel_read_as_zero_based(tmp_path, capsys, monkeypatch, via_stdin):
    # without its track line a per-C MethylDackel bedGraph looks like Bismark's merged .cov (1-bp, 6 columns);
    # only the reference tells: read 1-based, no call sits on a C/G, so it is read 0-based
    fa = FMT / "methyldackel_cg100.fa"
    seq = fasta_seq(fa)["chrCG"]
    lines = [ln for ln in open(FMT / "methyldackel_cg100_CpG.bedGraph") if not ln.startswith("track")]
    calls = {}
    for ln in lines:
        c = ln.split("\t")
        calls[(c[0], int(c[1]), strand_from_reference(seq, int(c[1])))] = (int(c[4]), int(c[5]))
    path = tmp_path / "notrack.bedGraph"
    path.write_text("".join(lines))
    if via_stdin:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    rc, err, d = encode(tmp_path, capsys, fa, "-" if via_stdin else path, "--min-coverage", 1)
    assert rc == 0, err
    assert any("reading them as methyldackel" in e for e in err)
    assert_sites(got_sites(d), merged(calls))


def test_default_options_on_a_tiny_reference(tmp_path, capsys):
    # default flank 200 on an 18-bp chromosome: the window is N beyond the ends, which is not a gap: kept
    out = tmp_path / "d.npz"
    rc, err = run_main(
        main,
        ["--genome", FMT / "bismark_c2c_main.fa", "--calls", FMT / "bismark_ffs.CpG_report.txt", "-o", out],
        capsys,
    )
    assert rc == 0, err
    expect = {k: v for k, v in bismark_report_expect(FMT / "bismark_ffs.CpG_report.txt").items() if v[1] >= 5}
    assert expect == {("chr1", 2): (4 / 6, 6)}
    assert_sites(got_sites(load(out)), expect)


def test_count_table_with_cov_header(tmp_path, capsys, td):
    path = tmp_path / "bsseq.txt"
    path.write_text("chr\tpos\tM\tCov\nchrT\t2\t3\t4\nchrT\t6\t1\t5\n")  # M of Cov reads
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--min-coverage", 1)
    assert rc == 0 and any("detected format counts" in e for e in err), err
    assert_sites(got_sites(d), {("chrT", 1): (0.75, 4), ("chrT", 5): (0.2, 5)})


def test_bedmethyl_level_is_the_files_percent(tmp_path, capsys, td):
    # ENCODE bedMethyl: coverage 7, 33% -> level 0.33 (not a count rebuilt by rounding, 2/7)
    path = tmp_path / "e.bed"
    path.write_text(
        "chrT\t1\t2\tx\t7\t+\t1\t2\t0,0,0\t7\t33\nchrT\t5\t6\tx\t3\t+\t5\t6\t0,0,0\t3\t100\n"
        "chrT\t6\t7\tx\t1\t-\t6\t7\t0,0,0\t1\t0\n"
    )
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", path, "--min-coverage", 1)
    assert rc == 0 and any("detected format bedmethyl" in e for e in err), err
    assert_sites(got_sites(d), {("chrT", 1): (0.33, 7), ("chrT", 5): (3 / 4, 4)})


# --- Bismark bismark2bedGraph (Perl v0.25.1) .cov outputs, default, --zero_based and --CX ---------------------


def bismark2bedgraph_genome(tmp_path):
    """A FASTA with the cytosines of the extractor calls that produced the .cov files: CpG_OT/CHG/CHH_OT calls
    are C on + (followed by G, A G or T: the CHH C at 18 has the CpG C at 20 two bases on), CpG_OB calls the
    G of a CpG (C before it); A elsewhere."""
    seqs = defaultdict(dict)
    for name, after in (("CHG_OT_s", "AG"), ("CHH_OT_s", "T"), ("CpG_OT_s", "G")):
        for ln in list(open(FMT / f"bismark2bedGraph_input_{name}.txt"))[1:]:
            c = ln.rstrip("\n").split("\t")
            p = int(c[3]) - 1
            seqs[c[2]][p] = "C"
            for i, b in enumerate(after, 1):
                seqs[c[2]][p + i] = b
    for ln in list(open(FMT / "bismark2bedGraph_input_CpG_OB_s.txt"))[1:]:
        c = ln.rstrip("\n").split("\t")
        p = int(c[3]) - 1
        seqs[c[2]][p], seqs[c[2]][p - 1] = "G", "C"
    fa = tmp_path / "b2bg.fa"
    fa.write_text(
        "".join(
            f">{chrom}\n" + "".join(bases.get(i, "A") for i in range(max(bases) + 3)) + "\n"
            for chrom, bases in seqs.items()
        )
    )
    return fa


@pytest.mark.parametrize(
    "name,zero_based",
    [("bismark2bedGraph.cov", False), ("bismark2bedGraph_CX.cov", False), ("bismark2bedGraph_zero_based.cov", True)],
)
def test_bismark2bedgraph_cov(tmp_path, capsys, name, zero_based):
    fa = bismark2bedgraph_genome(tmp_path)
    seqs = fasta_seq(fa)
    calls = {}
    for ln in open(FMT / name):
        c = ln.rstrip("\n").split("\t")
        p = int(c[1]) if zero_based else int(c[1]) - 1  # --zero_based: start 0-based, end exclusive
        seq = seqs[c[0]]
        strand = "+" if seq[p] == "C" else "-"
        if on_cpg(seq, p, strand):
            calls[(c[0], p, strand)] = (int(c[4]), int(c[5]))
    rc, err, d = encode(tmp_path, capsys, fa, FMT / name, "--min-coverage", 1)
    assert rc == 0, err
    expect = merged(calls)
    assert len(expect) == 7
    assert_sites(got_sites(d), expect)
    if "CX" in name:
        assert any("2 calls outside CpG context" in e for e in err)
    if zero_based:
        assert any("reading them as methyldackel" in e for e in err)


def test_modbam2bed_real_extended_output(tmp_path, capsys):
    # modbam2bed 0.10 -e -m 5mC --cpg on its own test BAM: 16 columns, 'nan' percent where nothing was called
    path = FMT / "modbam2bed_extended_cpg.bed"
    fa = FMT / "modbam2bed_ecoli1_105701-108400.fa"
    offset = 105700  # the record is ecoli1:105701-108400, placed at its coordinates
    seq = "N" * offset + fasta_seq(fa)["ecoli1:105701-108400"]
    calls = {}
    for ln in open(path):
        c = ln.split("\t")
        assert len(c) == 16
        p, canon, mod = int(c[1]), int(c[11]), int(c[12])  # columns 12, 13: Ncanonical, Nmod
        assert on_cpg(seq, p, c[5])
        calls[(c[0], p, c[5])] = (mod, canon)
    depth_differs = sum(1 for ln in open(path) if int(ln.split("\t")[9]) > sum(map(int, ln.split("\t")[11:13])) > 0)
    assert depth_differs >= 1
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1)
    assert rc == 0 and any("detected format modbam2bed" in e for e in err), err
    expect = merged(calls)
    assert len(expect) > 100
    assert_sites(got_sites(d), expect)


def test_shifted_stranded_calls_refused_with_the_shift(tmp_path, capsys, td):
    # the real H1 bedMethyl (0-based) written 1-based: the calls leave their C/G, and -1 puts them back
    rows = [
        ln.rstrip("\n").split("\t")
        for ln in open(td / "rrbsH1hESC_chr22_20-21M.bedMethyl")
        if not ln.startswith("track")
    ]
    path = tmp_path / "shift.bedMethyl"
    path.write_text("".join("\t".join([r[0], str(int(r[1]) + 1), str(int(r[2]) + 1), *r[3:]]) + "\n" for r in rows))
    rc, err, _ = encode(tmp_path, capsys, td / "22_20-21M.fa", path)
    assert rc == 1 and "Shifting positions by -1" in err[-1] and "looks 1-based" in err[-1]


def test_one_based_merged_calls_read_as_zero_based_warned(tmp_path, capsys, td):
    # the strand-merged IMR90 calls (1-based C) given as a 0-based MethylDackel file: every call lands on a G
    rows = [ln.split("\t") for ln in open(td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov")][:300]
    path = tmp_path / "g.bedGraph"
    path.write_text(
        "track type=bedGraph\n" + "".join(f"{r[0]}\t{r[1]}\t{int(r[1]) + 1}\t{r[3]}\t{r[4]}\t{r[5]}" for r in rows)
    )
    rc, err, d = encode(tmp_path, capsys, td / "22_20-21M.fa", path, "--min-coverage", 1)
    assert rc == 0 and any("300 of 300 calls without a strand sit on the G of a CpG" in e for e in err), err
    rc, err, d = encode(tmp_path, capsys, td / "22_20-21M.fa", td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov")
    assert rc == 0 and not any("sit on the G" in e for e in err)


def test_modkit_only_5hmc_rows_used_and_said(tmp_path, capsys):
    # a pileup holding h rows only (modkit --ignore m): the one cytosine code there is is read, and said
    path = tmp_path / "h_only.bed"
    path.write_text("".join(ln for ln in open(FMT / "modkit_pileup_with_header.bed") if ln.split("\t")[3] == "h"))
    rc, err, d = encode(tmp_path, capsys, FMT / "modkit_oligo_1512_adapters.fa", path, "--min-coverage", 1)
    assert rc == 0 and any("level of h (5hmC)" in e for e in err), err
    assert_sites(got_sites(d), modkit_expect(FMT / "modkit_pileup_with_header.bed", "h"))


def test_everything_filtered_writes_an_empty_dataset(tmp_path, capsys):
    # MethylDackel's cg100 calls have one read each: none passes the default --min-coverage 5
    assert (
        max(
            int(ln.split("\t")[4]) + int(ln.split("\t")[5])
            for ln in open(FMT / "methyldackel_cg100_CpG.bedGraph")
            if not ln.startswith("track")
        )
        == 1
    )
    out = tmp_path / "e.npz"
    rc, err = run_main(
        main,
        ["--genome", FMT / "methyldackel_cg100.fa", "--calls", FMT / "methyldackel_cg100_CpG.bedGraph", "-o", out],
        capsys,
    )
    assert rc == 0 and any("no site left" in e and "--min-coverage" in e for e in err), err
    d = load(out)
    assert len(d["y"]) == 0 and d["seq"].shape == (0, 400)

    assert len(load_dataset(str(out))) == 0


def test_bismark_zero_based_report_read_by_the_reference(tmp_path, capsys):
    # coverage2cytosine --zero_based and the default report of the same run (Perl v0.25.1) give the same sites
    fa = FMT / "bismark_c2c_phase_b.fa"
    expect = bismark_report_expect(FMT / "bismark_default.CpG_report.txt")
    rows = [ln.split("\t") for ln in open(FMT / "bismark_zero_based.CpG_report.txt")]
    assert [int(r[1]) + 1 for r in rows] == [
        int(ln.split("\t")[1]) for ln in open(FMT / "bismark_default.CpG_report.txt")
    ]
    for name in ("bismark_default.CpG_report.txt", "bismark_zero_based.CpG_report.txt"):
        rc, err, d = encode(tmp_path, capsys, fa, FMT / name, "--min-coverage", 1)
        assert rc == 0, err
        assert_sites(got_sites(d), {k: v for k, v in expect.items() if v[1] >= 1})
    assert any("reading them as bismark-cpg-report-zero-based" in e for e in err)


def test_biscuit_with_context_columns(tmp_path, capsys):
    # vcf2bed -e: chrom, start, end, ref base, context, dinucleotide, 5-mer, beta, coverage
    rows = [
        (2, "C", "CG", "0.500", 4),
        (3, "G", "CG", "1.000", 2),
        (6, "C", "CHG", "0.250", 4),
        (15, "C", "CG", "0.000", 5),
    ]
    path = tmp_path / "e.bed"
    path.write_text(
        "".join(
            f"chrS\t{p}\t{p + 1}\t{r}\t{cx}\t{GENOME[p : p + 2]}\t{GENOME[p - 2 : p + 3]}\t{b}\t{c}\n"
            for p, r, cx, b, c in rows
        )
    )
    rc, err, d = encode(tmp_path, capsys, small_genome(tmp_path), path, "--min-coverage", 1)
    assert rc == 0 and any("detected format biscuit" in e for e in err), err
    # C at 2: 2 of 4, its G at 3: 2 of 2 -> 4 / 6; the CHG row is dropped by its context column
    assert_sites(got_sites(d), {("chrS", 2): (4 / 6, 6), ("chrS", 15): (0.0, 5)})
    assert any("1 calls outside CpG context" in e for e in err)


# --- files shipped by Bioconductor bsseq (inst/extdata) ----------------------------------------------------------


def test_bsseq_modbam2bed_aggregated(tmp_path, capsys):
    # modbam2bed -e --aggregate --cpg: strand '.', 2-bp CpG intervals; level = Nmod / (Ncanonical + Nmod)
    path = FMT / "bsseq_modbam2bed_ctr1.bed.gz"
    rows = [ln.split("\t") for ln in gzip.open(path, "rt")]
    assert all(r[5] == "." and int(r[2]) - int(r[1]) == 2 and len(r) == 14 for r in rows)
    expect = {
        (r[0], int(r[1])): (int(r[12]) / (int(r[11]) + int(r[12])), int(r[11]) + int(r[12]))
        for r in rows
        if int(r[11]) + int(r[12]) >= 5
    }
    fa = count_table_genome(tmp_path, [(r[0], int(r[1]) + 1) for r in rows])
    rc, err, d = encode(tmp_path, capsys, fa, path, flank=2)
    assert rc == 0 and any("detected format modbam2bed" in e for e in err), err
    assert len(expect) > 150
    assert_sites(got_sites(d), expect)


def test_bsseq_cytosine_report(tmp_path, capsys):
    path = FMT / "bsseq_test_data.cytosineReport.gz"
    rows = [ln.split("\t") for ln in gzip.open(path, "rt")]
    calls = {(r[0], int(r[1]) - 1, r[2]): (int(r[3]), int(r[4])) for r in rows}
    fa = count_table_genome(tmp_path, [(r[0], int(r[1]) if r[2] == "+" else int(r[1]) - 1) for r in rows])
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1, flank=2)
    assert rc == 0 and any("detected format bismark-cpg-report" in e for e in err), err
    assert_sites(got_sites(d), merged(calls))


def test_bsseq_modkit_hg002_on_grch38_chr22(tmp_path, capsys):
    genome = shared_data("genome", "GRCh38_chr22.fa.gz")
    fa = tmp_path / "GRCh38_chr22.fa.gz"
    for suffix in ("", ".fai", ".gzi"):  # the shared README lists both indexes
        shutil.copy(str(genome) + suffix, str(fa) + suffix)
    path = FMT / "bsseq_modkit_HG002_chr21_chr22.bed.gz"
    rows = [ln.split() for ln in gzip.open(path, "rt")]
    # modkit --combine-mods --combine-strands: code C, strand '.', on the C; level = Nmod / Nvalid_cov
    expect = {
        (r[0], int(r[1])): (int(r[11]) / int(r[9]), int(r[9])) for r in rows if r[0] == "chr22" and int(r[9]) >= 5
    }
    rc, err, d = encode(tmp_path, capsys, fa, path)
    assert rc == 0, err
    assert any("level of C" in e for e in err)
    assert any("40 calls on 1 chromosomes absent from the genome" in e and "chr21" in e for e in err)
    assert len(expect) > 150
    assert_sites(got_sites(d), expect)


def test_bsseq_modkit_h_and_m_combined_strands(tmp_path, capsys):
    # modkit pileup --combine-strands, h and m rows per CpG, no newline after the last line
    path = FMT / "bsseq_modkit_Hypo1.first50Bed.txt"
    rows = [ln.split("\t") for ln in path.read_text().splitlines()]
    assert not path.read_text().endswith("\n") and {r[3] for r in rows} == {"h", "m"}
    expect = {(r[0], int(r[1])): (int(r[11]) / int(r[9]), int(r[9])) for r in rows if r[3] == "m" and int(r[9]) >= 5}
    fa = count_table_genome(tmp_path, [(r[0], int(r[1]) + 1) for r in rows])
    rc, err, d = encode(tmp_path, capsys, fa, path, flank=2)
    assert rc == 0 and any("h (5hmC) 25, m (5mC) 25" in e for e in err), err
    assert_sites(got_sites(d), expect)


def test_cgmaptools_cgmap(tmp_path, capsys):
    # CGmap written by CGmapTools (ATCGmapToCGmapWig.py) from its RRBS test ATCGmap; reference slice chr3:1-2100
    path = FMT / "cgmaptools_RR_chr3_1-2000.CGmap"
    fa = FMT / "cgmaptools_genome_chr3_1-2100.fa"
    seq = fasta_seq(fa)["chr3:1-2100"]
    calls, other = {}, 0
    for ln in open(path):
        c = ln.split("\t")  # chrom, base (C/G), pos 1-based, context, dinucleotide, level, mC, C+T reads
        p, strand = int(c[2]) - 1, "+" if c[1] == "C" else "-"
        assert seq[p] == c[1]
        if c[3] == "CG":
            calls[(c[0], p, strand)] = (int(c[6]), int(c[7]) - int(c[6]))
        else:
            other += 1
    rc, err, d = encode(tmp_path, capsys, fa, path)
    assert rc == 0 and any("detected format cgmap" in e for e in err), err
    expect = merged(calls, min_cov=5)
    assert len(expect) == 34
    assert_sites(got_sites(d), expect)
    assert any(f"{other} calls outside CpG context" in e for e in err)


def test_methylpy_allc(tmp_path, capsys):
    # allc written by methylpy 1.4.7 call-methylation-state on CGmapTools' RRBS test BAM; names without 'chr'
    path = FMT / "methylpy_allc_RR.tsv"
    fa = FMT / "methylpy_genome_slices.fa"
    calls = {}
    for ln in open(path):
        c = ln.rstrip("\n").split("\t")  # chrom, pos 1-based, strand, context, mc, cov, methylated
        if c[3].startswith("CG"):
            calls[("chr" + c[0], int(c[1]) - 1, c[2])] = (int(c[4]), int(c[5]) - int(c[4]))
    rc, err, d = encode(tmp_path, capsys, fa, path, "--min-coverage", 1)
    assert rc == 0 and any("detected format allc" in e for e in err), err
    assert any("1 -> chr1" in e for e in err)
    expect = merged(calls)
    assert len(expect) > 50
    got = {(("chr" + c) if not c.startswith("chr") else c, p): v for (c, p), v in got_sites(d).items()}
    assert_sites(got, expect)


@pytest.mark.parametrize("compress", [False, True])
def test_named_pipe_read_once(tmp_path, capsys, td, compress, fifo):
    # `-c <(zcat calls.gz)` is a pipe: it can be opened and read only once, so nothing may be lost to detection
    data = (td / "toy.bismark.cov").read_bytes()
    pipe = fifo(gzip.compress(data) if compress else data, "calls.pipe")
    rc, err, d = encode(tmp_path, capsys, td / "toy.fa", pipe, "--min-coverage", 2)
    assert rc == 0, err
    # the same CpGs as test_stdin_with_format, worked by hand in test_encode.py
    assert d["pos"].tolist() == [1, 5, 9, 13, 17]
