"""mrcnn-encode of several samples (one dataset, ``y`` (N, S)), and of calls on no genome (``--no-windows``
without ``--genome``).

With a genome each sample's calls are placed, merged and filtered exactly as one sample's are
(:class:`~mrcnn_tools.data.sites.PlacedCalls`), chromosome by chromosome, then joined
(:func:`~mrcnn_tools.data.samples.join_sites`); the windows are cut once per site of the union
(:class:`~mrcnn_tools.data.arrays.WindowCutter`, which carries each site's row of the joined arrays through its
filters in the coverage column). Without a genome the sites are taken as the calls give them (position, strand
where the format has one), merged and filtered the same way, with one warning that their placement on CpGs was
not checked. One sample on no genome keeps the one-sample layout (1-D ``y``, no ``samples``).
"""

import logging

import numpy as np

from mrcnn_tools import __version__
from mrcnn_tools.calls.formats import ALTERNATIVE, BY_NAME
from mrcnn_tools.calls.readers import read_calls
from mrcnn_tools.data.arrays import Summary, WindowCutter, release_free_memory, subsample
from mrcnn_tools.data.dataset import Dataset, make_meta
from mrcnn_tools.data.options import DEFAULTS
from mrcnn_tools.data.samples import add_sample_context, join_sites, keep_min_samples
from mrcnn_tools.data.sites import PlacedCalls, Sites, merged_sites
from mrcnn_tools.encoding import ENCODING_NAME
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError, UsageError
from mrcnn_tools.genome.cpgs import STRAND_TEXT, cgi_flags
from mrcnn_tools.genome.fasta import Genome, canonical_chrom
from mrcnn_tools.genome.regions import IntervalSet, Selection, read_bed
from mrcnn_tools.levels import group_counts

__all__ = ["encode_samples", "UNPLACED_WARNING"]

log = logging.getLogger(__name__)

UNPLACED_WARNING = (
    "no --genome: the sites are taken as the calls give them (position, strand where the format has one); "
    "their placement on CpGs was not checked"
)


def encode_samples(genome_path, samples, options=None, *, cgi_path=None, extra_meta=None):
    """Encode the calls of several samples into one dataset, or calls on no genome (*genome_path* None).

    Parameters
    ----------
    genome_path : str or None
        Genome FASTA; None only with ``options.windows`` False (a sites-only dataset of the sites as given).
    samples : list of Sample
        Names, calls files and formats (:func:`~mrcnn_tools.data.samples.samples_from`).
    options : EncodeOptions, optional
        As for one sample, and ``min_samples``.
    cgi_path : str, optional
        CpG islands BED for the cgi column.
    extra_meta : dict, optional

    Returns
    -------
    (Dataset, Summary)
        With S >= 2 samples: ``y`` float32 (N, S) (NaN = not observed), ``coverage`` int32 (N, S) (0 = not
        observed), ``samples`` (S,), context arrays (N, S, 2K); with one sample the one-sample layout.

    Raises
    ------
    UsageError
        --all-cpgs, or no genome with windows.
    GenomeMismatchError, InputFormatError
        A sample's calls that do not sit on the genome, naming its file.
    """
    opts = options if options is not None else DEFAULTS
    if not samples:
        raise UsageError("give --calls FILE (repeated for several samples) or --calls-list SHEET")
    if opts.all_cpgs:
        raise UsageError("--all-cpgs takes one --calls file and --genome; several samples encode their observed sites")
    if int(opts.min_samples) > len(samples):
        raise UsageError(
            f"--min-samples {opts.min_samples} is more than the {len(samples)} sample(s) given: no site could be kept; "
            f"give at most --min-samples {len(samples)}"
        )
    if genome_path is None and opts.windows:
        raise UsageError(
            "--genome FASTA is needed to cut the windows; give --genome, or --no-windows for a dataset of sites "
            "only (for models that read no sequence)"
        )
    cgi = IntervalSet(read_bed(cgi_path)) if cgi_path else None
    reading = dict(mod_code=opts.mod_code, level_scale=opts.level_scale)
    if genome_path is None:
        log.warning(UNPLACED_WARNING)
        calls = [read_calls(s.path, s.calls_format or opts.calls_format, **reading) for s in samples]
        return _encode_unplaced(samples, calls, opts, cgi, extra_meta)
    genome = Genome(genome_path)
    if opts.selection is not None:
        opts.selection.check(genome)
    calls = [read_calls(s.path, s.calls_format or opts.calls_format, **reading) for s in samples]
    first_errors = {}
    while True:
        try:
            return _encode_placed(genome, samples, calls, opts, cgi, extra_meta)
        except _SampleError as err:
            i, exc = err.args
            s = samples[i]
            alt = ALTERNATIVE.get(calls[i].format)
            if s.calls_format or opts.calls_format or alt is None or i in first_errors:
                raise first_errors.get(i, exc) from None
            first_errors[i] = exc
            fmt = calls[i].format
            log.info(
                "%s: the calls do not fit as %s (%s); reading them as %s (%s)",
                s.path,
                fmt,
                BY_NAME[fmt].coords,
                alt,
                BY_NAME[alt].coords,
            )
            calls[i] = None
            calls[i] = read_calls(s.path, alt, **reading)


