"""From calls and a genome to a dataset: place calls on CpGs, merge strands, filter, cut windows."""

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset, make_meta
from .encoding import C, G, N, extract_windows, find_cpgs, minus_mask, n_counts
from .errors import GenomeMismatchError, InputFormatError, UsageError
from .genome import canonical_chrom
from .levels import group_counts
from .formats import ALTERNATIVE, BY_NAME
from .methylation import detect_format, read_calls
from .placement import check_on_base, on_base, on_cpg

log = logging.getLogger(__name__)


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


STRAND_TEXT = np.array([".", "+", "-"])  # indexed by int8 strand 0, 1, -1


def _load_trim():
    try:
        import ctypes

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
        ix = range(bounds[k], bounds[k + 1]) if order is None else order[bounds[k]:bounds[k + 1]]
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
        names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        what = (f"{path}: {sum(missing.values())} calls on {len(missing)} chromosomes absent from the genome "
                f"{genome.name} ({names})")
        if not by_chrom and not skip_missing:
            raise GenomeMismatchError(f"{what}, and none on its chromosomes; use the matching genome or check "
                                      "the chromosome names")
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


def encode_calls(genome, calls, *, flank=200, min_coverage=5, keep_strands=False, cgi=None,
                 max_n_fraction=1.0, selection=None, skip_missing_chroms=False, min_cpg_fraction=0.9,
                 calls_path="calls", extra_meta=None, windows=True):
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
    out = _Output(sum(len(ix) for ix in by_chrom.values()), 2 * flank if windows else 0)
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
        spos, sstrand, lev, cov = _merge(pos, strand, m, u, None if calls.level is None else calls.level[ix],
                                         keep_strands, calls.has_counts, summary)
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
        log.warning("%s: %d of %d calls without a strand sit on the G of a CpG, (nearly) none on its C: if the file "
                    "has strands merged onto the C, its positions are one too far (1-based read as %s); check "
                    "--format", calls_path, on_g[0], on_g[1], BY_NAME[calls.format].coords
                    if calls.format in BY_NAME else "given")
    outside = summary.dropped["outside CpG context"]
    if outside:
        log.info("%d calls outside CpG context (%d by the file's context column, %d by the reference)", outside,
                 calls.context_dropped, outside - calls.context_dropped)
    meta = make_meta(genome, flank, min_coverage=min_coverage if calls.has_counts else None,
                     strands="kept" if keep_strands else "merged", format=calls.format,
                     max_n_fraction=max_n_fraction, windows=bool(windows), **(extra_meta or {}))
    data = _subsample(out.dataset(meta), selection, summary)
    summary.kept = len(data)
    summary.groups = group_counts(data.y)
    return data, summary


class _Output:
    """The arrays of a Dataset, allocated for an upper bound of sites and filled chromosome by chromosome."""

    def __init__(self, upper, width):
        self.seq = np.empty((upper, width), np.uint8)
        self.y = np.empty(upper, np.float32)
        self.coverage = np.empty(upper, np.int32)
        self.pos = np.empty(upper, np.int64)
        self.strand = np.empty(upper, np.int8)
        self.cgi = np.empty(upper, np.int8)
        self.chroms = []  # (name, start, end)
        self.filled = 0

    def add(self, name, pos, strand, level, cov, cgi, codes, flank):
        a, b = self.filled, self.filled + len(pos)
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
        n = self.filled
        # the text columns are made last, each in one piece: the numeric ones are all they are built from
        chrom = np.empty(n, f"<U{max((len(c) for c, _, _ in self.chroms), default=1)}")
        for name, a, b in self.chroms:
            chrom[a:b] = name
        return Dataset(seq=self.seq[:n], y=self.y[:n], coverage=self.coverage[:n], chrom=chrom, pos=self.pos[:n],
                       strand=STRAND_TEXT[self.strand[:n]], cgi=self.cgi[:n], meta=meta)


def _assemble(seq, parts, cgi, meta):
    """One Dataset from the filled window array and per-chromosome (name, pos, strand, level, coverage)."""
    def cat(i, dtype):
        return np.concatenate([p[i] for p in parts]).astype(dtype) if parts else np.empty(0, dtype)

    strand = cat(2, np.int8)
    chrom = np.concatenate([np.full(len(p[1]), p[0]) for p in parts]) if parts else np.empty(0, "<U1")
    flags = (np.concatenate([cgi_flags(cgi, p[0], p[1], p[2]) for p in parts]) if parts
                 else np.empty(0, np.int8))
    return Dataset(seq=seq, y=cat(3, np.float32), coverage=np.minimum(cat(4, np.float64), 2**31 - 1).astype(np.int32),
                   chrom=chrom, pos=cat(1, np.int64), strand=STRAND_TEXT[strand], cgi=flags, meta=meta)


def cgi_flags(cgi, chrom, pos, strand):
    if cgi is None:
        return np.full(len(pos), -1, np.int8)
    site = np.where(minus_mask(strand), pos - 1, pos)
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
                    extra_meta=None, windows=True):
    """Every CpG of the genome (or of the selected chromosomes/regions), unlabelled (y = NaN).

    *windows* False gives a sites-only dataset (``seq`` of shape (n, 0)), as in :func:`encode_calls`.

    Returns
    -------
    (Dataset, Summary)
    """
    selection = selection or Selection()
    summary = Summary()
    max_n = int(np.floor(max_n_fraction * 2 * flank + 1e-9))
    sites = []
    for name in genome.chromosomes():
        if not selection.chrom_ok(name):
            continue
        pos, strand = cpg_sites(genome.codes(name), name, selection.regions, keep_strands)
        summary.calls += len(pos) // (2 if keep_strands else 1)
        n_rich = n_counts(genome.codes(name), pos, flank, beyond_ends=False) > max_n
        summary.dropped["N-rich"] += int(n_rich.sum())
        sites.append((name, pos[~n_rich], strand[~n_rich]))
    log.info("found %d CpG dinucleotides", summary.calls)
    seq = np.empty((sum(len(p) for _, p, _ in sites), 2 * flank if windows else 0), np.uint8)
    parts, filled = [], 0
    for name, pos, strand in sites:
        if windows:
            extract_windows(genome.codes(name), pos, flank, strand, out=seq[filled:filled + len(pos)])
        filled += len(pos)
        parts.append((name, pos, strand, np.full(len(pos), np.nan), np.zeros(len(pos))))
    meta = make_meta(genome, flank, strands="kept" if keep_strands else "merged", all_cpgs=True,
                     max_n_fraction=max_n_fraction, windows=bool(windows), **(extra_meta or {}))
    data = _assemble(seq, parts, cgi, meta)
    data = _subsample(data, selection, summary)
    summary.kept = len(data)
    return data, summary


def cpg_sites(codes, name, regions=None, keep_strands=False):
    """Positions (int64) and strands (int8) of the CpGs of one chromosome, optionally within regions.

    Merged (default): the C of each CpG, strand 0. With *keep_strands*: the C (+1) and the G (-1), in order.
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
    log.info("%s: the calls do not fit as %s (%s); reading them as %s (%s)", path, detected,
             BY_NAME[detected].coords, alt, BY_NAME[alt].coords)
    try:
        calls = read_calls(path, alt, mod_code=mod_code, level_scale=level_scale)
        return encode_calls(genome, calls, calls_path=path, **kwargs)
    except (GenomeMismatchError, InputFormatError):
        raise first from None
