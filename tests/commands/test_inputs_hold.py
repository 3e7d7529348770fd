"""Inputs that cannot be misread (issue 23): DSS tables, nanopolish frequency files, per-read files refused, modkit
motifs counted once, forced formats checked against the content. Real files of test-data/formats (see its README);
every expectation is computed here from the producer's documented columns or by the producer's own script."""

import errno
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, load, run_main

from mrcnn_tools.cli.encode import main
from mrcnn_tools.encoding import decode
from mrcnn_tools.errors import GenomeMismatchError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, Selection, parse_region

FMT = ROOT / "test-data" / "formats"
AGGREGATE = "per-read calls ({}): aggregate them first (modkit pileup / calculate_methylation_frequency.py)"


@pytest.fixture
def fmt(tmp_path):
    """The real files in a writable copy: the FASTA index is written beside the FASTA."""
    dst = tmp_path / "formats"
    shutil.copytree(FMT, dst)
    return dst


def encode(tmp_path, capsys, genome, calls, *extra, flank=3):
    out = tmp_path / "o.npz"
    argv = ["--genome", genome, "--calls", calls, "--flank", flank, "--max-n-fraction", 1, "--min-coverage", 1]
    rc, err = run_main(main, [*argv, "-o", out, *extra], capsys)
    return rc, err, (load(out) if rc == 0 else None)


def got_sites(d):
    """{(chrom, pos): (level, coverage)} of a dataset."""
    return {(c, p): (float(y), int(n)) for c, p, y, n in zip(d["chrom"], d["pos"].tolist(), d["y"], d["coverage"])}


def assert_sites(got, expect):
    assert set(got) == set(expect)
    for k, (level, cov) in expect.items():
        assert got[k][0] == pytest.approx(level, abs=1e-6), k
        assert got[k][1] == cov, k


def cg_genome(tmp_path, cpgs):
    """A FASTA of one 2-bp record 'CG' per CpG (1-based C positions), placed at its coordinates."""
    fa = tmp_path / "cg.fa"
    fa.write_text("".join(f">{c}:{p}-{p + 1}\nCG\n" for c, p in sorted(set(cpgs))))
    return fa


def toy(tmp_path):
    fa = tmp_path / "t.fa"
    fa.write_text(">chrT\nACGTACGTAACGTT\n")  # CpGs at 0-based 1, 5, 10
    return fa


# --- DSS / bsseq tables: chr, pos (1-based), N (all reads), X (methylated reads) --------------------------------


def test_dss_table_with_header_is_n_total_x_methylated(tmp_path, capsys):
    path = tmp_path / "dss.txt"
    path.write_text("chr\tpos\tN\tX\nchrT\t2\t4\t3\nchrT\t6\t4\t0\n")
    rc, err, d = encode(tmp_path, capsys, toy(tmp_path), path)
    assert rc == 0 and any("detected format dss" in e for e in err), err
    assert_sites(got_sites(d), {("chrT", 1): (0.75, 4), ("chrT", 5): (0.0, 4)})


def test_dss_real_example_file(tmp_path, capsys, fmt):
    # DSS's own inst/extdata/cond1_1.txt (first 200 rows); no reference ships: one CG record per call
    path = fmt / "dss_cond1_1.txt"
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == ["chr", "pos", "N", "X"]
    rows = [ln.split("\t") for ln in lines[1:]]
    expect = {(r[0], int(r[1]) - 1): (int(r[3]) / int(r[2]), int(r[2])) for r in rows if int(r[2]) >= 1}
    rc, err, d = encode(tmp_path, capsys, cg_genome(tmp_path, [(r[0], int(r[1])) for r in rows]), path, flank=2)
    assert rc == 0 and any("detected format dss" in e for e in err), err
    assert len(expect) > 150
    assert_sites(got_sites(d), expect)


def far_toy(tmp_path):
    fa = tmp_path / "far.fa"
    fa.write_text(">chrT\n" + "A" * 20 + "ACGTACGTAACGTT\n")  # CpGs at 0-based 21, 25, 30
    return fa


