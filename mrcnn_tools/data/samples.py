"""Several samples in one dataset (``mrcnn-encode --calls A --calls B ...``, ``--calls-list SHEET``).

Which samples (:func:`samples_from`, :func:`read_sample_sheet`: names, paths, formats) and how their sites are
joined (:func:`join_sites`): the union of every sample's observed sites of one chromosome, with ``level``
float32 (n, S) (NaN = not observed) and ``coverage`` int32 (n, S) (0 = not observed), each sample's own nearest
observed neighbours (:func:`add_sample_context`, (n, S, 2K)) and ``--min-samples`` (:func:`keep_min_samples`).
Every step is vectorised over sites; the loops run over samples only.
"""

import os
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.calls.formats import FORMATS
from mrcnn_tools.data.neighbours import chromosome_context, empty_context
from mrcnn_tools.data.sites import Sites
from mrcnn_tools.errors import InputFormatError, UsageError
from mrcnn_tools.io import check_readable

__all__ = [
    "Sample",
    "samples_from",
    "read_sample_sheet",
    "default_sample_name",
    "join_sites",
    "keep_min_samples",
    "add_sample_context",
]


@dataclass(frozen=True)
class Sample:
    """One sample of an encode: its *name*, the *path* of its calls and their format (None: detected)."""

    name: str
    path: str
    calls_format: str = None


def default_sample_name(path):
    """A sample's default name: the file's name up to its first dot (``brain.hg38_chr1.cov.gz`` -> ``brain``)."""
    if path == "-":
        return "stdin"
    base = os.path.basename(path)
    return base.split(".")[0] or base


def samples_from(calls=None, sample_names=None, calls_list=None, calls_format=None):
    """The samples of an encode, from repeated ``--calls`` (and ``--sample-names``) or a sheet (``--calls-list``).

    Parameters
    ----------
    calls : list of str, optional
        Calls files, one a sample (``-`` = stdin, once at most).
    sample_names : str or list of str, optional
        Their names, comma-separated (default: :func:`default_sample_name` of each file).
    calls_list : str, optional
        A sample sheet (:func:`read_sample_sheet`), instead of *calls*.
    calls_format : str, optional
        The format of every file (a sheet's third column overrides it).

    Returns
    -------
    list of Sample, in the order given.

    Raises
    ------
    UsageError
        Both or neither of *calls* and *calls_list*, names not one a file, a duplicated name, stdin twice.
    """
    calls = list(calls or [])
    if calls and calls_list:
        raise UsageError("give the samples with --calls (repeated) or with --calls-list SHEET, not both")
    if calls_list:
        if sample_names:
            raise UsageError("--sample-names names --calls files; a --calls-list sheet names its samples itself")
        return read_sample_sheet(calls_list, calls_format)
    if isinstance(sample_names, str):
        sample_names = [n.strip() for n in sample_names.split(",")]
    if sample_names:
        if len(sample_names) != len(calls):
            raise UsageError(
                f"--sample-names gives {len(sample_names)} names for {len(calls)} --calls files; give one name "
                "per file, in the same order"
            )
        if any(not n for n in sample_names):
            raise UsageError("--sample-names: a name is empty; give one non-empty name per --calls file")
    else:
        sample_names = [default_sample_name(p) for p in calls]
    if calls.count("-") > 1:
        raise UsageError("--calls -: only one sample can be read from stdin")
    samples = [Sample(n, p, calls_format) for n, p in zip(sample_names, calls)]
    _check_unique(samples, "--sample-names" if sample_names else "the file names")
    return samples


def _check_unique(samples, where, lines=None):
    """Refuse a name given twice, or one that cannot name a file or a TSV field (a tab, a line end, a slash)."""
    seen = {}
    for i, s in enumerate(samples):
        bad = [c for c in ("\t", "\n", "\r", "/") if c in s.name]
        if bad or s.name in (".", ".."):
            at = f" (line {lines[i]})" if lines else ""
            raise UsageError(
                f"{where}: the sample name {s.name!r}{at} cannot name a file or a column; give a name without tabs, "
                "line ends or slashes"
            )
        if s.name in seen:
            first = seen[s.name]
            at = f" (lines {lines[first]} and {lines[i]})" if lines else f" ({samples[first].path} and {s.path})"
            hint = "name each sample once" if lines else "give distinct names with --sample-names A,B,..."
            raise UsageError(f"{where}: the sample name '{s.name}' is given twice{at}; {hint}")
        seen[s.name] = i


