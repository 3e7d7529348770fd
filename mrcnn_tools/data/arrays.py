"""The arrays an encode fills chromosome by chromosome, what it reports (Summary), subsampling, freed memory."""

import ctypes
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.encoding import extract_windows
from mrcnn_tools.errors import UsageError
from mrcnn_tools.genome.cpgs import STRAND_TEXT, cgi_flags


@dataclass
class Summary:
    """What happened to the input: reads, kept sites and drops by reason."""

    calls: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    duplicates: int = 0
    groups: dict = field(default_factory=dict)

    def lines(self):
        """The summary encode prints on stderr, one str per line."""
        drops = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()) if v) or "none"
        out = [f"calls read {self.calls}; sites kept {self.kept}; dropped: {drops}"]
        if self.duplicates:
            out.append(f"{self.duplicates} duplicated calls were summed")
        if self.groups:
            out.append("groups: " + ", ".join(f"{k} {v}" for k, v in self.groups.items()))
        return out


class SiteArrays:
    """The arrays of a Dataset, filled chromosome by chromosome, never concatenated.

    Parameters
    ----------
    upper : int
        Sites reserved up front. np.empty pages are only backed by memory once written, so a generous upper bound
        (the number of calls) costs nothing; when it is not known, start at 0 and let :meth:`add` grow the arrays.
    width : int
        Window width (``2 * flank``), 0 for a sites-only dataset.
    """

    def __init__(self, upper, width):
        self.seq = np.empty((upper, width), np.uint8)
        self.y = np.empty(upper, np.float32)
        self.coverage = np.empty(upper, np.int32)
        self.pos = np.empty(upper, np.int64)
        self.strand = np.empty(upper, np.int8)
        self.cgi = np.empty(upper, np.int8)
        self.chroms = []  # (name, start, end)
        self.filled = 0

    def _reserve(self, n):
        if n <= len(self.y):
            return
        # in place (realloc; glibc moves large blocks with mremap, no copy): the windows are never held twice
        for name in ("seq", "y", "coverage", "pos", "strand", "cgi"):
            arr = getattr(self, name)
            arr.resize((n,) + arr.shape[1:], refcheck=False)

    def add(self, name, pos, strand, level, cov, cgi, codes, flank):
        """Append one chromosome's sites; *codes* None leaves the windows out (sites-only)."""
        a, b = self.filled, self.filled + len(pos)
        self._reserve(b)
        if codes is not None:
            extract_windows(codes, pos, flank, strand, out=self.seq[a:b])
        self.y[a:b] = level
        self.coverage[a:b] = np.minimum(cov, 2**31 - 1)
        self.pos[a:b] = pos
        self.strand[a:b] = strand
        self.cgi[a:b] = cgi_flags(cgi, name, pos, strand)
        self.chroms.append((name, a, b))
        self.filled = b

    def dataset(self, meta):
        """The filled sites as a :class:`Dataset` (views, no copy of the windows)."""
        n = self.filled
        # the text columns are made last, each in one piece: the numeric ones are all they are built from
        chrom = np.empty(n, f"<U{max((len(c) for c, _, _ in self.chroms), default=1)}")
        for name, a, b in self.chroms:
            chrom[a:b] = name
        return Dataset(
            seq=self.seq[:n],
            y=self.y[:n],
            coverage=self.coverage[:n],
            chrom=chrom,
            pos=self.pos[:n],
            strand=STRAND_TEXT[self.strand[:n]],
            cgi=self.cgi[:n],
            meta=meta,
        )


def subsample(data, selection, summary):
    """At most ``selection.max_sites`` sites of *data*, drawn without replacement with ``selection.seed``, in
    their order; the others counted in *summary* as subsampled."""
    if selection.max_sites is None or len(data) <= selection.max_sites:
        return data
    if selection.max_sites < 1:
        raise UsageError("--max-sites must be at least 1")
    rng = np.random.default_rng(selection.seed)
    keep = np.sort(rng.choice(len(data), size=selection.max_sites, replace=False))
    summary.dropped["subsampled"] += len(data) - len(keep)
    return data.subset(keep)


def _load_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


_MALLOC_TRIM = _load_trim()


def release_free_memory():
    """Give the pages of freed memory back to the system (glibc; elsewhere nothing).

    The reader's chunks and each chromosome's work leave freed blocks between the arrays that live on, which
    glibc keeps resident: at genome scale that is tens of bytes a site of peak RSS that holds nothing.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
