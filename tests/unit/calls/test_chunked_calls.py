"""Calls read in chunks (genome-scale memory): chunk boundaries change neither values nor errors nor decisions
taken on the whole file. Chunks of 3 rows make every small file cross several boundaries."""

import numpy as np
import pytest
from helpers import load, run_main

from mrcnn_tools import encoding
from mrcnn_tools.calls import tables
from mrcnn_tools.calls.readers import read_calls
from mrcnn_tools.cli.encode import main
from mrcnn_tools.errors import InputFormatError


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_ROWS", 3)


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def test_bismark_cov_values_across_chunks(tmp_path):
    # chrom, 1-based start, end, percent, count_m, count_u; 8 lines = chunks of 3, 3, 2
    rows = [
        ("chr1", 11, 3, 1),
        ("chr1", 21, 0, 4),
        ("chr2", 5, 7, 7),
        ("chr1", 31, 2, 2),
        ("chrX", 101, 1, 0),
        ("chr2", 9, 0, 9),
        ("chr2", 19, 6, 2),
        ("chrX", 3000000000, 5, 5),
    ]
    path = write(tmp_path / "c.cov", [f"{c}\t{p}\t{p}\t{100 * m / (m + u):g}\t{m}\t{u}" for c, p, m, u in rows])
    calls = read_calls(path, "bismark-cov")
    assert calls.chrom_names == ["chr1", "chr2", "chrX"]  # order of first appearance
    names = [calls.chrom_names[k] for k in calls.chrom_index]
    assert names == [c for c, _, _, _ in rows]
    # 0-based; the last position does not fit 32 bits and must survive
    assert calls.pos.tolist() == [p - 1 for _, p, _, _ in rows]
    assert calls.count_m.tolist() == [3, 0, 7, 2, 1, 0, 6, 5]
    assert calls.count_u.tolist() == [1, 4, 7, 2, 0, 9, 2, 5]
    assert calls.strand.tolist() == [0] * 8


def test_fractional_counts_keep_float64(tmp_path):
    # methylKit: count_m = coverage x freqC / 100, not whole: must not be rounded to float32
    lines = ["chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT"]
    lines += [f"chr1.{p}\tchr1\t{p}\tF\t3\t33.33\t66.67" for p in (10, 20, 30, 40, 50)]
    calls = read_calls(write(tmp_path / "k.txt", lines), "methylkit")
    assert calls.count_m.dtype == np.float64
    assert calls.count_m[4] == 3 * 33.33 / 100


def test_bad_value_in_a_later_chunk_names_its_line(tmp_path):
    lines = [f"chr1\t{p}\t{p}\t50\t1\t1" for p in range(1, 9)]
    lines[6] = "chr1\t7\t7\t50\tx\t1"  # line 7, in the third chunk
    with pytest.raises(InputFormatError) as err:
        read_calls(write(tmp_path / "bad.cov", lines), "bismark-cov")
    assert err.value.line == 7
    assert "'x' is not a number" in str(err.value)


def test_wrong_field_count_in_a_later_chunk_names_its_line(tmp_path):
    lines = [f"chr1\t{p}\t{p}\t50\t1\t1" for p in range(1, 9)]
    lines[7] += "\t9"
    with pytest.raises(InputFormatError) as err:
        read_calls(write(tmp_path / "wide.cov", lines), "bismark-cov")
    assert err.value.line == 8


def test_context_filter_per_chunk_keeps_only_chromosomes_with_calls(tmp_path):
    # cytosine report: chr9 has only CHG rows, which are dropped; it must not appear as a chromosome with calls
    lines = [
        "chr1\t1\t+\t1\t1\tCG\tCGA",
        "chr9\t5\t+\t1\t1\tCHG\tCAG",
        "chr9\t8\t-\t1\t1\tCHG\tCTG",
        "chr1\t2\t-\t2\t0\tCG\tCGT",
        "chr2\t4\t+\t0\t3\tCG\tCGG",
        "chr9\t9\t+\t1\t1\tCHH\tCAA",
    ]
    calls = read_calls(write(tmp_path / "r.txt", lines), "bismark-cpg-report")
    assert calls.chrom_names == ["chr1", "chr2"]
    assert [calls.chrom_names[k] for k in calls.chrom_index] == ["chr1", "chr1", "chr2"]
    assert calls.pos.tolist() == [0, 1, 3]
    assert calls.strand.tolist() == [1, -1, 1]
    assert calls.context_dropped == 3


def modkit_line(pos, code, nvalid, nmod):
    ncanon = nvalid - nmod
    return (
        f"chr1\t{pos}\t{pos + 1}\t{code}\t{nvalid}\t+\t{pos}\t{pos + 1}\t255,0,0\t{nvalid}\t"
        f"{100 * nmod / nvalid:.2f}\t{nmod}\t{ncanon}\t0\t0\t0\t0\t0"
    )


def test_modkit_code_chosen_on_the_whole_file(tmp_path):
    # the first chunk holds only 5hmC rows: a reader deciding per chunk would take h there; 5mC is in the file
    lines = [modkit_line(p, "h", 10, 1) for p in (1, 2, 3)] + [modkit_line(p, "m", 10, 4) for p in (1, 2, 3)]
    lines.append(modkit_line(4, "h", 10, 2))
    calls = read_calls(write(tmp_path / "mk.bed", lines), "modkit")
    assert calls.pos.tolist() == [1, 2, 3]
    assert calls.count_m.tolist() == [4, 4, 4]
    assert calls.count_u.tolist() == [6, 6, 6]
    h = read_calls(str(tmp_path / "mk.bed"), "modkit", mod_code="h")
    assert h.pos.tolist() == [1, 2, 3, 4]
    assert h.count_m.tolist() == [1, 1, 1, 2]