def test_headerless_dss_is_ambiguous_unless_forced(tmp_path, capsys):
    path = tmp_path / "nx.txt"
    path.write_text("chrT\t22\t4\t3\nchrT\t26\t4\t0\n")  # column 3 >= column 4 everywhere: N, X or M, U?
    rc, err, _ = encode(tmp_path, capsys, far_toy(tmp_path), path)
    assert rc == 1 and "--calls-format dss or counts" in err[-1] and "nx.txt" in err[-1], err
    rc, err, d = encode(tmp_path, capsys, far_toy(tmp_path), path, "--calls-format", "dss")
    assert rc == 0, err
    assert_sites(got_sites(d), {("chrT", 21): (0.75, 4), ("chrT", 25): (0.0, 4)})
    rc, err, d = encode(tmp_path, capsys, far_toy(tmp_path), path, "--calls-format", "counts")
    assert rc == 0, err
    assert_sites(got_sites(d), {("chrT", 21): (4 / 7, 7), ("chrT", 25): (1.0, 4)})


def test_headerless_counts_with_m_below_u_stay_counts(tmp_path, capsys):
    path = tmp_path / "mu.txt"
    path.write_text("chrT\t22\t1\t3\nchrT\t26\t4\t0\n")  # a row with M < U: not N, X
    rc, err, d = encode(tmp_path, capsys, far_toy(tmp_path), path)
    assert rc == 0 and any("detected format counts" in e for e in err), err
    assert_sites(got_sites(d), {("chrT", 21): (0.25, 4), ("chrT", 25): (1.0, 4)})


def test_dss_forced_on_m_u_columns_names_the_line(tmp_path, capsys):
    path = tmp_path / "mu.txt"
    path.write_text("chrT\t2\t4\t3\nchrT\t6\t1\t3\n")
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), path, "--calls-format", "dss")
    assert rc == 1 and "mu.txt, line 2" in err[-1] and "above N" in err[-1] and "counts" in err[-1]


def test_count_of_1e400_is_not_a_bedgraph(tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_text("chr\tpos\tM\tU\nchrT\t2\t3\t1\nchrT\t6\t1e400\t4\n")
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), path)
    assert rc == 1 and "c.txt, line 3" in err[-1] and "1e400" in err[-1] and "too large" in err[-1], err
    assert not any("bedgraph" in e for e in err)


# --- nanopolish calculate_methylation_frequency.py ----------------------------------------------------------


def producer_script(fmt, *args):
    """Run nanopolish's own calculate_methylation_frequency.py (bundled verbatim) on its per-read input."""
    script = fmt / "nanopolish_calculate_methylation_frequency.py"
    run = subprocess.run(
        [sys.executable, script, *args, fmt / "nanopolish_call_methylation.tsv"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_nanopolish_bundled_outputs_are_the_scripts(fmt):
    assert producer_script(fmt) == (fmt / "nanopolish_methylation_frequency.tsv").read_text()
    assert producer_script(fmt, "--split-groups") == (fmt / "nanopolish_methylation_frequency_split.tsv").read_text()


@pytest.mark.parametrize("name", ["nanopolish_methylation_frequency.tsv", "nanopolish_methylation_frequency_split.tsv"])
def test_nanopolish_frequency_each_cpg_of_a_group_gets_its_level(tmp_path, capsys, fmt, name):
    # the truth: the script's --split-groups output, each CpG with its own reads (0-based C, strands merged)
    split = [ln.split("\t") for ln in producer_script(fmt, "--split-groups").splitlines()[1:]]
    expect = {(r[0], int(r[1])): (int(r[5]) / int(r[4]), int(r[4])) for r in split}
    assert sum(1 for r in split if r[7] == "split-group") == 4  # two groups of two CpGs
    fa = fmt / "nanopolish_chr20_4980501-4981000.fa"
    rc, err, d = encode(tmp_path, capsys, fa, fmt / name)
    assert rc == 0 and any("detected format nanopolish" in e for e in err), err
    assert_sites(got_sites(d), expect)


def test_nanopolish_group_whose_sequence_does_not_fit_is_refused(tmp_path, capsys, fmt):
    lines = (fmt / "nanopolish_methylation_frequency.tsv").read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.split("\t")[3] == "2")
    c = lines[k].split("\t")
    c[7] = c[7].replace("CGCG", "CGAG")  # a group of 2 CpGs whose sequence shows one
    lines[k] = "\t".join(c)
    path = tmp_path / "f.tsv"
    path.write_text("\n".join(lines) + "\n")
    rc, err, _ = encode(tmp_path, capsys, fmt / "nanopolish_chr20_4980501-4981000.fa", path)
    assert rc == 1 and f"f.tsv, line {k + 1}" in err[-1] and "--split-groups" in err[-1], err


# --- per-read files: refused with the aggregation step ---------------------------------------------------------


@pytest.mark.parametrize(
    "name,tool",
    [
        ("nanopolish_call_methylation.tsv", "nanopolish/f5c call-methylation"),
        ("megalodon_per_read_modified_base_calls.txt", "megalodon per-read text"),
        ("modkit_extract_with_implicit.tsv", "modkit extract"),
    ],
)
def test_per_read_files_refused_with_the_aggregation_step(tmp_path, capsys, fmt, name, tool):
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), fmt / name)
    assert rc == 1 and err[-1].endswith(AGGREGATE.format(tool)), err
    headerless = tmp_path / "nohead.tsv"
    headerless.write_text("".join((fmt / name).read_text().splitlines(keepends=True)[1:]))
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), headerless)
    assert rc == 1 and "per-read calls (a read ID in column" in err[-1], err


