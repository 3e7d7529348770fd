"""Windows of a dataset's sites cut on demand from the memory-mapped genome codes
(:class:`mrcnn_tools.genome.codes.GenomeCodes`), bit for bit those of :func:`mrcnn_tools.encoding.extract_windows`."""

import numpy as np

from mrcnn_tools.encoding import COMPLEMENT, extract_windows, minus_mask
from mrcnn_tools.errors import GenomeMismatchError

CHUNK = 16384  # rows per gather: keeps each block in cache (as encoding.extract_windows)


class SiteWindows:
    """Sites of a dataset as offsets into a :class:`GenomeCodes`; cuts their windows on demand.

    Parameters
    ----------
    genome : GenomeCodes
    chrom_id : int16 (n,)
    pos : int64 (n,) 0-based site positions
    strand : str or int8 (n,); minus windows are reverse-complemented
    names : str array, optional
        Chromosome name of each ``chrom_id`` as the dataset spells it (default: the genome's).
    """

    def __init__(self, genome, chrom_id, pos, strand, source="dataset", names=None):
        self.genome = genome
        self.names = np.asarray(genome.names if names is None else names)  # by chrom_id, as the dataset spells them
        pos = np.asarray(pos, np.int64)
        lengths = genome.lengths[chrom_id]
        bad = (pos < 0) | (pos >= lengths)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GenomeMismatchError(
                f"{source}: site {genome.names[chrom_id[i]]}:{pos[i] + 1} lies outside the chromosome "
                f"({lengths[i]} bp) of {genome.fasta}; give the FASTA the dataset was encoded with"
            )
        self.chrom_id = chrom_id
        self.gpos = genome.offsets[chrom_id]
        self.gpos += pos
        self.minus = minus_mask(strand) if strand is not None else np.zeros(len(pos), bool)

    def __len__(self):
        return len(self.gpos)

    def take(self, rows, flank, out=None):
        """Windows of the sites *rows* (index array; None = all), cut from the codes.

        The windows of :func:`mrcnn_tools.encoding.extract_windows`, bit for bit. That function pads the span of
        the sites it is given, which for a training batch drawn from the whole genome would copy whole
        chromosomes; here each window is read from the file where it lies, and only sites within *flank* of a
        chromosome end go through ``extract_windows``.

        Returns
        -------
        numpy.ndarray, uint8, shape (len(rows), 2*flank)
        """
        if rows is None:
            gpos, cid, minus = self.gpos, self.chrom_id, self.minus
        else:
            gpos, cid, minus = self.gpos[rows], self.chrom_id[rows], self.minus[rows]
        n = len(gpos)
        if out is None:
            out = np.empty((n, 2 * flank), np.uint8)
        if n == 0 or flank == 0:
            return out
        g = self.genome
        view = g.sliding(flank)
        start = g.offsets[cid]
        end = start + g.lengths[cid]
        for i in range(0, n, CHUNK):
            p, block = gpos[i : i + CHUNK], out[i : i + CHUNK]
            s, e = start[i : i + CHUNK], end[i : i + CHUNK]
            inner = (p - flank >= s) & (p + flank + 1 <= e)
            if inner.all():
                block[:, :flank] = view[p - flank]
                block[:, flank:] = view[p + 1]
            else:
                k = np.flatnonzero(inner)
                block[k, :flank] = view[p[k] - flank]
                block[k, flank:] = view[p[k] + 1]
                # near a chromosome end (rare): extract_windows on that chromosome alone pads with N, never reading
                # the neighbouring one; grouped by chromosome and end, so each call spans at most a few windows
                k = np.flatnonzero(~inner)
                local = p[k] - s[k]
                groups = cid[i : i + CHUNK][k].astype(np.int64) * 2 + (local < flank)
                for key in np.unique(groups):
                    sel = groups == key
                    c = int(key // 2)
                    chrom = g.codes[g.offsets[c] : g.offsets[c] + g.lengths[c]]
                    block[k[sel]] = extract_windows(chrom, local[sel], flank)
            m = np.flatnonzero(minus[i : i + CHUNK])
            if len(m):
                block[m] = COMPLEMENT[block[m, ::-1]]
        return out
