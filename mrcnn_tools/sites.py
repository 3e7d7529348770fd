"""From calls and a genome to a dataset: place calls on CpGs, merge strands, filter, cut windows."""

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset, make_meta
from .encoding import C, G, N, extract_windows, find_cpgs, is_cpg, n_fraction
from .errors import GenomeMismatchError, UsageError
from .genome import canonical_chrom

log = logging.getLogger(__name__)

GROUPS = (("hypo", 0.0, 0.1), ("mid", 0.4, 0.6), ("hyper", 0.9, 1.0))


def group_counts(y):
    """Counts of sites per methylation group as in the paper: hypo < 0.1, mid 0.4-0.6, hyper > 0.9."""
    y = y[np.isfinite(y)]
    return {"hypo": int((y < 0.1).sum()), "mid": int(((y >= 0.4) & (y <= 0.6)).sum()), "hyper": int((y > 0.9).sum())}


@dataclass
class Summary:
    """What happened to the input: reads, kept sites and drops by reason."""

    calls: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    duplicates: int = 0
    groups: dict = field(default_factory=dict)

    def lines(self):
        drops = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()) if v) or "none"
        out = [f"calls read {self.calls}; sites kept {self.kept}; dropped: {drops}"]
        if self.duplicates:
            out.append(f"{self.duplicates} duplicated calls were summed")
        if self.groups:
            out.append("groups: " + ", ".join(f"{k} {v}" for k, v in self.groups.items()))
        return out


@dataclass
class Selection:
    """Which sites to keep: chromosomes, regions (IntervalSet), subsample."""

    chroms: list = None
    exclude_chroms: list = None
    regions: object = None
    max_sites: int = None
    seed: int = 0

    def chrom_ok(self, name):
        key = canonical_chrom(name)
        if self.chroms and key not in {canonical_chrom(c) for c in self.chroms}:
            return False
        if self.exclude_chroms and key in {canonical_chrom(c) for c in self.exclude_chroms}:
            return False
        if self.regions is not None and key not in self.regions.chroms():
            return False
        return True


def _cpg_fraction(genome, chrom, pos, strand):
    """Fraction of calls on a CpG, strand from the file or (unknown) either C->+ or G->-."""
    codes = genome.codes(chrom)
    known = strand != "."
    ok = np.zeros(len(pos), bool)
    if known.any():
        ok[known] = is_cpg(codes, pos[known], strand[known])
    unk = ~known
    if unk.any():
        p = pos[unk]
        ok[unk] = is_cpg(codes, p, np.full(len(p), "+")) | is_cpg(codes, p, np.full(len(p), "-"))
    return ok


def _check_on_cpg(genome, calls, by_chrom, min_cpg_fraction, path):
    """Refuse calls that do not sit on CpGs of this genome, and say which fix would fit."""
    total = sum(len(ix) for ix in by_chrom.values())
    if total == 0:
        return
    hits = {s: 0 for s in (0, -1, 1)}
    for name, ix in by_chrom.items():
        for s in hits:
            if s and hits[0] >= min_cpg_fraction * total:
                continue
            hits[s] += int(_cpg_fraction(genome, name, calls.pos[ix] + s, calls.strand[ix]).sum())
    frac = hits[0] / total
    if frac >= min_cpg_fraction:
        return
    msg = (f"{path}: only {100 * frac:.1f}% of {total} calls sit on a CpG of {genome.name} "
           f"(need {100 * min_cpg_fraction:.0f}%, --min-cpg-fraction).")
    best = max((-1, 1), key=lambda s: hits[s])
    if hits[best] / total >= min_cpg_fraction:
        msg += (f" Shifting positions by {best:+d} would put {100 * hits[best] / total:.1f}% on CpGs: "
                f"the file looks {'0-based' if best == 1 else '1-based'} where format {calls.format} is "
                f"{'1-based' if calls.format.startswith('bismark') else '0-based'}; check --format or the "
                "coordinate base of the file.")
    else:
        msg += (" Shifts of +-1 base do not fix it, so the calls probably come from another assembly than the "
                "genome (e.g. hg19 vs hg38), or the format is wrong (detected "
                f"{calls.format}; set --format).")
    raise GenomeMismatchError(msg)