def test_bedgraph_scale_decided_on_the_whole_column(tmp_path):
    # levels <= 1 in the first chunks, one of 80 in the last: the whole column is percent
    lines = [f"chr1\t{p}\t{p + 1}\t{v}" for p, v in zip(range(0, 14, 2), (0.5, 1, 0, 0.25, 1, 0.75, 80))]
    calls = read_calls(write(tmp_path / "l.bedGraph", lines), "bedgraph")
    assert calls.level.tolist() == [0.005, 0.01, 0.0, 0.0025, 0.01, 0.0075, 0.8]


def test_stray_track_lines_inside_the_data_are_skipped(tmp_path):
    lines = [
        "chr1\t1\t1\t50\t1\t1",
        "chr1\t2\t2\t50\t1\t1",
        "chr1\t3\t3\t50\t1\t1",
        "track name=second",
        "chr2\t4\t4\t50\t2\t2",
        "# comment",
    ]
    calls = read_calls(write(tmp_path / "cat.cov", lines), "bismark-cov")
    assert calls.pos.tolist() == [0, 1, 2, 3]
    assert calls.chrom_names == ["chr1", "chr2"]


def test_chromosome_order_is_that_of_the_first_kept_call(tmp_path):
    # chrA's first rows are CHG (dropped): the kept calls start on chrB, and the dataset's chromosome order
    # follows the kept calls (chrB, chrA), as when the whole table was read at once
    lines = [
        "chrA\t1\t+\t1\t1\tCHG\tCAG",
        "chrA\t3\t+\t1\t1\tCHH\tCAA",
        "chrA\t5\t+\t1\t1\tCHH\tCTT",
        "chrB\t2\t+\t1\t0\tCG\tCGA",
        "chrA\t7\t+\t0\t1\tCG\tCGT",
    ]
    calls = read_calls(write(tmp_path / "o.txt", lines), "bismark-cpg-report")
    assert calls.chrom_names == ["chrB", "chrA"]
    assert calls.chrom_index.tolist() == [0, 1]
    # modkit: the 5hmC rows (dropped after the last chunk) come first and name chr2
    lines = [modkit_line(p, "h", 10, 1).replace("chr1", "chr2") for p in (1, 2, 3)]
    lines += [modkit_line(5, "m", 10, 3), modkit_line(1, "m", 10, 2).replace("chr1", "chr2")]
    calls = read_calls(write(tmp_path / "mk.bed", lines), "modkit")
    assert calls.chrom_names == ["chr1", "chr2"]
    assert calls.pos.tolist() == [5, 1]


@pytest.mark.parametrize("block", [1, 3, 1 << 24])
def test_n_counts_across_blocks(monkeypatch, block):
    # the runs of N are found block by block: any block size gives the count of a plain loop over each window

    monkeypatch.setattr(encoding, "N_RUN_BLOCK", block)
    rng = np.random.default_rng(7)
    flank = 4
    for length in (1, 2, 9, 50):
        codes = rng.integers(0, 4, length).astype(np.uint8)
        codes[rng.random(length) < 0.4] = encoding.N
        codes[0] = encoding.N if length % 2 else codes[0]
        pos = np.arange(length)
        for beyond in (True, False):
            expect = []
            for p in pos:
                window = [q for q in range(p - flank, p + flank + 1) if q != p]  # 2 * flank bases, site excluded
                inside = sum(1 for q in window if 0 <= q < length and codes[q] == encoding.N)
                expect.append(inside + (sum(1 for q in window if not 0 <= q < length) if beyond else 0))
            assert encoding.n_counts(codes, pos, flank, beyond_ends=beyond).tolist() == expect


def test_encode_calls_interleaved_across_chromosomes(tmp_path, capsys):
    # calls not grouped by chromosome (and across chunks of 3 rows): each chromosome's calls are still merged
    # together, chromosomes in the order of their first call. Worked by hand: chr1 ACGTTCGA has CpGs at 1 and
    # 5, chr2 TTCGAACG at 2 and 6 (0-based C); the '-' call on chr2's G at 3 joins the CpG at 2

    fa = write(tmp_path / "g.fa", [">chr1", "ACGTTCGA", ">chr2", "TTCGAACG"])
    calls = write(
        tmp_path / "c.cov",
        [
            "chr2\t7\t7\t75\t3\t1",
            "chr1\t2\t2\t50\t1\t1",
            "chr2\t3\t3\t0\t0\t2",
            "chr1\t6\t6\t100\t2\t0",
            "chr2\t4\t4\t50\t1\t1",
        ],
    )
    out = tmp_path / "o.npz"
    rc, err = run_main(
        main,
        [
            "--genome",
            fa,
            "--calls",
            calls,
            "--calls-format",
            "bismark-cov",
            "--flank",
            2,
            "--min-coverage",
            1,
            "--max-n-fraction",
            1,
            "--no-windows",
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    d = load(out)
    assert d["chrom"].tolist() == ["chr2", "chr2", "chr1", "chr1"]
    assert d["pos"].tolist() == [2, 6, 1, 5]
    assert d["y"].tolist() == [0.25, 0.75, 0.5, 1.0]
    assert d["coverage"].tolist() == [4, 4, 2, 2]
    assert d["seq"].shape == (4, 0)
