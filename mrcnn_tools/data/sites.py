"""From calls and a genome to a dataset: place calls on CpGs, merge strands, filter, cut windows."""

import logging
from collections import Counter

import numpy as np

from mrcnn_tools.calls.formats import ALTERNATIVE, BY_NAME
from mrcnn_tools.calls.placement import check_on_base, on_base, on_cpg
from mrcnn_tools.calls.readers import detect_format, read_calls
from mrcnn_tools.data.arrays import SiteArrays, Summary, release_free_memory, subsample
from mrcnn_tools.data.dataset import make_meta
from mrcnn_tools.encoding import C, G, N, n_counts
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError
from mrcnn_tools.genome.cpgs import cpg_sites
from mrcnn_tools.genome.regions import Selection
from mrcnn_tools.levels import group_counts

__all__ = ["encode_calls", "encode_calls_file", "encode_all_cpgs"]

log = logging.getLogger(__name__)


def _group_by_chrom(genome, calls, selection, skip_missing, path, summary):
    """Index arrays (or ranges) of the calls per chromosome name of the file; calls elsewhere are dropped or
    refused."""
    by_chrom = {}
    missing = Counter()
    renamed = set()
    ci = calls.chrom_index
    if not (ci[1:] < ci[:-1]).any():
        # the usual file, one run of calls per chromosome (indices are in the order of first appearance): each
        # chromosome's calls are a range, and no index of all the calls is held through the encode
        order = None
        bounds = np.searchsorted(ci, np.arange(len(calls.chrom_names) + 1))
    else:
        order = np.argsort(ci, kind="stable")
        bounds = np.searchsorted(ci[order], np.arange(len(calls.chrom_names) + 1))
        # held through the whole encode: 4 bytes a call instead of 8
        order = order.astype(np.int32 if len(order) < 2**31 else np.int64)
    for k, name in enumerate(calls.chrom_names):
        ix = range(bounds[k], bounds[k + 1]) if order is None else order[bounds[k] : bounds[k + 1]]
        if not selection.chrom_ok(name):
            summary.dropped["not selected"] += len(ix)
            continue
        gname = genome.resolve(name)
        if gname is None:
            missing[name] += len(ix)
            continue
        if gname != name:
            renamed.add((name, gname))
        by_chrom[name] = ix
    if renamed:
        log.info(
            "chromosome names matched across conventions: %s", ", ".join(f"{a} -> {b}" for a, b in sorted(renamed)[:5])
        )
    if missing:
        names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        what = (
            f"{path}: {sum(missing.values())} calls on {len(missing)} chromosomes absent from the genome "
            f"{genome.name} ({names})"
        )
        if not by_chrom and not skip_missing:
            raise GenomeMismatchError(
                f"{what}, and none on its chromosomes; use the matching genome or check the chromosome names"
            )
        if not skip_missing:
            # a genome-wide file with a one-chromosome FASTA is the usual case: its calls there are encoded
            log.warning("%s are dropped (--chroms selects, --skip-missing-chroms silences this)", what)
        summary.dropped["outside genome"] += sum(missing.values())
    return by_chrom