class _SampleError(Exception):
    """(sample index, the GenomeMismatchError or InputFormatError its calls raised)."""


def _on_sample(i, fn, *args):
    try:
        return fn(*args)
    except (GenomeMismatchError, InputFormatError) as exc:
        raise _SampleError(i, exc) from None


def _encode_placed(genome, samples, calls, opts, cgi, extra_meta):
    summary = Summary()
    summaries = [Summary() for _ in samples]
    placed = [
        _on_sample(i, PlacedCalls, genome, c, opts, summaries[i], s.path)
        for i, (s, c) in enumerate(zip(samples, calls))
    ]
    chroms = {}  # the genome's name: the dataset's (the first sample's spelling), in order of first appearance
    for p in placed:
        for name in p.names:
            chroms.setdefault(p.genome_name(name), name)
    cutter = WindowCutter(opts, summary, cgi, upper=sum(p.upper for p in placed), with_context=False)
    pieces, offset = [], 0
    for gname, name in chroms.items():
        release_free_memory()
        codes = genome.codes(gname)
        parts = [_on_sample(i, p.sites_on, gname, codes) for i, p in enumerate(placed)]
        joined = _join(name, parts, opts, summary, pair_strands=False)
        pieces.append(joined)
        # the cutter's filters keep or drop whole sites: the row of each in the joined arrays rides in coverage
        rows = np.arange(offset, offset + len(joined), dtype=np.float64)
        offset += len(joined)
        cutter.add(Sites(name, joined.pos, joined.strand, np.full(len(joined), np.nan), rows), codes)
    for i, p in enumerate(placed):
        _on_sample(i, p.check)
    if not pieces:
        pieces = [_empty(len(samples), opts.context)]
    data = cutter.dataset(_meta(samples, calls, opts, extra_meta, genome))
    rows = np.asarray(data.coverage, np.int64)
    data.y, data.coverage = _gather(pieces, "level", rows), _gather(pieces, "coverage", rows)
    if opts.context:
        for key in ("context_level", "context_dist", "context_coverage"):
            setattr(data, key, np.concatenate([p.context[key] for p in pieces])[rows])
    return _finish(data, samples, summaries, summary)


def _gather(pieces, key, rows):
    return np.concatenate([getattr(p, key) for p in pieces])[rows]


def _empty(s, k):
    """No site, S samples (with the (0, S, 2K) context arrays when K > 0)."""
    empty = join_sites("", [None] * s)
    return add_sample_context(empty, [None] * s, k) if k else empty


def _join(name, parts, opts, summary, pair_strands):
    """Stage 1 and 2 of several samples on one chromosome: the union, --min-samples, each sample's context."""
    joined, dropped = keep_min_samples(join_sites(name, parts), opts.min_samples)
    summary.dropped["min samples"] += dropped
    if opts.context:
        add_sample_context(joined, parts, opts.context, pair_strands=pair_strands)
    return joined


