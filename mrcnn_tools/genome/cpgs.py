"""CpG finding on an encoded chromosome and the per-site columns derived from it (strand text, CpG-island flag);
the CpG counts per block that let a shard find its sites without reading the chromosome before them."""

import numpy as np

from mrcnn_tools.encoding import C, G, find_cpgs, minus_mask
from mrcnn_tools.errors import MrcnnError

STRAND_TEXT = np.array([".", "+", "-"])  # the dataset's strand text, indexed by int8 strand 0, 1, -1
CPG_BLOCK = 1 << 20  # bases per block of the CpG counts in the genome codes' index


def cpg_sites(codes, name, regions=None, keep_strands=False):
    """Positions and strands of the CpGs of one chromosome, optionally within regions.

    Parameters
    ----------
    codes : numpy.ndarray, uint8 (length,)
        The chromosome in the TCGA-N codes of :mod:`encoding`.
    name : str
        Its name, as *regions* know it.
    regions : IntervalSet, optional
        A CpG is kept when its C lies in a region.
    keep_strands : bool
        False: the C of each CpG, strand 0. True: the C (+1) and the G (-1) of each, in order.

    Returns
    -------
    pos : numpy.ndarray, int64 (n,), 0-based
    strand : numpy.ndarray, int8 (n,)
    """
    if regions is not None:
        starts, ends = regions.intervals(name)
        pos = np.concatenate([find_cpgs(codes, s, e + 1) for s, e in zip(starts, ends)] or [np.empty(0, np.int64)])
        # a CpG belongs to a region when its C does; find_cpgs over [s, e+1) may add one at e
        pos = pos[regions.contains(name, pos)]
    else:
        pos = find_cpgs(codes)
    return with_strands(pos, keep_strands)


def with_strands(pos, keep_strands):
    """The sites of CpGs at *pos* (int64 (n,), their C): ``(pos, zeros int8)``, or with *keep_strands* the C (+1)
    and the G (-1) of each, in order: ``(int64 (2n,), int8 (2n,))``."""
    if not keep_strands:
        return pos, np.zeros(len(pos), np.int8)
    both = np.empty(2 * len(pos), np.int64)
    both[0::2], both[1::2] = pos, pos + 1
    strand = np.empty(2 * len(pos), np.int8)
    strand[0::2], strand[1::2] = 1, -1
    return both, strand


def cgi_flags(cgi, chrom, pos, strand):
    """CpG-island flag of sites: numpy int8 (n,), 1 inside an island of *cgi* (IntervalSet), 0 not, -1 when *cgi*
    is None. A minus-strand site (the G) is placed by its C, one base to the left."""
    if cgi is None:
        return np.full(len(pos), -1, np.int8)
    site = np.where(minus_mask(strand), pos - 1, pos)
    return cgi.contains(chrom, site).astype(np.int8)


def cpg_block_counts(codes, block=CPG_BLOCK):
    """Cumulative CpG counts of a chromosome by block: entry j is the number of CpGs whose C lies before j*block.

    Parameters
    ----------
    codes : numpy.ndarray, uint8 (length,)
        One chromosome (a memory-mapped slice is read one block at a time).
    block : int

    Returns
    -------
    numpy.ndarray, int64 (ceil(length / block) + 1,); the last entry is the chromosome's number of CpGs.
    """
    n = len(codes)
    counts = np.zeros(-(-n // block) + 1, np.int64)
    for j in range(len(counts) - 1):
        sub = np.asarray(codes[j * block : min((j + 1) * block + 1, n)])  # one base more: a CpG across the edge
        counts[j + 1] = np.count_nonzero((sub[:-1] == C) & (sub[1:] == G))
    return np.cumsum(counts)


def cpg_rank_range(codes, cum, block, first, last):
    """Positions (int64 (last - first,)) of the CpGs of rank *first* to *last* - 1 of a chromosome (0-based, in
    order of position), reading only the blocks that hold them (*cum* from :func:`cpg_block_counts`)."""
    if last <= first:
        return np.empty(0, np.int64)
    jb = int(np.searchsorted(cum, first, "right")) - 1  # the block of the first one
    je = int(np.searchsorted(cum, last, "left"))  # every wanted C lies before block je
    hits = find_cpgs(codes, jb * block, je * block + 1)
    k = first - int(cum[jb])
    pos = hits[k : k + last - first]
    if len(pos) != last - first:
        raise MrcnnError(
            "the CpG counts of the genome codes do not match their bases; delete the .codes files and rerun"
        )
    return pos


def cpg_site_range(codes, cum, block, a, b, keep_strands=False):
    """Sites *a* to *b* - 1 of a chromosome as :func:`cpg_sites` orders them without regions: ``(pos int64 (k,),
    strand int8 (k,))``, equal to ``cpg_sites(codes, name, None, keep_strands)`` sliced ``[a:b]``."""
    m = 2 if keep_strands else 1
    first = a // m
    pos, strand = with_strands(cpg_rank_range(codes, cum, block, first, -(-b // m)), keep_strands)
    return pos[a - first * m : b - first * m], strand[a - first * m : b - first * m]
