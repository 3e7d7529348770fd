"""Chromosome names of mrcnn-predict's outputs (docs/FORMATS.md §3): the genome's, or the UCSC or Ensembl spelling."""

import numpy as np
import pytest

from mrcnn_tools.prediction.chroms import CHROM_NAMES, ChromNamer, ensembl_name, ucsc_name

# name as a FASTA or the calls may spell it -> (UCSC, Ensembl)
NAMES = {
    "1": ("chr1", "1"),
    "chr1": ("chr1", "1"),
    "22": ("chr22", "22"),
    "X": ("chrX", "X"),
    "chrY": ("chrY", "Y"),
    "MT": ("chrM", "MT"),
    "M": ("chrM", "MT"),
    "chrM": ("chrM", "MT"),
    "chrMT": ("chrM", "MT"),
    "2L": ("chr2L", "2L"),  # Drosophila arms
    "XVI": ("chrXVI", "XVI"),  # yeast
    "Z": ("chrZ", "Z"),  # birds
    # unplaced contigs: the Ensembl name does not say which chromosome the UCSC name would hold: left alone
    "GL000192.1": ("GL000192.1", "GL000192.1"),
    "KI270728.1": ("KI270728.1", "KI270728.1"),
    # UCSC contig names hold the accession of the Ensembl name
    "chr1_gl000192_random": ("chr1_gl000192_random", "GL000192.1"),
    "chrUn_gl000220": ("chrUn_gl000220", "GL000220.1"),
    "chr1_KI270706v1_random": ("chr1_KI270706v1_random", "KI270706.1"),
    "chrUn_KI270302v1": ("chrUn_KI270302v1", "KI270302.1"),
    "chr6_GL000250v2_alt": ("chr6_GL000250v2_alt", "GL000250.2"),
    # names of no convention: as they are
    "chr6_apd_hap1": ("chr6_apd_hap1", "chr6_apd_hap1"),
    "chrEBV": ("chrEBV", "chrEBV"),
    "scaffold_7": ("scaffold_7", "scaffold_7"),
    "contig12": ("contig12", "contig12"),
    "22:20000001-21000000": ("22:20000001-21000000", "22:20000001-21000000"),
}


@pytest.mark.parametrize("name", list(NAMES))
def test_ucsc_and_ensembl_spelling(name):
    ucsc, ensembl = NAMES[name]
    assert ucsc_name(name) == ucsc
    assert ensembl_name(name) == ensembl


@pytest.mark.parametrize("name", list(NAMES))
def test_each_spelling_is_stable(name):
    """Renaming twice changes nothing more: a UCSC name is its own UCSC name, and so for Ensembl."""
    assert ucsc_name(ucsc_name(name)) == ucsc_name(name)
    assert ensembl_name(ensembl_name(name)) == ensembl_name(name)


def test_primary_chromosomes_go_both_ways():
    for name in ["1", "22", "X", "Y", "MT", "2L"]:
        assert ensembl_name(ucsc_name(name)) == name
        assert ucsc_name(ensembl_name(ucsc_name(name))) == ucsc_name(name)


def test_genome_names_replace_the_calls_names_then_the_style_applies():
    # a dataset recorded the FASTA's names (20, MT) while its calls said chr20, chrM
    genome = ChromNamer("genome", ["20", "MT", "GL000192.1"])
    assert [genome(c) for c in ("chr20", "chrM", "20", "GL000192.1", "chrUn_x")] == [
        "20",
        "MT",
        "20",
        "GL000192.1",
        "chrUn_x",  # not in the genome: as recorded
    ]
    ucsc = ChromNamer("ucsc", ["20", "MT"])
    assert [ucsc(c) for c in ("chr20", "M", "GL000192.1")] == ["chr20", "chrM", "GL000192.1"]
    ensembl = ChromNamer("ensembl", ["chr20", "chrM"])
    assert [ensembl(c) for c in ("20", "MT", "chr1_gl000192_random")] == ["20", "MT", "GL000192.1"]


def test_array_renames_each_distinct_name_once():
    names = ChromNamer("ucsc", ["1", "MT"])
    got = names.array(np.array(["1", "MT", "1", "1", "MT"]))
    assert list(got) == ["chr1", "chrM", "chr1", "chr1", "chrM"]
    assert len(names.array(np.array([], "<U1"))) == 0


def test_unknown_style_is_refused():
    assert CHROM_NAMES == ("genome", "ucsc", "ensembl")
    with pytest.raises(ValueError, match="ucsc"):
        ChromNamer("refseq")
