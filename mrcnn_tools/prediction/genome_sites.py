"""The CpGs of a genome to predict, in a selection and a shard, streamed chunk by chunk from the memory-mapped
genome codes; and the one rule by which shards split sites."""

import logging

import numpy as np

from mrcnn_tools.genome.codes import FastaCodes, open_genome_codes
from mrcnn_tools.genome.cpgs import cpg_site_range, cpg_sites

log = logging.getLogger(__name__)


def shard_range(total, shard):
    """Global site indices [start, end) of shard ``(i, n)``, i 1-based: contiguous, disjoint, covering all."""
    if shard is None:
        return 0, total
    i, n = shard
    return (i - 1) * total // n, i * total // n


class GenomeSites:
    """The CpGs of a genome in a selection (and a shard), streamed in chunks, one chromosome at a time.

    The bases are read from the genome's memory-mapped codes (:func:`~mrcnn_tools.genome.codes.open_genome_codes`,
    built once per genome), whose index holds the CpG counts of every chromosome by block: a shard (without
    regions) reads only the blocks of its own sites, never the chromosomes before them.

    Parameters
    ----------
    genome : mrcnn_tools.genome.fasta.Genome
    regions : IntervalSet, optional
    chroms_ok : callable, optional
        Whether a chromosome (by name) is selected.
    keep_strands : bool
    shard : (int, int), optional
        Every shard gets a contiguous, equal part of the sites (counted from the index; with regions, in them).
    codes : GenomeCodes, optional
        The genome's codes, when already open.
    cache_dir : str, optional
        Where the codes are kept (:func:`~mrcnn_tools.genome.codes.open_genome_codes`).
    """

    def __init__(
        self, genome, *, regions=None, chroms_ok=None, keep_strands=False, shard=None, codes=None, cache_dir=None
    ):
        self.genome, self.regions, self.keep_strands = genome, regions, keep_strands
        if codes is None:
            codes = open_genome_codes(genome.path, cache_dir=cache_dir, genome=genome, required=False)
        if codes is None:
            log.warning("%s: no writable directory for the genome codes; reading the FASTA instead", genome.path)
            codes = FastaCodes(genome)
        self.codes = codes
        self.names = [c for c in genome.chromosomes() if chroms_ok is None or chroms_ok(c)]
        self.counts = self.bounds = None
        if shard is not None:
            self.counts = [self._count(c) for c in self.names]
            self.bounds = shard_range(sum(self.counts), shard)
        lengths = genome.lengths()
        self._offset, done = {}, 0
        for c in self.names:
            self._offset[c] = done
            done += self._covered(c, lengths[c])
        self.bp = done

    def chrom_codes(self, name):
        """Chromosome *name* as uint8 codes (a view of the memory-mapped file)."""
        return self.codes.chrom(name)

    def _count(self, name):
        """Sites of chromosome *name*: from the index, or (with regions) found in the regions' bases."""
        if self.regions is None:
            return int(self.codes.cpg_counts(name)[1][-1]) * (2 if self.keep_strands else 1)
        return len(self._sites(name)[0])

    def _sites(self, name, a=0, b=None):
        """Sites *a* to *b* - 1 of chromosome *name* (all by default), as :func:`cpg_sites` orders them."""
        if self.regions is not None:
            pos, strand = cpg_sites(self.chrom_codes(name), name, self.regions, self.keep_strands)
            return pos[a:b], strand[a:b]
        block, cum = self.codes.cpg_counts(name)
        b = int(cum[-1]) * (2 if self.keep_strands else 1) if b is None else b
        return cpg_site_range(self.chrom_codes(name), cum, block, a, b, self.keep_strands)

    def _covered(self, name, end):
        """Selected bases of chromosome *name* before position *end*."""
        if self.regions is None:
            return int(end)
        starts, ends = self.regions.intervals(name)
        return int(np.clip(np.minimum(ends, end) - starts, 0, None).sum())

    def total(self):
        """(amount of work, unit) for progress: the CpGs of the shard when counted, else the selected bases."""
        if self.bounds is not None:
            return self.bounds[1] - self.bounds[0], "CpG"
        return self.bp, "bp"

    def done(self, name, pos):
        """Work done, in the unit of :meth:`total`, once the sites of chromosome *name* up to *pos* (int64 (k,),
        sorted) are predicted; None when counted in CpGs (add the chunk's size)."""
        if self.bounds is not None or len(pos) == 0:
            return None
        return self._offset[name] + self._covered(name, int(pos[-1]) + 1)

    def chunks(self, chunk_size=65536):
        """Yield ``(chrom, pos int64 (k,), strand int8 (k,))``; windows are cut by the caller (it knows the flank)."""
        seen = 0
        for k, name in enumerate(self.names):
            if self.counts is None:
                pos, strand = self._sites(name)
            else:
                lo, hi = self.bounds
                a, b = max(lo - seen, 0), min(hi - seen, self.counts[k])
                seen += self.counts[k]
                if a >= b:
                    continue
                pos, strand = self._sites(name, a, b)
            for i in range(0, len(pos), chunk_size):
                yield name, pos[i : i + chunk_size], strand[i : i + chunk_size]