def _group_by_chrom(genome, calls, selection, skip_missing, path, summary):
    """Index arrays of the calls per genome chromosome; calls elsewhere are dropped or refused."""
    by_chrom = {}
    missing = Counter()
    renamed = set()
    uniq, inverse = np.unique(calls.chrom, return_inverse=True)
    for k, name in enumerate(uniq):
        ix = np.flatnonzero(inverse == k)
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
        log.info("chromosome names matched across conventions: %s",
                 ", ".join(f"{a} -> {b}" for a, b in sorted(renamed)[:5]))
    if missing:
        if not skip_missing:
            names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
            raise GenomeMismatchError(
                f"{path}: {sum(missing.values())} calls on {len(missing)} chromosomes absent from the genome "
                f"{genome.name} ({names}); select chromosomes with --chroms, use the matching genome, "
                "or pass --skip-missing-chroms")
        summary.dropped["outside genome"] += sum(missing.values())
    return by_chrom


def _merge(chrom_name, pos, strand, m, u, level, keep_strands, has_counts, summary):
    """Sum counts per site (duplicates, and both strands of a CpG unless keep_strands)."""
    if keep_strands:
        key_pos, key_strand = pos, strand
    else:
        key_pos = np.where(strand == "-", pos - 1, pos)
        key_strand = np.full(len(pos), ".")
    code = key_pos * 2 + (key_strand == "-")
    order = np.argsort(code, kind="stable")
    code_sorted = code[order]
    starts = np.flatnonzero(np.r_[True, code_sorted[1:] != code_sorted[:-1]])
    # a strand-specific duplicate: same site, same strand, more than once
    dup_code = (pos * 2 + (strand == "-"))
    summary.duplicates += len(dup_code) - len(np.unique(dup_code))
    n = np.add.reduceat(np.ones(len(order)), starts) if len(order) else np.empty(0)
    if has_counts:
        m_s = np.add.reduceat(m[order], starts) if len(order) else np.empty(0)
        u_s = np.add.reduceat(u[order], starts) if len(order) else np.empty(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            lev = m_s / (m_s + u_s)
        cov = m_s + u_s
    else:
        lev = np.add.reduceat(level[order], starts) / n if len(order) else np.empty(0)
        cov = np.zeros(len(starts))
    first = order[starts]
    return key_pos[first], key_strand[first], lev, cov


def encode_calls(genome, calls, *, flank=200, min_coverage=5, keep_strands=False, cgi=None,
                 max_n_fraction=1.0, selection=None, skip_missing_chroms=False, min_cpg_fraction=0.9,
                 calls_path="calls", extra_meta=None):
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

    Returns
    -------
    (Dataset, Summary)
    """
    selection = selection or Selection()
    summary = Summary(calls=len(calls))
    by_chrom = _group_by_chrom(genome, calls, selection, skip_missing_chroms, calls_path, summary)
    # positions outside the chromosome are dropped before the CpG check so they do not count twice
    for name in list(by_chrom):
        ix = by_chrom[name]
        length = genome.length(name)
        inside = (calls.pos[ix] >= 0) & (calls.pos[ix] < length)
        # a call on N (e.g. outside the pieces of a region FASTA) has no sequence to check or encode
        inside[inside] = genome.codes(name)[calls.pos[ix][inside]] != N
        summary.dropped["outside genome"] += int((~inside).sum())
        by_chrom[name] = ix[inside]
    _check_on_cpg(genome, calls, by_chrom, min_cpg_fraction, calls_path)
    if not calls.has_counts and min_coverage:
        log.info("format %s has no read counts: --min-coverage is not applied", calls.format)
    parts = []
    for name, ix in by_chrom.items():
        codes = genome.codes(name)
        pos, strand = calls.pos[ix], calls.strand[ix].copy()
        unknown = strand == "."
        if unknown.any():
            base = codes[pos[unknown]]
            strand[unknown] = np.where(base == C, "+", np.where(base == G, "-", "."))
        on = (strand != ".") & is_cpg(codes, pos, np.where(strand == ".", "+", strand))
        summary.dropped["not a CpG"] += int((~on).sum())
        ix, pos, strand = ix[on], pos[on], strand[on]
        if selection.regions is not None:
            site = np.where(strand == "-", pos - 1, pos)
            inside = selection.regions.contains(name, site)
            summary.dropped["outside regions"] += int((~inside).sum())
            ix, pos, strand = ix[inside], pos[inside], strand[inside]
        spos, sstrand, lev, cov = _merge(name, pos, strand, calls.count_m[ix], calls.count_u[ix],
                                         calls.level[ix], keep_strands, calls.has_counts, summary)
        if calls.has_counts:
            keep = (cov >= min_coverage) & (cov > 0)
            summary.dropped["coverage"] += int((~keep).sum())
            spos, sstrand, lev, cov = spos[keep], sstrand[keep], lev[keep], cov[keep]
        windows = extract_windows(codes, spos, flank, sstrand)
        nfrac = n_fraction(windows)
        keep = nfrac <= max_n_fraction
        summary.dropped["N-rich"] += int((~keep).sum())
        if not keep.all():
            windows, spos, sstrand, lev, cov = windows[keep], spos[keep], sstrand[keep], lev[keep], cov[keep]
        parts.append(Dataset(
            seq=windows, y=lev.astype(np.float32), coverage=np.minimum(cov, 2**31 - 1).astype(np.int32),
            chrom=np.full(len(spos), name), pos=spos.astype(np.int64), strand=sstrand.astype("<U1"),
            cgi=_cgi_flags(cgi, name, spos, sstrand), meta={}))
    meta = make_meta(genome, flank, min_coverage=min_coverage if calls.has_counts else None,
                     strands="kept" if keep_strands else "merged", format=calls.format,
                     max_n_fraction=max_n_fraction, **(extra_meta or {}))
    data = Dataset.concatenate(parts, meta=meta) if parts else Dataset.empty(flank, meta)
    data = _subsample(data, selection, summary)
    summary.kept = len(data)
    summary.groups = group_counts(data.y)
    return data, summary


def _cgi_flags(cgi, chrom, pos, strand):
    if cgi is None:
        return np.full(len(pos), -1, np.int8)
    site = np.where(strand == "-", pos - 1, pos)
    return cgi.contains(chrom, site).astype(np.int8)


def _subsample(data, selection, summary):
    if selection.max_sites is None or len(data) <= selection.max_sites:
        return data
    if selection.max_sites < 1:
        raise UsageError("--max-sites must be at least 1")
    rng = np.random.default_rng(selection.seed)
    keep = np.sort(rng.choice(len(data), size=selection.max_sites, replace=False))
    summary.dropped["subsampled"] += len(data) - len(keep)
    return data.subset(keep)


def encode_all_cpgs(genome, *, flank=200, keep_strands=False, cgi=None, max_n_fraction=1.0, selection=None,
                    extra_meta=None):
    """Every CpG of the genome (or of the selected chromosomes/regions), unlabelled (y = NaN).

    Returns
    -------
    (Dataset, Summary)
    """
    selection = selection or Selection()
    summary = Summary()
    parts = []
    for name in genome.chromosomes():
        if not selection.chrom_ok(name):
            continue
        codes = genome.codes(name)
        if selection.regions is not None:
            starts, ends = selection.regions.intervals(name)
            pos = np.concatenate([find_cpgs(codes, s, e + 1)  for s, e in zip(starts, ends)] or [np.empty(0, np.int64)])
            # a CpG counts when its C lies in the region; find_cpgs over [s, e+1) may add one at e
            pos = pos[selection.regions.contains(name, pos)]
        else:
            pos = find_cpgs(codes)
        summary.calls += len(pos)
        if keep_strands:
            pos = np.concatenate([pos, pos + 1])
            strand = np.concatenate([np.full(len(pos) // 2, "+"), np.full(len(pos) // 2, "-")])
            order = np.argsort(pos, kind="stable")
            pos, strand = pos[order], strand[order]
        else:
            strand = np.full(len(pos), ".")
        windows = extract_windows(codes, pos, flank, strand)
        keep = n_fraction(windows) <= max_n_fraction
        summary.dropped["N-rich"] += int((~keep).sum())
        if not keep.all():
            windows, pos, strand = windows[keep], pos[keep], strand[keep]
        parts.append(Dataset(seq=windows, y=np.full(len(pos), np.nan, np.float32),
                             coverage=np.zeros(len(pos), np.int32), chrom=np.full(len(pos), name),
                             pos=pos.astype(np.int64), strand=strand.astype("<U1"),
                             cgi=_cgi_flags(cgi, name, pos, strand), meta={}))
    log.info("found %d CpG dinucleotides", summary.calls)
    meta = make_meta(genome, flank, strands="kept" if keep_strands else "merged", all_cpgs=True,
                     max_n_fraction=max_n_fraction, **(extra_meta or {}))
    data = Dataset.concatenate(parts, meta=meta) if parts else Dataset.empty(flank, meta)
    data = _subsample(data, selection, summary)
    summary.kept = len(data)
    return data, summary