# --- the line of a bad value is its own --------------------------------------------------------------------


def test_bad_value_among_the_first_lines_names_its_line(tmp_path, capsys):
    lines = [f"chrT\t{p}\t{p}\t50\t1\t1" for p in (2, 6, 11) * 20]
    lines[56] = "chrT\t6\t6\t50\tx\t1"
    path = tmp_path / "b.cov"
    path.write_text("\n".join(lines) + "\n")
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), path)
    assert rc == 1 and "b.cov, line 57" in err[-1] and "x" in err[-1], err


# --- modkit with two motifs: one C under m,CG,0 and m,CGCG,2, the same reads ------------------------------------


def modkit_motif_expect(path):
    """{(chrom, C position): (level, coverage)} from the m,CG,0 rows alone (the CG motif lists every CpG C; the
    CGCG,2 rows list some of them again with the same reads): level = Nmod / Nvalid_cov, strands summed."""
    acc = {}
    for ln in open(path):
        c = ln.split()
        if c[3] != "m,CG,0":
            continue
        p = int(c[1]) - (1 if c[5] == "-" else 0)  # a '-' row is the G of its CpG
        m, v = acc.get((c[0], p), (0, 0))
        acc[(c[0], p)] = (m + int(c[11]), v + int(c[9]))
    return {k: (m / v, v) for k, (m, v) in acc.items()}


@pytest.mark.parametrize(
    "name", ["modkit_cgcg2_cg0_test1.bed", "modkit_cgcg2_cg0_test1_combine_strands.bed"], ids=["strands", "combined"]
)
def test_modkit_two_motifs_count_each_c_once(tmp_path, capsys, fmt, name):
    path = fmt / name
    rows = [ln.split() for ln in open(path)]
    cg = {(r[1], r[5]): r[9:] for r in rows if r[3] == "m,CG,0"}
    cgcg = {(r[1], r[5]): r[9:] for r in rows if r[3] == "m,CGCG,2"}
    assert cgcg and all(cg[k] == v for k, v in cgcg.items())  # the same C, the same counts: the same reads
    rc, err, d = encode(tmp_path, capsys, fmt / "modkit_oligo_741_adapters.fa", path)
    assert rc == 0, err
    assert any("m,CG,0" in e and "m,CGCG,2" in e and "read once" in e for e in err), err
    expect = modkit_motif_expect(path)
    assert expect[("oligo_741_adapters", 40)] == (0.75, 12)  # 9 of 12 reads: not 14/20 or 18/24
    assert_sites(got_sites(d), expect)


def test_modkit_two_motifs_split_files_still_summed(tmp_path, capsys, fmt):
    # the same pileup twice (two read sets): every C under one motif appears twice and is summed
    path = tmp_path / "twice.bed"
    text = (fmt / "modkit_cgcg2_cg0_test1.bed").read_text()
    path.write_text(text + text)
    rc, err, d = encode(tmp_path, capsys, fmt / "modkit_oligo_741_adapters.fa", path)
    assert rc == 0, err
    once = modkit_motif_expect(fmt / "modkit_cgcg2_cg0_test1.bed")
    assert_sites(got_sites(d), {k: (level, 2 * cov) for k, (level, cov) in once.items()})


# --- a forced --calls-format is checked against the content ----------------------------------------------------


