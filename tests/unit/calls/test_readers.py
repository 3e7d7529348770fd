"""Calls readers on a few lines per format: detection, 0-based positions, strands, counts, worked out by hand."""

import gzip
import math

import numpy as np
import pytest

from mrcnn_tools.calls.detect import detect_format
from mrcnn_tools.calls.readers import read_calls
from mrcnn_tools.calls.source import Source, fields, is_header, leading_headers
from mrcnn_tools.errors import InputFormatError


def write(tmp_path, name, text, gz=False):
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return str(path)


def test_line_syntax():
    assert fields('"chr1"\t10  11\t\t') == ["chr1", "10", "11"]
    assert is_header("track type=bedGraph") and is_header("chrom\tstart\tlevel") and not is_header("chr1\t1\t2")
    assert leading_headers(["#x", "track y", "chr1\t5\t6", "#z"]) == 2


def test_source_reads_gzip_and_drops_a_byte_order_mark(tmp_path):
    path = write(tmp_path, "c.txt", "\ufeffchr1\t1\t1\t50\t1\t1\r\n", gz=True)
    assert Source(path).head() == ["chr1\t1\t1\t50\t1\t1"]


def test_bismark_cov_is_one_based_with_counts(tmp_path):
    path = write(tmp_path, "a.cov", "chr1\t11\t11\t75\t3\t1\nchr2\t1\t1\t0\t0\t2\n")
    assert detect_format(path) == "bismark-cov"
    calls = read_calls(path)
    assert calls.format == "bismark-cov" and calls.has_counts
    assert calls.chrom_names == ["chr1", "chr2"] and calls.chrom_index.tolist() == [0, 1]
    assert calls.pos.tolist() == [10, 0] and calls.strand.tolist() == [0, 0]
    assert calls.count_m.tolist() == [3, 0] and calls.count_u.tolist() == [1, 2]


def test_cpg_report_keeps_cg_rows_and_counts_the_others(tmp_path):
    text = "chr1\t5\t+\t2\t2\tCG\tCGA\nchr1\t6\t-\t1\t0\tCG\tCGT\nchr1\t9\t+\t4\t0\tCHG\tCAG\n"
    path = write(tmp_path, "r.txt", text)
    calls = read_calls(path, "bismark-cpg-report")
    assert calls.pos.tolist() == [4, 5] and calls.strand.tolist() == [1, -1]
    assert calls.count_m.tolist() == [2, 1] and calls.count_u.tolist() == [2, 0]
    assert calls.context_dropped == 1


def test_bedmethyl_level_times_coverage(tmp_path):
    line = "chr1\t100\t101\t.\t10\t-\t100\t101\t0,0,0\t8\t25\n"
    path = write(tmp_path, "b.bed", line)
    assert detect_format(path) == "bedmethyl"
    calls = read_calls(path)
    # 0-based already; 25% of 8 reads = 2 methylated, 6 not
    assert calls.pos.tolist() == [100] and calls.strand.tolist() == [-1]
    assert calls.count_m.tolist() == [2] and calls.count_u.tolist() == [6]


def test_bedgraph_percent_or_fraction_from_the_whole_column(tmp_path):
    calls = read_calls(write(tmp_path, "p.bg", "track type=bedGraph\nchr1\t0\t1\t50\nchr1\t4\t5\t100\n"))
    assert calls.format == "bedgraph" and not calls.has_counts
    assert calls.level.tolist() == [0.5, 1.0] and all(math.isnan(v) for v in calls.count_m)
    calls = read_calls(write(tmp_path, "f.bg", "chr1\t0\t1\t0.5\nchr1\t4\t5\t1\n"), "bedgraph")
    assert calls.level.tolist() == [0.5, 1.0]


def test_tsv_with_header_and_strand(tmp_path):
    path = write(tmp_path, "t.tsv", "chrom\tstart\tcount_m\tcount_u\tstrand\nchrX\t7\t1\t3\t-\n")
    calls = read_calls(path)
    assert calls.format == "tsv" and calls.pos.tolist() == [7] and calls.strand.tolist() == [-1]
    assert calls.count_m.tolist() == [1] and calls.count_u.tolist() == [3]


def test_errors_name_the_line(tmp_path):
    path = write(tmp_path, "bad.cov", "chr1\t11\t11\t75\t3\t1\nchr1\t12\t12\t75\tx\t1\n")
    with pytest.raises(InputFormatError, match="line 2"):
        read_calls(path, "bismark-cov")
    path = write(tmp_path, "zero.cov", "chr1\t0\t0\t75\t3\t1\n")
    with pytest.raises(InputFormatError, match="0-based"):
        read_calls(path, "bismark-cov")
    with pytest.raises(InputFormatError, match="empty"):
        detect_format(write(tmp_path, "empty.txt", ""))


def test_compact_dtypes(tmp_path):
    calls = read_calls(write(tmp_path, "a.cov", "chr1\t11\t11\t75\t3\t1\n"))
    assert calls.pos.dtype == np.int32 and calls.count_m.dtype == np.float32 and calls.chrom_index.dtype == np.int16
