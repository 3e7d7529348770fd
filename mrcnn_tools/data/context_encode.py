"""Datasets with observed neighbours: ``mrcnn-encode --context K`` and ``--all-cpgs --calls``.

The calls are read once into the observed sites (strands merged, coverage filtered, within the selection,
no window cut); the targets are those sites after the N-window filter and ``--max-sites`` (or every CpG with
``--all-cpgs``, labelled where observed), and each target gets the K nearest other observed CpGs on each side
(:mod:`mrcnn_tools.data.neighbours`).
"""

import logging
from dataclasses import replace

import numpy as np

from mrcnn_tools.data.neighbours import add_context, cpg_ids
from mrcnn_tools.data.sites import encode_all_cpgs, encode_calls_file
from mrcnn_tools.encoding import extract_windows, n_counts
from mrcnn_tools.genome.fasta import canonical_chrom
from mrcnn_tools.levels import group_counts

log = logging.getLogger(__name__)


def encode_with_context(
    genome,
    calls_path,
    fmt=None,
    *,
    context=0,
    all_cpgs=False,
    flank=200,
    min_coverage=5,
    keep_strands=False,
    cgi=None,
    max_n_fraction=1.0,
    selection=None,
    extra_meta=None,
    windows=True,
    mod_code=None,
    level_scale=None,
    skip_missing_chroms=False,
    min_cpg_fraction=0.9,
):
    """Encode calls into a dataset whose sites carry their observed neighbours.

    Parameters
    ----------
    genome : Genome
    calls_path : str
        Methylation calls (any format of :mod:`mrcnn_tools.calls.formats`).
    context : int
        Neighbours on each side (0: none, as for ``--all-cpgs --calls`` alone).
    all_cpgs : bool
        Targets are every CpG of the selection (labelled where observed), not the observed sites.
    Other parameters as :func:`mrcnn_tools.data.sites.encode_calls`.

    Returns
    -------
    (Dataset, Summary)
    """
    # every observed site is a neighbour: no N filter, no subsample, no windows at this step
    observed, summary = encode_calls_file(
        genome,
        calls_path,
        fmt,
        mod_code=mod_code,
        level_scale=level_scale,
        flank=flank,
        min_coverage=min_coverage,
        keep_strands=keep_strands,
        cgi=cgi,
        max_n_fraction=1.0,
        selection=replace(selection, max_sites=None) if selection else None,
        skip_missing_chroms=skip_missing_chroms,
        min_cpg_fraction=min_cpg_fraction,
        extra_meta=extra_meta,
        windows=False,
    )
    if all_cpgs:
        targets, all_summary = encode_all_cpgs(
            genome,
            flank=flank,
            keep_strands=keep_strands,
            cgi=cgi,
            max_n_fraction=max_n_fraction,
            selection=selection,
            extra_meta=extra_meta,
            windows=windows,
        )
        label_from(targets, observed)
        targets.meta = dict(
            observed.meta, **{k: v for k, v in targets.meta.items() if k != "windows"}, windows=bool(windows)
        )
        summary.dropped = all_summary.dropped
        summary.calls, summary.kept = all_summary.calls, len(targets)
        log.info(
            "%d of %d CpGs observed in %s (labelled; the others are imputed from their neighbours)",
            int(np.isfinite(targets.y).sum()),
            len(targets),
            calls_path,
        )
    else:
        targets = _targets(genome, observed, flank, max_n_fraction, windows, summary)
        targets = _subsample(targets, selection, summary)
        summary.kept = len(targets)
    if context:
        add_context(targets, observed, context)
        log.info(
            "context: the %d nearest observed CpGs on each side of each site, from %d observed CpGs",
            context,
            len(observed),
        )
    summary.groups = group_counts(targets.y)
    return targets, summary


def _targets(genome, observed, flank, max_n_fraction, windows, summary):
    """The observed sites whose window passes the N filter, windows cut (sites only when *windows* is False)."""
    max_n = int(np.floor(max_n_fraction * 2 * flank + 1e-9))
    keep = np.ones(len(observed), bool)
    for name, (a, b) in _chrom_ranges(observed.chrom).items():
        codes = genome.codes(genome.resolve(name) or name)
        keep[a:b] = n_counts(codes, observed.pos[a:b], flank, beyond_ends=False) <= max_n
    summary.dropped["N-rich"] += int((~keep).sum())
    targets = observed.subset(keep)
    targets.meta = dict(observed.meta, max_n_fraction=max_n_fraction, windows=bool(windows))
    if windows:
        targets.seq = np.empty((len(targets), 2 * flank), np.uint8)
        for name, (a, b) in _chrom_ranges(targets.chrom).items():
            extract_windows(
                genome.codes(genome.resolve(name) or name),
                targets.pos[a:b],
                flank,
                targets.strand[a:b],
                out=targets.seq[a:b],
            )
    return targets


def _chrom_ranges(chrom):
    """{name: (start, end)} of the runs of one chromosome (encoded datasets hold each chromosome as one run)."""
    chrom = np.asarray(chrom)
    if len(chrom) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, chrom[1:] != chrom[:-1]])
    ends = np.r_[starts[1:], len(chrom)]
    return {str(chrom[a]): (int(a), int(b)) for a, b in zip(starts, ends)}


def _subsample(data, selection, summary):
    """``--max-sites N --seed S``: the same deterministic subsample as mrcnn-encode without context."""
    if selection is None or selection.max_sites is None or len(data) <= selection.max_sites:
        return data
    rng = np.random.default_rng(selection.seed)
    keep = np.sort(rng.choice(len(data), size=selection.max_sites, replace=False))
    summary.dropped["subsampled"] += len(data) - len(keep)
    return data.subset(keep)


def label_from(targets, observed):
    """Set ``y`` and ``coverage`` of the targets observed in *observed* (same chromosome, position, strand)."""

    names = sorted({canonical_chrom(str(c)) for d in (targets, observed) for c in np.unique(d.chrom)})
    key_t, key_o = _site_keys(targets, names), _site_keys(observed, names)
    order = np.argsort(key_o, kind="stable")
    i = np.clip(np.searchsorted(key_o[order], key_t), 0, max(len(order) - 1, 0))
    hit = (key_o[order][i] == key_t) if len(order) else np.zeros(len(key_t), bool)
    src = order[i[hit]]
    targets.y = np.full(len(targets), np.nan, np.float32)
    targets.y[hit] = observed.y[src]
    targets.coverage = np.zeros(len(targets), np.int32)
    targets.coverage[hit] = observed.coverage[src]
    return targets


def _site_keys(data, names):
    """One int64 per site: chromosome (index in *names*, canonical) << 41 | position << 1 | minus."""

    index = {c: i for i, c in enumerate(names)}
    uniq, inverse = np.unique(data.chrom, return_inverse=True)
    code = np.array([index[canonical_chrom(str(c))] for c in uniq], np.int64)[inverse.reshape(-1)]
    pos = np.asarray(data.pos, np.int64)
    return (code << 41) | (pos << 1) | (pos != cpg_ids(pos, data.strand))
