"""The CpG counts in the genome codes' index: per chromosome and per block, equal to a naive count; the site ranges
a shard reads from them; an index from before the counts still works (they are added on first use)."""

import json
import os

import numpy as np
import pytest

from mrcnn_tools.genome import codes as genome_codes
from mrcnn_tools.genome.codes import open_genome_codes
from mrcnn_tools.genome.cpgs import cpg_block_counts, cpg_rank_range, cpg_site_range, cpg_sites
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.prediction.genome_sites import GenomeSites


def naive_cpgs(seq):
    """0-based positions of the C of every CG, by hand: case ignored, N (or anything else) is no base."""
    s = seq.upper()
    return [i for i in range(len(s) - 1) if s[i] == "C" and s[i + 1] == "G"]


@pytest.fixture
def small_genome(tmp_path):
    """Three chromosomes: soft-masked bases, N runs, a CpG split across a line end, one without any CpG; and the
    sequences as written."""
    rng = np.random.default_rng(3)
    seqs = {
        "chr1": "".join(rng.choice(list("ACGTacgtN"), 2000)) + "cG",
        "chr2": "CG" + "N" * 50 + "".join(rng.choice(list("CGcgT"), 900)),
        "chrU": "ATATTTAAAT" * 7,
    }
    fa = tmp_path / "g" / "small.fa"
    fa.parent.mkdir()
    fa.write_text(
        "".join(f">{k}\n" + "\n".join(v[i : i + 61] for i in range(0, len(v), 61)) + "\n" for k, v in seqs.items())
    )
    return fa, seqs


def test_counts_in_the_index_equal_a_naive_count(small_genome, monkeypatch):

    monkeypatch.setattr(genome_codes, "CPG_BLOCK", 64)  # many blocks on a small genome
    fa, seqs = small_genome
    codes = open_genome_codes(str(fa))
    index = json.loads(open(codes.path + ".json").read())
    assert index["cpg_block"] == 64
    for name, seq in seqs.items():
        want = naive_cpgs(seq)
        block, cum = codes.cpg_counts(name)
        assert block == 64 and cum[-1] == len(want) and len(cum) == -(-len(seq) // 64) + 1
        assert cum.tolist() == [sum(p < j * 64 for p in want) for j in range(len(cum) - 1)] + [len(want)]
        assert [c["cpgs"] for c in index["chroms"] if c["name"] == name] == [cum.tolist()]
    assert codes.cpg_counts("1")[1][-1] == len(naive_cpgs(seqs["chr1"]))  # 1 names chr1, as everywhere


@pytest.mark.parametrize("block", [1, 2, 5, 64, 1 << 20])
def test_rank_and_site_ranges_equal_slices_of_all_sites(small_genome, block):

    fa, seqs = small_genome
    chrom = Genome(str(fa)).codes("chr1")
    cum = cpg_block_counts(chrom, block)
    allpos = naive_cpgs(seqs["chr1"])
    n = len(allpos)
    rng = np.random.default_rng(block)
    for first, last in [(0, n), (0, 1), (n - 1, n), (5, 5), *rng.integers(0, n, (20, 2)).tolist()]:
        first, last = min(first, last), max(first, last)
        assert cpg_rank_range(chrom, cum, block, first, last).tolist() == allpos[first:last]
    for keep in (False, True):
        pos, strand = cpg_sites(chrom, "chr1", None, keep)
        m = len(pos)
        for a, b in [(0, m), (1, 2), (m - 1, m), *rng.integers(0, m, (20, 2)).tolist()]:
            a, b = min(a, b), max(a, b)
            got = cpg_site_range(chrom, cum, block, a, b, keep)
            assert got[0].tolist() == pos[a:b].tolist() and got[1].tolist() == strand[a:b].tolist()


@pytest.mark.parametrize("keep_strands", [False, True])
def test_genome_sites_counts_by_chromosome_with_strands(small_genome, keep_strands):

    fa, seqs = small_genome
    sites = GenomeSites(Genome(str(fa)), keep_strands=keep_strands, shard=(1, 1))
    assert sites.counts == [len(naive_cpgs(s)) * (2 if keep_strands else 1) for s in seqs.values()]


def test_codes_file_from_before_the_counts_still_works(small_genome, caplog):

    fa, seqs = small_genome
    codes = open_genome_codes(str(fa))
    old = json.loads(open(codes.path + ".json").read())
    old.pop("cpg_block")
    for c in old["chroms"]:
        c.pop("cpgs")
    with open(codes.path + ".json", "w") as fh:
        json.dump(old, fh)
    mtime = os.stat(codes.path).st_mtime_ns
    want = [(c, p) for c, s in seqs.items() for p in naive_cpgs(s)]
    with caplog.at_level("INFO", logger="mrcnn_tools"):
        sites = GenomeSites(Genome(str(fa)), shard=(2, 3))
        got = [(c, p) for c, pos, _ in sites.chunks(7) for p in pos.tolist()]
    n = len(want)
    assert got == want[n // 3 : 2 * n // 3]
    assert any("added the CpG counts" in r.message for r in caplog.records)
    # the codes are kept (not rebuilt from the FASTA), the index now has the counts
    again = open_genome_codes(str(fa))
    assert again.path == codes.path and os.stat(codes.path).st_mtime_ns == mtime
    assert again.index["cpg_block"] == genome_codes.CPG_BLOCK
    assert again.cpg_counts("chr2")[1][-1] == len(naive_cpgs(seqs["chr2"]))


def test_no_writable_directory_reads_the_fasta_instead(small_genome, monkeypatch, caplog):

    fa, seqs = small_genome
    want = [(c, p) for c, s in seqs.items() for p in naive_cpgs(s)]
    monkeypatch.setattr(genome_codes, "_writable", lambda d: False)
    with caplog.at_level("WARNING", logger="mrcnn_tools"):
        parts = [GenomeSites(Genome(str(fa)), shard=(i, 3)) for i in (1, 2, 3)]
    assert all(isinstance(p.codes, genome_codes.FastaCodes) for p in parts)
    assert [(c, p) for s in parts for c, pos, _ in s.chunks(5) for p in pos.tolist()] == want
    assert any("reading the FASTA instead" in r.message for r in caplog.records)
    assert not [f for f in os.listdir(fa.parent) if ".codes" in f]
