"""Regions: samtools strings, BED files, merged interval sets and the site selection, against hand-made answers."""

import numpy as np
import pytest

from mrcnn_tools.data.arrays import Summary, subsample
from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.errors import InputFormatError, UsageError
from mrcnn_tools.genome.regions import IntervalSet, Selection, parse_region, read_bed


@pytest.mark.parametrize(
    "text, expect",
    [
        ("chr22:20000001-20500000", ("chr22", 20000000, 20500000)),
        ("22:1,001-2,000", ("22", 1000, 2000)),
        ("chrX:5", ("chrX", 4, 5)),
        ("chrM", ("chrM", 0, None)),
    ],
)
def test_parse_region_one_based_inclusive_to_half_open(text, expect):
    assert parse_region(text) == expect


@pytest.mark.parametrize("text", ["chr1:0-5", "chr1:10-5", "chr1:a-b", "chr1 2"])
def test_parse_region_refuses(text):
    with pytest.raises(UsageError):
        parse_region(text)


def test_read_bed_skips_headers_and_refuses_reversed(tmp_path):
    bed = tmp_path / "r.bed"
    bed.write_text("track name=x\n# comment\nchr1\t10\t20\tname\n\nchr2\t0\t5\n")
    assert read_bed(str(bed)) == [("chr1", 10, 20), ("chr2", 0, 5)]
    bed.write_text("chr1\t20\t10\n")
    with pytest.raises(InputFormatError, match="line 1"):
        read_bed(str(bed))


def test_interval_set_merges_overlaps_and_is_half_open_across_naming():
    s = IntervalSet([("chr1", 10, 20), ("1", 15, 30), ("chr1", 40, 41), ("chr2", 0, None)])
    starts, ends = s.intervals("1")
    assert starts.tolist() == [10, 40] and ends.tolist() == [30, 41]
    assert s.contains("chr1", [9, 10, 29, 30, 40, 41]).tolist() == [False, True, True, False, True, False]
    assert s.contains("chr2", [0, 10**9]).tolist() == [True, True]
    assert s.contains("chr3", [0]).tolist() == [False]
    assert sorted(s.chroms()) == ["1", "2"]


def test_selection_chromosomes_by_any_convention():
    assert Selection().chrom_ok("chrUn_x")
    sel = Selection(chroms=["22", "chrX"])
    assert [sel.chrom_ok(c) for c in ("chr22", "X", "chr1")] == [True, True, False]
    sel = Selection(exclude_chroms=["chrM"])
    assert [sel.chrom_ok(c) for c in ("MT", "chr1")] == [False, True]
    sel = Selection(regions=IntervalSet([("chr5", 0, 10)]))
    assert [sel.chrom_ok(c) for c in ("5", "chr6")] == [True, False]


def test_subsample_keeps_order_and_counts_the_rest():

    n = 10
    data = Dataset(
        seq=np.zeros((n, 4), np.uint8),
        y=np.linspace(0, 1, n).astype(np.float32),
        coverage=np.ones(n, np.int32),
        chrom=np.array(["c"] * n),
        pos=np.arange(n) * 10,
        strand=np.array(["."] * n),
        cgi=np.full(n, -1, np.int8),
        meta={},
    )
    summary = Summary()
    out = subsample(data, Selection(max_sites=4, seed=1), summary)
    assert len(out) == 4 and summary.dropped["subsampled"] == 6
    assert np.all(np.diff(out.pos) > 0) and set(out.pos.tolist()) <= set(data.pos.tolist())
    assert subsample(data, Selection(max_sites=20), Summary()) is data