def _merge(pos, strand, m, u, level, keep_strands, has_counts, summary):
    """Sum counts per site (duplicates, and both strands of a CpG unless keep_strands); sorted by site."""
    minus = strand < 0
    call_code = pos * 2 + minus
    order = np.argsort(call_code, kind="stable")  # timsort: near-linear on the usual sorted input
    sorted_code = call_code[order]
    summary.duplicates += int((sorted_code[1:] == sorted_code[:-1]).sum())
    if keep_strands:
        key_pos, key_strand = pos, strand
        code = sorted_code
    else:
        key_pos = np.where(minus, pos - 1, pos)
        key_strand = np.zeros(len(pos), np.int8)
        code = key_pos[order] * 2
        if len(code) and (code[1:] < code[:-1]).any():
            resort = np.argsort(code, kind="stable")
            order, code = order[resort], code[resort]
    if len(order) == 0:
        empty = np.empty(0)
        return np.empty(0, np.int64), np.empty(0, np.int8), empty, empty
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    if has_counts:
        m_s = np.add.reduceat(m[order], starts)
        u_s = np.add.reduceat(u[order], starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            lev = m_s / (m_s + u_s)
        cov = np.rint(m_s + u_s)  # counts rebuilt from a percent are not whole: (cov - m) + m may miss cov
    else:
        n = np.add.reduceat(np.ones(len(order)), starts)
        lev = np.add.reduceat(level[order], starts) / n
        cov = np.zeros(len(starts))
    first = order[starts]
    return key_pos[first], key_strand[first], lev, cov


def encode_calls(
    genome,
    calls,
    *,
    flank=200,
    min_coverage=5,
    keep_strands=False,
    cgi=None,
    max_n_fraction=1.0,
    selection=None,
    skip_missing_chroms=False,
    min_cpg_fraction=0.9,
    calls_path="calls",
    extra_meta=None,
    windows=True,
):
    """Turn methylation calls into a labelled :class:`Dataset`.

    Parameters
    ----------
    genome : Genome
    calls : Calls
    flank : int
        Bases on each side of the site (the site itself not counted): windows of ``2*flank``.
    min_coverage : int
        Sites with fewer reads (after strand merging) are dropped; ignored for level-only formats.
    keep_strands : bool
        Keep + and - calls of a CpG as separate sites (minus windows reverse-complemented).
    cgi : IntervalSet, optional
        CpG islands; sets ``cgi`` to 1/0 (-1 when None).
    max_n_fraction : float
        Drop sites whose window has a larger fraction of N.
    selection : Selection, optional
    skip_missing_chroms : bool
    min_cpg_fraction : float
        Refuse the input when fewer calls sit on CpGs (wrong assembly or coordinate base).
    windows : bool
        Cut the windows; False gives a sites-only dataset (``seq`` of shape (n, 0)) for genome-scale work,
        whose windows the consumer cuts from the genome.

    Returns
    -------
    (Dataset, Summary)
    """
    selection = selection or Selection()
    summary = Summary(calls=len(calls) + calls.context_dropped)
    summary.dropped["outside CpG context"] += calls.context_dropped
    by_chrom = _group_by_chrom(genome, calls, selection, skip_missing_chroms, calls_path, summary)
    if not calls.has_counts and min_coverage:
        log.info("format %s has no read counts: --min-coverage is not applied", calls.format)
    max_n = int(np.floor(max_n_fraction * 2 * flank + 1e-9))
    # np.empty pages are only backed by memory once written, so an upper bound costs nothing: each chromosome's
    # sites go straight into the dataset's arrays, nothing is concatenated (~20 bytes a site at genome scale)
    out = SiteArrays(sum(len(ix) for ix in by_chrom.values()), 2 * flank if windows else 0)
    hits, total = {"base": 0, -1: 0, 1: 0}, 0
    off_base = 0
    on_g = [0, 0]  # calls without a strand on a G, on a C or G
    # one pass, one read of each chromosome; the base check is decided after it (work is only lost on error)
    for name, ix in by_chrom.items():
        release_free_memory()
        if isinstance(ix, range):
            ix = np.arange(ix.start, ix.stop)
        codes = genome.codes(name)
        pos = calls.pos[ix].astype(np.int64)  # positions in Calls may be int32; arithmetic below needs 64 bits
        inside = (pos >= 0) & (pos < len(codes))
        # a call on N (e.g. outside the pieces of a region FASTA) has no sequence to check or encode
        inside[inside] = codes[pos[inside]] != N
        summary.dropped["outside genome"] += int((~inside).sum())
        ix, pos = ix[inside], pos[inside]
        total += len(ix)
        strand = calls.strand[ix].copy()
        on_c = on_base(codes, pos, strand)
        hits["base"] += int(on_c.sum())
        if on_c.sum() < min_cpg_fraction * len(on_c):
            # only for the error message (would a one-base shift fit?); a chromosome that passes adds ~0 here
            for shift in (-1, 1):
                hits[shift] += int(on_cpg(codes, pos + shift, strand).sum())
        on = on_cpg(codes, pos, strand)
        unknown = strand == 0
        if unknown.any():
            base = codes[pos[unknown]]
            strand[unknown] = np.where(base == C, 1, np.where(base == G, -1, 0))
            on_g[0] += int((base == G).sum())
            on_g[1] += int(((base == C) | (base == G)).sum())
        # calls on a cytosine outside a CpG (CHG/CHH of all-context files) are dropped once the base check holds
        summary.dropped["outside CpG context"] += int((on_c & ~on).sum())
        off_base += int((~on_c).sum())
        ix, pos, strand = ix[on], pos[on], strand[on]
        if selection.regions is not None:
            inside = selection.regions.contains(name, np.where(strand < 0, pos - 1, pos))
            summary.dropped["outside regions"] += int((~inside).sum())
            ix, pos, strand = ix[inside], pos[inside], strand[inside]
        # counts may be float32 in Calls: summed as float64, as they always were
        m, u = calls.count_m[ix].astype(np.float64), calls.count_u[ix].astype(np.float64)
        spos, sstrand, lev, cov = _merge(
            pos, strand, m, u, None if calls.level is None else calls.level[ix], keep_strands, calls.has_counts, summary
        )
        del m, u
        keep = np.ones(len(spos), bool)
        if calls.has_counts:
            keep = (cov >= min_coverage) & (cov > 0)
            summary.dropped["coverage"] += int((~keep).sum())
        n_rich = keep & (n_counts(codes, spos, flank, beyond_ends=False) > max_n)
        summary.dropped["N-rich"] += int(n_rich.sum())
        keep &= ~n_rich
        spos, sstrand, lev, cov = spos[keep], sstrand[keep], lev[keep], cov[keep]
        out.add(name, spos, sstrand, lev, cov, cgi, codes if windows else None, flank)
    del by_chrom
    release_free_memory()
    check_on_base(hits, total, calls.format, genome.name, min_cpg_fraction, calls_path)
    summary.dropped["not on a C/G"] += off_base
    if on_g[1] >= 20 and on_g[0] >= 0.95 * on_g[1]:
        # per-strand files put about half their calls on Gs; strand-merged ones none: all on Gs is a 1-based file
        # read as 0-based (right after merging, wrong with --keep-strands)
        log.warning(
            "%s: %d of %d calls without a strand sit on the G of a CpG, (nearly) none on its C: if the file "
            "has strands merged onto the C, its positions are one too far (1-based read as %s); check "
            "--calls-format",
            calls_path,
            on_g[0],
            on_g[1],
            BY_NAME[calls.format].coords if calls.format in BY_NAME else "given",
        )
    outside = summary.dropped["outside CpG context"]
    if outside:
        log.info(
            "%d calls outside CpG context (%d by the file's context column, %d by the reference)",
            outside,
            calls.context_dropped,
            outside - calls.context_dropped,
        )
    meta = make_meta(
        genome,
        flank,
        min_coverage=min_coverage if calls.has_counts else None,
        strands="kept" if keep_strands else "merged",
        format=calls.format,
        max_n_fraction=max_n_fraction,
        windows=bool(windows),
        **(extra_meta or {}),
    )
    data = subsample(out.dataset(meta), selection, summary)
    summary.kept = len(data)
    summary.groups = group_counts(data.y)
    return data, summary


def encode_all_cpgs(
    genome,
    *,
    flank=200,
    keep_strands=False,
    cgi=None,
    max_n_fraction=1.0,
    selection=None,
    extra_meta=None,
    windows=True,
):
    """Every CpG of the genome (or of the selected chromosomes/regions), unlabelled (y = NaN).

    *windows* False gives a sites-only dataset (``seq`` of shape (n, 0)), as in :func:`encode_calls`.

    Returns
    -------
    (Dataset, Summary)
    """
    selection = selection or Selection()
    summary = Summary()
    max_n = int(np.floor(max_n_fraction * 2 * flank + 1e-9))
    # one pass, one read of each chromosome: the CpG count is not known before, so the arrays grow as they fill
    out = SiteArrays(0, 2 * flank if windows else 0)
    for name in genome.chromosomes():
        if not selection.chrom_ok(name):
            continue
        codes = genome.codes(name)
        pos, strand = cpg_sites(codes, name, selection.regions, keep_strands)
        summary.calls += len(pos) // (2 if keep_strands else 1)
        n_rich = n_counts(codes, pos, flank, beyond_ends=False) > max_n
        summary.dropped["N-rich"] += int(n_rich.sum())
        pos, strand = pos[~n_rich], strand[~n_rich]
        out.add(name, pos, strand, np.nan, 0, cgi, codes if windows else None, flank)
    log.info("found %d CpG dinucleotides", summary.calls)
    meta = make_meta(
        genome,
        flank,
        strands="kept" if keep_strands else "merged",
        all_cpgs=True,
        max_n_fraction=max_n_fraction,
        windows=bool(windows),
        **(extra_meta or {}),
    )
    data = subsample(out.dataset(meta), selection, summary)
    summary.kept = len(data)
    return data, summary


def encode_calls_file(genome, path, fmt=None, mod_code=None, level_scale=None, **kwargs):
    """Read a calls file and encode it (:func:`encode_calls`); returns (Dataset, Summary).

    A detected format that only the reference can tell from another (:data:`formats.ALTERNATIVE`) is read the
    other way when its calls fail the base check and the other reading passes it.
    """
    try:
        calls = read_calls(path, fmt, mod_code=mod_code, level_scale=level_scale)
        return encode_calls(genome, calls, calls_path=path, **kwargs)
    except (GenomeMismatchError, InputFormatError) as exc:
        if fmt is not None:
            raise
        detected = calls.format if "calls" in locals() else detect_format(path)
        alt = ALTERNATIVE.get(detected)
        if alt is None:
            raise exc from None
        first = exc
    log.info(
        "%s: the calls do not fit as %s (%s); reading them as %s (%s)",
        path,
        detected,
        BY_NAME[detected].coords,
        alt,
        BY_NAME[alt].coords,
    )
    try:
        calls = read_calls(path, alt, mod_code=mod_code, level_scale=level_scale)
        return encode_calls(genome, calls, calls_path=path, **kwargs)
    except (GenomeMismatchError, InputFormatError):
        raise first from None
