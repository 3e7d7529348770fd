"""Stage 3 of an encode (:class:`WindowCutter`: N filter, windows, subsampling), the arrays it fills chromosome by
chromosome, what an encode reports (:class:`Summary`), freed memory."""

import ctypes
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools.data.dataset import CONTEXT_DTYPES, Dataset
from mrcnn_tools.encoding import extract_windows, n_counts
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
    k : int
        Observed neighbours on each side (``--context K``): the context arrays are (n, 2K); 0 = none.
    """

    def __init__(self, upper, width, k=0):
        self.seq = np.empty((upper, width), np.uint8)
        self.y = np.empty(upper, np.float32)
        self.coverage = np.empty(upper, np.int32)
        self.pos = np.empty(upper, np.int64)
        self.strand = np.empty(upper, np.int8)
        self.cgi = np.empty(upper, np.int8)
        self.context = {key: np.empty((upper, 2 * k), dtype) for key, dtype in CONTEXT_DTYPES.items()} if k else {}
        self.chroms = []  # (name, start, end)
        self.filled = 0

    def _reserve(self, n):
        if n <= len(self.y):
            return
        # in place (realloc; glibc moves large blocks with mremap, no copy): the windows are never held twice
        for arr in (self.seq, self.y, self.coverage, self.pos, self.strand, self.cgi, *self.context.values()):
            arr.resize((n,) + arr.shape[1:], refcheck=False)

    def add(self, sites, cgi, codes, flank):
        """Append one chromosome's :class:`~mrcnn_tools.data.sites.Sites` (with their context when the arrays
        have one); *codes* None leaves the windows out (sites-only)."""
        a, b = self.filled, self.filled + len(sites)
        self._reserve(b)
        if codes is not None:
            extract_windows(codes, sites.pos, flank, sites.strand, out=self.seq[a:b])
        self.y[a:b] = sites.level
        np.minimum(sites.coverage, 2**31 - 1, out=self.coverage[a:b], casting="unsafe")
        self.pos[a:b] = sites.pos
        self.strand[a:b] = sites.strand
        self.cgi[a:b] = cgi_flags(cgi, sites.chrom, sites.pos, sites.strand)
        for key, arr in self.context.items():
            arr[a:b] = sites.context[key]
        self.chroms.append((sites.chrom, a, b))
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
            **{key: arr[:n] for key, arr in self.context.items()},
        )


class WindowCutter:
    """Stage 3 of an encode: the N filter, the windows and --max-sites.

    :meth:`add` takes each chromosome's sites (stage 1, with their context from stage 2) in turn: sites whose
    window holds more N than ``options.max_n`` inside the chromosome are dropped, and the others' windows are cut
    straight into the dataset's arrays (none with ``options.windows`` False). :meth:`dataset`, once every
    chromosome is in, gives the dataset, subsampled to ``options.max_sites``.

    Parameters
    ----------
    options : EncodeOptions
        ``flank``, ``windows``, ``max_n_fraction``, ``context``, ``max_sites``, ``seed``.
    summary : Summary
        Counts the sites dropped as N-rich and subsampled.
    cgi : IntervalSet, optional
        CpG islands for the cgi column (-1 when None).
    upper : int
        Sites at most, when known (:class:`SiteArrays`); 0 lets the arrays grow.
    with_context : bool
        The sites come with their context (stage 2 before this one), kept with them.
    """

    def __init__(self, options, summary, cgi=None, upper=0, with_context=True):
        self.options, self.summary, self.cgi = options, summary, cgi
        self.arrays = SiteArrays(upper, options.width, options.context if with_context else 0)

    def add(self, sites, codes):
        """Filter and cut one chromosome's *sites* (*codes*: that chromosome)."""
        flank = self.options.flank
        n_rich = n_counts(codes, sites.pos, flank, beyond_ends=False) > self.options.max_n
        if n_rich.any():
            self.summary.dropped["N-rich"] += int(n_rich.sum())
            sites = sites.subset(~n_rich)
        self.arrays.add(sites, self.cgi, codes if self.options.windows else None, flank)

    def dataset(self, meta):
        """The sites of every chromosome as a :class:`Dataset` with *meta*, at most ``options.max_sites``."""
        return subsample(self.arrays.dataset(meta), self.options, self.summary)


def subsample(data, sampling, summary):
    """At most ``sampling.max_sites`` sites of *data*, drawn without replacement with ``sampling.seed``, in
    their order; the others counted in *summary* as subsampled. *sampling*: an
    :class:`~mrcnn_tools.data.options.EncodeOptions` (or anything with ``max_sites`` and ``seed``)."""
    if sampling.max_sites is None or len(data) <= sampling.max_sites:
        return data
    if sampling.max_sites < 1:
        raise UsageError("--max-sites must be at least 1")
    rng = np.random.default_rng(sampling.seed)
    keep = np.sort(rng.choice(len(data), size=sampling.max_sites, replace=False))
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
