"""Genomic regions: samtools-style strings (1-based, inclusive) and BED files (0-based, half-open)."""

import re
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.errors import GenomeMismatchError, InputFormatError, UsageError
from mrcnn_tools.genome.fasta import canonical_chrom
from mrcnn_tools.io import iter_lines

_REGION = re.compile(r"^(?P<chrom>[^:\s]+)(?::(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?)?$")


def parse_region(text):
    """Parse ``chr22:20000001-20500000`` (1-based, inclusive) to ``(chrom, start0, end0)`` half-open.

    A bare chromosome name means the whole chromosome (end None).
    """
    m = _REGION.match(text.strip())
    if not m:
        raise UsageError(f"region '{text}' is not chrom:start-end (1-based, inclusive, as in samtools)")
    chrom = m["chrom"]
    if m["start"] is None:
        return chrom, 0, None
    start = int(m["start"].replace(",", ""))
    end = int(m["end"].replace(",", "")) if m["end"] else start
    if start < 1 or end < start:
        raise UsageError(f"region '{text}': start must be >= 1 and end >= start (1-based, inclusive)")
    return chrom, start - 1, end


def read_bed(path):
    """Read the first three columns of a BED file; ``track``/``browser``/``#`` lines are skipped.

    Returns
    -------
    list of (chrom, start0, end0)
    """
    out = []
    for lineno, line in iter_lines(path):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        cols = line.rstrip("\n\r").split("\t")
        if len(cols) < 3:
            raise InputFormatError(f"{len(cols)} columns, a BED line needs chrom, start, end", path, lineno)
        try:
            start, end = int(cols[1]), int(cols[2])
        except ValueError:
            raise InputFormatError("start/end are not integers; is this a BED file?", path, lineno) from None
        if start < 0 or end < start:
            raise InputFormatError(f"interval {start}-{end} is negative or reversed", path, lineno)
        out.append((cols[0], start, end))
    if not out:
        raise InputFormatError("no intervals in the BED file", path)
    return out


class IntervalSet:
    """Merged intervals per canonical chromosome name, for fast membership tests."""

    def __init__(self, intervals):
        by_chrom = {}
        self.names = {}  # canonical key -> the name as first given
        for chrom, start, end in intervals:
            by_chrom.setdefault(canonical_chrom(chrom), []).append((start, end if end is not None else 2**62))
            self.names.setdefault(canonical_chrom(chrom), chrom)
        self._data = {}
        for key, ivs in by_chrom.items():
            ivs.sort()
            merged = []
            for s, e in ivs:
                if merged and s <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            arr = np.array(merged, dtype=np.int64)
            self._data[key] = (arr[:, 0], arr[:, 1])

    def chroms(self):
        return list(self._data)

    def intervals(self, chrom):
        """Merged ``(starts, ends)`` int64 arrays for *chrom*, empty when none."""
        return self._data.get(canonical_chrom(chrom), (np.empty(0, np.int64), np.empty(0, np.int64)))

    def contains(self, chrom, pos):
        """Boolean (n,): whether each 0-based position lies in an interval of *chrom*."""
        starts, ends = self.intervals(chrom)
        pos = np.asarray(pos, dtype=np.int64)
        if len(starts) == 0:
            return np.zeros(len(pos), dtype=bool)
        i = np.searchsorted(starts, pos, side="right") - 1
        ok = i >= 0
        return ok & (pos < ends[np.clip(i, 0, None)])


@dataclass
class Selection:
    """Which sites to keep: chromosomes, regions (IntervalSet), subsample."""

    chroms: list = None
    exclude_chroms: list = None
    regions: object = None
    max_sites: int = None
    seed: int = 0

    def check(self, genome):
        """Refuse a selection that holds no position of *genome*: ``--region chr99:1-1000``, regions beyond the
        chromosome ends, ``--chroms`` naming none of its chromosomes. The one error of every command that selects
        (encode, predict ...), raised before any work; a selection of which some part lies on the genome is kept
        (a genome-wide BED with a one-chromosome FASTA).

        Raises
        ------
        GenomeMismatchError
        """
        lengths = {canonical_chrom(k): v for k, v in genome.lengths().items()}
        shown = ", ".join(f"{k} ({v:,} bp)" for k, v in list(genome.lengths().items())[:5])
        shown += ", ..." if len(lengths) > 5 else ""
        if self.chroms and not any(canonical_chrom(c) in lengths for c in self.chroms):
            raise GenomeMismatchError(
                f"--chroms {','.join(self.chroms)}: none is a chromosome of the genome {genome.name} "
                f"(its chromosomes: {shown}); check the names"
            )
        if self.regions is None:
            return
        wanted = []
        for key in self.regions.chroms():
            starts, ends = self.regions.intervals(key)
            if key in lengths and (starts < lengths[key]).any():
                return
            name = self.regions.names.get(key, key)
            wanted += [f"{name}:{a + 1:,}-{b:,}" if b < 2**62 else name for a, b in zip(starts, ends)]
        more = ", ..." if len(wanted) > 3 else ""
        raise GenomeMismatchError(
            f"--region/--regions {', '.join(wanted[:3])}{more}: outside the genome {genome.name} (its chromosomes: "
            f"{shown}); check the chromosome names and coordinates (1-based, as samtools)"
        )

    def chrom_ok(self, name):
        """Whether chromosome *name* (any naming convention) may hold selected sites."""
        key = canonical_chrom(name)
        if self.chroms and key not in {canonical_chrom(c) for c in self.chroms}:
            return False
        if self.exclude_chroms and key in {canonical_chrom(c) for c in self.exclude_chroms}:
            return False
        if self.regions is not None and key not in self.regions.chroms():
            return False
        return True