@pytest.mark.parametrize("forced", ["bedmethyl", "modbam2bed", "bedgraph"])
def test_forced_format_contradicted_by_a_modkit_pileup(tmp_path, capsys, fmt, forced):
    # Galaxy lists bedMethyl and modkit side by side: bedmethyl on h and m rows would sum 5hmC and 5mC
    path = fmt / "modkit_bc_anchored_10_reads_nofilt_cg_motif.bed"
    rc, err, _ = encode(tmp_path, capsys, fmt / "modkit_oligo_1512_adapters.fa", path, "--calls-format", forced)
    assert rc == 1 and f"--calls-format {forced} does not fit" in err[-1] and "is modkit" in err[-1], err


def test_modkit_cut_to_bedmethyl_columns_refused(tmp_path, capsys, fmt):
    # the 11 bedMethyl columns of a modkit pileup with h and m rows: detected as bedMethyl, but its rows per C are
    # one per modification code, not reads to sum
    path = tmp_path / "cut.bed"
    rows = [ln.split("\t")[:11] for ln in (fmt / "modkit_pileup_with_header.bed").read_text().splitlines()[1:]]
    path.write_text("".join("\t".join(r) + "\n" for r in rows))
    rc, err, _ = encode(tmp_path, capsys, fmt / "modkit_oligo_1512_adapters.fa", path)
    assert rc == 1 and "modkit modification codes (h, m)" in err[-1] and "--calls-format modkit" in err[-1], err


def test_forced_counts_or_dss_against_the_header(tmp_path, capsys):
    dss, mu = tmp_path / "dss.txt", tmp_path / "mu.txt"
    dss.write_text("chr\tpos\tN\tX\nchrT\t2\t4\t3\n")
    mu.write_text("chr\tpos\tM\tU\nchrT\t2\t4\t3\n")
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), dss, "--calls-format", "counts")
    assert rc == 1 and "--calls-format counts does not fit" in err[-1] and "columns of dss" in err[-1], err
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), mu, "--calls-format", "dss")
    assert rc == 1 and "--calls-format dss does not fit" in err[-1] and "columns of counts" in err[-1], err


def test_forced_format_on_per_read_calls_refused(tmp_path, capsys, fmt):
    path = fmt / "nanopolish_call_methylation.tsv"
    rc, err, _ = encode(tmp_path, capsys, toy(tmp_path), path, "--calls-format", "tsv")
    assert rc == 1 and err[-1].endswith(AGGREGATE.format("nanopolish/f5c call-methylation")), err


def test_forced_look_alike_obeyed(tmp_path, capsys, fmt):
    # a MethylDackel bedGraph without its track line looks like Bismark's merged .cov: forcing methyldackel is the
    # user's call, as is bismark-cpg-report-zero-based for a report (only the reference tells them apart)
    lines = [ln for ln in open(fmt / "methyldackel_cg100_CpG.bedGraph") if not ln.startswith("track")]
    path = tmp_path / "notrack.bedGraph"
    path.write_text("".join(lines))
    rc, err, _ = encode(tmp_path, capsys, fmt / "methyldackel_cg100.fa", path, "--calls-format", "methyldackel")
    assert rc == 0, err
    rep = fmt / "bismark_zero_based.CpG_report.txt"
    rc, err, _ = encode(
        tmp_path, capsys, fmt / "bismark_c2c_phase_b.fa", rep, "--calls-format", "bismark-cpg-report-zero-based"
    )
    assert rc == 0, err


# --- disk full, permission: said so whatever library raised them ------------------------------------------------


def test_disk_full_while_indexing_the_fasta_says_so(tmp_path, capsys, monkeypatch):
    # pyfaidx turns a failed index write into "... may not be writable. Please use Fasta(rebuild=False)"
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    fa = toy(tmp_path)
    calls = tmp_path / "c.cov"
    calls.write_text("chrT\t2\t2\t50\t1\t1\n")
    monkeypatch.setattr(shutil, "copyfileobj", full)
    rc, err, _ = encode(tmp_path, capsys, fa, calls)
    assert rc == 1 and "no space left on the device" in err[-1] and "Fasta(rebuild=False)" not in err[-1], err
    assert "index (.fai)" in err[-1] and str(fa) in err[-1]
    assert not (tmp_path / "t.fa.fai").exists()