def read_sample_sheet(path, calls_format=None):
    """Read a sample sheet: one sample a line, tab-separated ``sample  path  [format]``.

    A first line ``sample<TAB>path...`` is a header; blank lines and lines starting with ``#`` are skipped. A
    relative path is taken from the sheet's folder. A line's format overrides *calls_format*.

    Returns
    -------
    list of Sample

    Raises
    ------
    InputFormatError
        A line without a name and a path, an unknown format, a duplicated name, no sample; each names the line.
    """
    check_readable(path, "sample sheet")
    folder = os.path.dirname(os.path.abspath(path))
    samples, lines = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            fields = [f.strip() for f in text.split("\t")]
            if not samples and fields[0].lower() == "sample" and len(fields) > 1 and fields[1].lower() == "path":
                continue
            where = f"{path} line {number}"
            if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
                raise InputFormatError(
                    f"{where}: expected 'sample<TAB>path[<TAB>format]', found {len(fields)} field(s) "
                    f"{text[:60]!r}; separate the columns with tabs"
                )
            fmt = fields[2] if len(fields) == 3 and fields[2] else calls_format
            if fmt is not None and fmt not in FORMATS:
                raise InputFormatError(f"{where}: unknown format '{fmt}'; give one of {', '.join(FORMATS)}")
            file = fields[1] if os.path.isabs(fields[1]) or fields[1] == "-" else os.path.join(folder, fields[1])
            if file != "-" and not os.path.isfile(file):
                raise InputFormatError(f"{where}: {file}: no such file; give the path of the sample's calls")
            samples.append(Sample(fields[0], file, fmt))
            lines.append(number)
    if not samples:
        raise InputFormatError(f"{path}: the sample sheet lists no sample; give one 'sample<TAB>path' line a sample")
    _check_unique(samples, path, lines)
    return samples


def _keys(pos, strand):
    """One int64 a site: position << 2 | (strand + 1), so sites sort by position, then strand."""
    return (np.asarray(pos, np.int64) << 2) | (np.asarray(strand, np.int64) + 1)


def join_sites(chrom, parts):
    """The union of the samples' observed sites of one chromosome.

    Parameters
    ----------
    chrom : str
        The chromosome as the dataset names it.
    parts : list of Sites or None
        Each sample's observed sites of the chromosome (:class:`~mrcnn_tools.data.sites.Sites`, levels finite;
        None or empty where the sample has none), in sample order.

    Returns
    -------
    Sites
        A site is the same in two samples when its position and strand are.
    """
    s = len(parts)
    keys = [_keys(p.pos, p.strand) if p is not None else np.empty(0, np.int64) for p in parts]
    union, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    inverse = inverse.reshape(-1)
    level = np.full((len(union), s), np.nan, np.float32)
    coverage = np.zeros((len(union), s), np.int32)
    start = 0
    for t, (part, key) in enumerate(zip(parts, keys)):
        rows = inverse[start : start + len(key)]
        start += len(key)
        if len(key):
            level[rows, t] = part.level
            coverage[rows, t] = np.minimum(part.coverage, 2**31 - 1)
    strand = ((union & 3) - 1).astype(np.int8)
    return Sites(chrom, union >> 2, strand, level, coverage)


def keep_min_samples(sites, k):
    """The sites observed in at least *k* samples (``--min-samples``); the count of those dropped."""
    if k <= 1:
        return sites, 0
    keep = np.isfinite(sites.level).sum(axis=1) >= k
    return (sites if keep.all() else sites.subset(keep)), int((~keep).sum())


def add_sample_context(sites, parts, k, pair_strands=False):
    """Each sample's K nearest observed neighbours on each side of every site: the (n, S, 2K) context arrays.

    Parameters
    ----------
    sites : Sites
        The sites to give a context (any subset of the union of *parts*).
    parts : list of Sites or None
        Each sample's observed sites of the chromosome, in genomic order.
    k : int
        Neighbours on each side.
    pair_strands : bool
        Sites placed on no genome (``--no-windows`` without ``--genome``): a site without a strand one base
        after another such site of the union is taken for the G of that CpG (the other strand), so it is
        neither the C's neighbour nor the C its (as with the genome, where strands are known).

    Returns
    -------
    *sites*, ``context`` set. Per sample as :func:`~mrcnn_tools.data.neighbours.chromosome_context` does for one:
    the site's own entry (and its CpG's other strand) is never its neighbour.
    """
    n, s = len(sites), len(parts)
    out = empty_context(0, k)
    out = {key: np.empty((n, s, 2 * k), arr.dtype) for key, arr in out.items()}
    out["context_level"][:] = np.nan
    out["context_dist"][:] = 0
    out["context_coverage"][:] = 0
    query_strand = _id_strands(sites.pos, sites.strand, sites.pos, sites.strand) if pair_strands else sites.strand
    for t, part in enumerate(parts):
        if part is None or len(part) == 0:
            continue
        obs_strand = _id_strands(part.pos, part.strand, sites.pos, sites.strand) if pair_strands else part.strand
        view = {key: arr[:, t, :] for key, arr in out.items()}
        chromosome_context(part.pos, obs_strand, part.level, part.coverage, sites.pos, query_strand, k, view)
    sites.context = out
    return sites


def _id_strands(pos, strand, all_pos, all_strand):
    """Strands that make :func:`~mrcnn_tools.data.neighbours.cpg_ids` pair an unstranded site at p + 1 with one at
    p (both in *all_pos*, strand 0): -1 for the p + 1 one, the strand as it is otherwise."""
    strand = np.asarray(strand, np.int8)
    unstranded = np.sort(np.asarray(all_pos)[np.asarray(all_strand) == 0])
    if len(unstranded) == 0:
        return strand
    before = np.asarray(pos, np.int64) - 1
    i = np.clip(np.searchsorted(unstranded, before), 0, len(unstranded) - 1)
    return np.where((strand == 0) & (unstranded[i] == before), np.int8(-1), strand).astype(np.int8)