def _encode_unplaced(samples, calls, opts, cgi, extra_meta):
    summary = Summary()
    summaries = [Summary() for _ in samples]
    given = [_given_sites(c, opts, summaries[i], s.path) for i, (s, c) in enumerate(zip(samples, calls))]
    chroms = {}  # canonical name: the dataset's (the first sample's spelling)
    for g in given:
        for key, sites in g.items():
            chroms.setdefault(key, sites.chrom)
    pieces = [
        _join(name, [g.get(key) for g in given], opts, summary, pair_strands=True) for key, name in chroms.items()
    ]
    if not pieces:
        pieces = [_empty(len(samples), opts.context)]
    n = sum(len(p) for p in pieces)
    chrom = np.empty(n, f"<U{max(len(p.chrom) for p in pieces) or 1}")
    start = 0
    for p in pieces:
        chrom[start : start + len(p)] = p.chrom
        start += len(p)
    pos = np.concatenate([p.pos for p in pieces])
    strand = np.concatenate([p.strand for p in pieces])
    context = {}
    if opts.context:
        context = {key: np.concatenate([p.context[key] for p in pieces]) for key in pieces[0].context}
    data = Dataset(
        seq=np.empty((n, 0), np.uint8),
        y=np.concatenate([p.level for p in pieces]),
        coverage=np.concatenate([p.coverage for p in pieces]),
        chrom=chrom,
        pos=pos,
        strand=STRAND_TEXT[strand],
        cgi=cgi_flags(cgi, chrom, pos, strand),
        meta=_meta(samples, calls, opts, extra_meta, None),
        **context,
    )
    return _finish(subsample(data, opts, summary), samples, summaries, summary)


def _given_sites(calls, opts, summary, path):
    """{canonical chromosome name: observed Sites} of one sample's calls taken as given (no genome)."""
    selection = opts.selection or Selection()
    summary.calls += len(calls) + calls.context_dropped
    summary.dropped["outside CpG context"] += calls.context_dropped
    order = np.argsort(calls.chrom_index, kind="stable")
    bounds = np.searchsorted(calls.chrom_index[order], np.arange(len(calls.chrom_names) + 1))
    out = {}
    for k, name in enumerate(calls.chrom_names):
        ix = np.sort(order[bounds[k] : bounds[k + 1]])
        if not selection.chrom_ok(name):
            summary.dropped["not selected"] += len(ix)
            continue
        pos, strand = calls.pos[ix].astype(np.int64), calls.strand[ix]
        sites = merged_sites(name, calls, ix, pos, strand, selection, opts.keep_strands, opts.min_coverage, summary)
        key = canonical_chrom(name)
        if key in out:  # one chromosome spelt two ways in one file (chr22 and 22)
            sites = Sites.joined(out[key].chrom, [out[key], sites])
        out[key] = sites
    if not calls.has_counts and opts.min_coverage:
        log.info("%s: format %s has no read counts: --min-coverage is not applied", path, calls.format)
    return out


def _finish(data, samples, summaries, summary):
    """One dataset of the samples (one sample: the one-sample layout), the summary of them all."""
    if len(samples) == 1:
        data.y, data.coverage = data.y[:, 0], data.coverage[:, 0]
        if data.context_dist is not None:
            for key in ("context_level", "context_dist", "context_coverage"):
                setattr(data, key, getattr(data, key)[:, 0, :])
    else:
        data.samples = np.array([s.name for s in samples])
    for i, (s, part) in enumerate(zip(samples, summaries)):
        summary.calls += part.calls
        summary.duplicates += part.duplicates
        summary.dropped.update(part.dropped)
        if len(samples) > 1:
            seen = int(np.isfinite(data.y[:, i]).sum())
            log.info("sample %s: %d calls read from %s, observed at %d sites kept", s.name, part.calls, s.path, seen)
    summary.kept = len(data)
    summary.groups = group_counts(data.y)
    if len(samples) > 1:
        observed = np.isfinite(data.y)
        log.info(
            "%d sites of %d samples: %d of %d entries observed (%.1f%%)",
            len(data),
            len(samples),
            int(observed.sum()),
            observed.size,
            100.0 * observed.sum() / max(observed.size, 1),
        )
    return data, summary


def _meta(samples, calls, opts, extra_meta, genome):
    """The dataset's meta (docs/FORMATS.md §3); without a genome ``genome`` None and no checksum."""
    formats = [c.format for c in calls]
    fields = {
        "min_coverage": opts.min_coverage if any(c.has_counts for c in calls) else None,
        "format": formats[0] if len(set(formats)) == 1 else "mixed",
        "strands": "kept" if opts.keep_strands else "merged",
        "max_n_fraction": opts.max_n_fraction,
        "windows": bool(opts.windows),
    }
    if len(samples) > 1:
        fields.update(formats=formats, min_samples=int(opts.min_samples))
    fields.update(extra_meta or {})
    if opts.context:
        fields["context"] = int(opts.context)
    if genome is not None:
        return make_meta(genome, opts.flank, **fields)
    meta = {"genome": None, "placement": "unchecked", "flank": int(opts.flank), "encoding": ENCODING_NAME}
    return dict(meta, version=__version__, **fields)
