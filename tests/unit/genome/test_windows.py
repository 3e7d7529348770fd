"""Base codes, CpG finding, windows, N counts and CpG-island flags on tiny sequences worked out by hand."""

import numpy as np
import pytest

from mrcnn_tools.encoding import decode, encode_bytes, extract_windows, find_cpgs, is_cpg, n_counts
from mrcnn_tools.genome.cpgs import STRAND_TEXT, cgi_flags, cpg_sites
from mrcnn_tools.genome.regions import IntervalSet

#            0123456789
CHROM = "ACGTTCGNAC"  # CpGs with their C at 1 and 5


def test_codes_are_the_papers_tcga_order_and_anything_else_is_n():
    assert encode_bytes("TCGAtcgaNRx").tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 4, 4, 4]
    assert encode_bytes(b"GATTACA").dtype == np.uint8
    assert decode(encode_bytes("ACGTN")) == "ACGTN"


def test_find_cpgs_and_a_range_cut_through_a_cpg():
    codes = encode_bytes(CHROM)
    assert find_cpgs(codes).tolist() == [1, 5]
    assert find_cpgs(codes, 2, 10).tolist() == [5]
    assert find_cpgs(codes, 0, 2).tolist() == []  # the G of the first CpG lies outside [0, 2)


def test_cpg_sites_merged_kept_and_in_regions():
    codes = encode_bytes(CHROM)
    pos, strand = cpg_sites(codes, "c")
    assert pos.tolist() == [1, 5] and strand.tolist() == [0, 0]
    pos, strand = cpg_sites(codes, "c", keep_strands=True)
    assert pos.tolist() == [1, 2, 5, 6] and strand.tolist() == [1, -1, 1, -1]
    # a CpG belongs to a region when its C does: region [2, 6) holds the C at 5, not the one at 1
    pos, _ = cpg_sites(codes, "c", IntervalSet([("c", 2, 6)]))
    assert pos.tolist() == [5]
    pos, _ = cpg_sites(codes, "c", IntervalSet([("c", 2, 5)]))
    assert pos.tolist() == []
    assert STRAND_TEXT[np.array([0, 1, -1])].tolist() == [".", "+", "-"]


def test_windows_leave_the_site_out_pad_with_n_and_reverse_complement_minus():
    codes = encode_bytes(CHROM)
    # + site at 1 (flank 2): positions -1, 0 | 2, 3 -> N A | G T
    w = extract_windows(codes, np.array([1]), 2, np.array(["+"]))
    assert decode(w[0]) == "NAGT"
    # - site at 6 (the G of the CpG at 5): positions 4, 5 | 7, 8 = T C | N A, reverse-complemented: T N G A
    w = extract_windows(codes, np.array([6]), 2, np.array([-1]))
    assert decode(w[0]) == "TNGA"
    # at the right end: positions 8 | 10, 11 beyond the end
    w = extract_windows(codes, np.array([9]), 2)
    assert decode(w[0]) == "NANN"
    assert w.dtype == np.uint8 and w.shape == (1, 4)


def test_n_counts_with_and_without_the_ends():
    codes = encode_bytes(CHROM)
    pos = np.array([1, 5, 9])
    # windows (flank 2, site left out): [-1, 0, 2, 3], [3, 4, 6, 7], [7, 8, 10, 11]
    assert n_counts(codes, pos, 2).tolist() == [1, 1, 3]
    assert n_counts(codes, pos, 2, beyond_ends=False).tolist() == [0, 1, 1]


def test_is_cpg_by_strand():
    codes = encode_bytes(CHROM)
    assert is_cpg(codes, np.array([1, 2, 2, 5]), np.array(["+", "-", "+", "+"])).tolist() == [True, True, False, True]


@pytest.mark.parametrize("cgi, expect", [(None, [-1, -1, -1]), (IntervalSet([("c", 5, 6)]), [0, 1, 1])])
def test_cgi_flags_place_a_minus_site_by_its_c(cgi, expect):
    # sites: + at 1, + at 5, - at 6 (its C is at 5)
    got = cgi_flags(cgi, "c", np.array([1, 5, 6]), np.array([1, 1, -1], np.int8))
    assert got.tolist() == expect and got.dtype == np.int8
