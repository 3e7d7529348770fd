"""CpG finding on an encoded chromosome and the per-site columns derived from it (strand text, CpG-island flag)."""

import numpy as np

from mrcnn_tools.encoding import find_cpgs, minus_mask

STRAND_TEXT = np.array([".", "+", "-"])  # the dataset's strand text, indexed by int8 strand 0, 1, -1


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