def test_file_size_limit_while_indexing_the_fasta_says_so(tmp_path):
    fa = tmp_path / "many.fa"
    fa.write_text("".join(f">record{i}\nACGTACGTAACGTT\n" for i in range(300)))  # a .fai of ~6 kB
    calls = tmp_path / "c.cov"
    calls.write_text("record1\t2\t2\t50\t1\t1\n")
    code = (
        "import resource, sys; from mrcnn_tools.cli.encode import main; "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048)); sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "-g", fa, "-c", calls, "-o", tmp_path / "o.npz"], capture_output=True, text=True
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1 and "file-size limit" in lines[0], run.stderr


# --- --region outside the genome: one error for every command ---------------------------------------------------


@pytest.mark.parametrize(
    "region,chroms,ok",
    [
        (["chr99:1-1000"], None, False),
        (["chrT:100-200"], None, False),  # beyond the end of the 14-bp chrT
        (["chr99:1-1000", "T:2-5"], None, True),  # part of the selection on the genome (chrT matches T)
        (["chrT"], None, True),
        (None, ["chr99"], False),
        (None, ["chr99", "chrT"], True),
    ],
)
def test_selection_outside_the_genome(tmp_path, region, chroms, ok):
    genome = Genome(str(toy(tmp_path)))
    intervals = [parse_region(r) for r in region or []]
    selection = Selection(chroms=chroms, regions=IntervalSet(intervals) if intervals else None)
    if ok:
        selection.check(genome)
        return
    with pytest.raises(GenomeMismatchError) as err:
        selection.check(genome)
    assert "outside the genome t.fa" in str(err.value) or "none is a chromosome" in str(err.value)
    assert "chrT (14 bp)" in str(err.value)


def test_region_outside_the_genome_same_error_in_encode_and_predict(tmp_path, capsys, td):
    from mrcnn_tools.cli.predict import main as predict  # noqa: PLC0415 (TensorFlow behind it: only here)

    fa = td / "22_20-21M.fa"
    rc1, err1 = run_main(
        main,
        [
            "-g",
            fa,
            "-c",
            td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov",
            "--region",
            "chr99:1-1000",
            "-o",
            tmp_path / "e.npz",
        ],
        capsys,
    )
    rc2, err2 = run_main(
        predict,
        ["-m", td / "model_small.keras", "--genome", fa, "--region", "chr99:1-1000", "-o", tmp_path / "p.tsv"],
        capsys,
    )
    assert rc1 == rc2 == 1 and "chr99:1-1,000: outside the genome" in err1[-1], (err1, err2)
    assert err1[-1].split("error: ", 1)[1] == err2[-1].split("error: ", 1)[1]


# --- a chromosome read in two copies (the file's bytes, then its codes) --------------------------------------------


@pytest.mark.parametrize("eol,final", [("\n", True), ("\r\n", True), ("\n", False)], ids=["lf", "crlf", "no-final-eol"])
def test_fasta_lines_stripped_in_place(tmp_path, eol, final):
    seqs = {"a": "ACGTN" * 37 + "AC", "b": "acgt" * 15, "c": "G"}
    text = "".join(f">{n}{eol}" + eol.join(s[i : i + 60] for i in range(0, len(s), 60)) + eol for n, s in seqs.items())
    fa = tmp_path / "x.fa"
    fa.write_bytes((text if final else text[: -len(eol)]).encode())
    genome = Genome(str(fa))
    for name, seq in seqs.items():
        assert decode(genome.codes(name)) == seq.upper()


def test_chromosome_read_in_two_copies(tmp_path):
    # 40 Mb in lines of 60: the bytes read (40.7 MB) and the codes (40 MB), not four copies as before
    fa = tmp_path / "big.fa"
    line = b"ACGTTGCA" * 7 + b"ACGT\n"
    with open(fa, "wb") as fh:
        fh.write(b">big\n" + line * (40_000_000 // 60))
    # VmHWM: the peak of the child's own memory (ru_maxrss would start from the forking parent's)
    code = (
        "import sys; from mrcnn_tools.genome.fasta import Genome; g = Genome(sys.argv[1]); "
        "hwm = lambda: int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM'))); "
        "a = hwm(); c = g.codes('big'); print(len(c), hwm() - a)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(fa)], capture_output=True, text=True, check=True)
    length, grew_kb = map(int, out.stdout.split())
    assert length == 40_000_000 // 60 * 60
    assert grew_kb * 1024 < 2.3 * length, grew_kb
