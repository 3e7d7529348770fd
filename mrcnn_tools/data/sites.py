"""Stage 1 of an encode: the sites of one chromosome, placed, merged and filtered once.

An encode (:func:`mrcnn_tools.data.encode.encode`) runs three stages on each chromosome in turn, in one read of it:

1. sites (this module): the calls placed on the genome (:class:`PlacedCalls`: on a C or G of a CpG, strands from
   the reference where the file has none, within --chroms/--region), merged per site (duplicates, and both
   strands unless --keep-strands) and filtered by --min-coverage: the observed sites. They are the sites to
   encode, or with --all-cpgs every CpG of the chromosome is (:func:`all_cpg_sites`), labelled where observed.
2. context (:func:`mrcnn_tools.data.neighbours.add_neighbours`, --context K): each site's K nearest other
   observed sites on each side.
3. windows (:class:`mrcnn_tools.data.arrays.WindowCutter`): the N filter, the windows cut into the dataset's
   arrays and, once every chromosome is in, --max-sites.
"""

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.calls.formats import BY_NAME
from mrcnn_tools.calls.placement import check_on_base, on_base, on_cpg
from mrcnn_tools.data.arrays import release_free_memory
from mrcnn_tools.encoding import C, G, N
from mrcnn_tools.errors import GenomeMismatchError
from mrcnn_tools.genome.cpgs import cpg_sites
from mrcnn_tools.genome.regions import Selection

__all__ = ["Sites", "PlacedCalls", "all_cpg_sites", "merge_calls"]

log = logging.getLogger(__name__)


@dataclass
class Sites:
    """The sites of one chromosome in genomic order, as the stages hand them on.

    Attributes
    ----------
    chrom : str
        The chromosome as the dataset names it (the calls' name, or the genome's with --all-cpgs).
    pos : int64 (n,)
        0-based position of the site's C on the + strand ('-' sites: the G).
    strand : int8 (n,)
        1 '+', -1 '-', 0 strands merged.
    level : float64 (n,)
        Methylated fraction, NaN where not observed. Several samples joined
        (:func:`mrcnn_tools.data.samples.join_sites`): float32 (n, S).
    coverage : float64 (n,)
        Reads (whole numbers), 0 where unknown. Several samples: int32 (n, S), 0 where not observed.
    context : dict of (n, 2K) arrays, optional
        The observed neighbours (stage 2, :func:`mrcnn_tools.data.neighbours.add_neighbours`); (n, S, 2K) for
        several samples (:func:`mrcnn_tools.data.samples.add_sample_context`).
    """

    chrom: str
    pos: np.ndarray
    strand: np.ndarray
    level: np.ndarray
    coverage: np.ndarray
    context: dict = None

    def __len__(self):
        return len(self.pos)

    def subset(self, index):
        """The sites selected by a boolean mask or an index array (copied)."""
        return Sites(
            self.chrom,
            self.pos[index],
            self.strand[index],
            self.level[index],
            self.coverage[index],
            None if self.context is None else {k: v[index] for k, v in self.context.items()},
        )

    def observations(self):
        """The labelled sites, as compact as their values allow (float32 levels, int32 reads): what the context
        of sites chosen later is taken from (:func:`mrcnn_tools.data.neighbours.add_chosen_context`)."""
        labelled = np.isfinite(self.level)
        sites = self if labelled.all() else self.subset(labelled)
        coverage = np.minimum(sites.coverage, 2**31 - 1).astype(np.int32)
        return Sites(self.chrom, sites.pos, sites.strand, sites.level.astype(np.float32), coverage)

    @classmethod
    def empty(cls, chrom):
        return cls(chrom, np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0), np.empty(0))

    @classmethod
    def joined(cls, chrom, parts):
        """One run of sites in genomic order from *parts* of one chromosome (a file that names it two ways,
        chr22 and 22)."""
        joined = cls(
            chrom, *(np.concatenate([getattr(p, k) for p in parts]) for k in ("pos", "strand", "level", "coverage"))
        )
        return joined.subset(np.argsort(joined.pos, kind="stable"))


def merged_sites(name, calls, ix, pos, strand, selection, keep_strands, min_coverage, summary):
    """The sites of the calls *ix* of chromosome *name* (at *pos*, *strand*): those inside the selected regions,
    both strands merged unless *keep_strands*, those under *min_coverage* dropped (formats with counts)."""
    if selection.regions is not None:
        inside = selection.regions.contains(name, np.where(strand < 0, pos - 1, pos))
        summary.dropped["outside regions"] += int((~inside).sum())
        ix, pos, strand = ix[inside], pos[inside], strand[inside]
    # counts may be float32 in Calls: summed as float64, as they always were
    m, u = calls.count_m[ix].astype(np.float64), calls.count_u[ix].astype(np.float64)
    level = None if calls.level is None else calls.level[ix]
    sites = Sites(name, *merge_calls(pos, strand, m, u, level, keep_strands, calls.has_counts, summary))
    del m, u
    if calls.has_counts:
        keep = (sites.coverage >= min_coverage) & (sites.coverage > 0)
        summary.dropped["coverage"] += int((~keep).sum())
        if not keep.all():
            sites = sites.subset(keep)
    return sites


def _group_by_chrom(genome, calls, selection, skip_missing, path, summary):
    """{name of the file: (genome's name, index array or range of its calls)}, in the file's order; calls
    elsewhere are dropped or refused."""
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
        by_chrom[name] = (gname, ix)
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


def merge_calls(pos, strand, m, u, level, keep_strands, has_counts, summary):
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


class PlacedCalls:
    """The calls of one file on the genome: stage 1 of an encode from calls, one chromosome at a time.

    Made once (the calls grouped by chromosome; calls on chromosomes not selected or absent from the genome are
    counted and dropped, or refused when none is on the genome), then :meth:`sites` gives each chromosome's observed
    sites, and :meth:`check` refuses, once every chromosome is placed, calls that do not sit on this genome's
    cytosines (work is only lost on error).

    Parameters
    ----------
    genome : Genome
    calls : Calls
    options : EncodeOptions
        ``selection``, ``skip_missing_chroms``, ``keep_strands``, ``min_coverage``, ``min_cpg_fraction``.
    summary : Summary
        Counts the calls read, the duplicates and each drop.
    path : str
        The calls' file, for the messages.
    """

    def __init__(self, genome, calls, options, summary, path="calls"):
        self.genome, self.calls, self.options, self.summary, self.path = genome, calls, options, summary, path
        self.selection = options.selection or Selection()
        summary.calls += len(calls) + calls.context_dropped
        summary.dropped["outside CpG context"] += calls.context_dropped
        self._rows = _group_by_chrom(genome, calls, self.selection, options.skip_missing_chroms, path, summary)
        self.names = list(self._rows)  # the calls' chromosome names, in the file's order
        self._on_genome = {}  # the genome's name: the calls' names for it (two when a file spells it two ways)
        for name, (gname, _) in self._rows.items():
            self._on_genome.setdefault(gname, []).append(name)
        self.upper = sum(len(ix) for _, ix in self._rows.values())  # sites at most
        if not calls.has_counts and options.min_coverage:
            log.info("format %s has no read counts: --min-coverage is not applied", calls.format)
        self.observed = 0
        self._hits, self._total = {"base": 0, -1: 0, 1: 0}, 0
        self._off_base = 0
        self._on_g = [0, 0]  # calls without a strand on a G, on a C or G

    def genome_name(self, name):
        """The genome's name of the calls' chromosome *name*."""
        return self._rows[name][0]

    def sites(self, name, codes):
        """The observed sites of the calls' chromosome *name* (*codes*: that chromosome of the genome)."""
        calls, summary, selection = self.calls, self.summary, self.selection
        ix = self._rows[name][1]
        if isinstance(ix, range):
            ix = np.arange(ix.start, ix.stop)
        pos = calls.pos[ix].astype(np.int64)  # positions in Calls may be int32; arithmetic below needs 64 bits
        inside = (pos >= 0) & (pos < len(codes))
        # a call on N (e.g. outside the pieces of a region FASTA) has no sequence to check or encode
        inside[inside] = codes[pos[inside]] != N
        summary.dropped["outside genome"] += int((~inside).sum())
        ix, pos = ix[inside], pos[inside]
        self._total += len(ix)
        strand = calls.strand[ix].copy()
        on_c = on_base(codes, pos, strand)
        self._hits["base"] += int(on_c.sum())
        if on_c.sum() < self.options.min_cpg_fraction * len(on_c):
            # only for the error message (would a one-base shift fit?); a chromosome that passes adds ~0 here
            for shift in (-1, 1):
                self._hits[shift] += int(on_cpg(codes, pos + shift, strand).sum())
        on = on_cpg(codes, pos, strand)
        unknown = strand == 0
        if unknown.any():
            base = codes[pos[unknown]]
            strand[unknown] = np.where(base == C, 1, np.where(base == G, -1, 0))
            self._on_g[0] += int((base == G).sum())
            self._on_g[1] += int(((base == C) | (base == G)).sum())
        # calls on a cytosine outside a CpG (CHG/CHH of all-context files) are dropped once the base check holds
        summary.dropped["outside CpG context"] += int((on_c & ~on).sum())
        self._off_base += int((~on_c).sum())
        ix, pos, strand = ix[on], pos[on], strand[on]
        opts = self.options
        sites = merged_sites(name, calls, ix, pos, strand, selection, opts.keep_strands, opts.min_coverage, summary)
        self.observed += len(sites)
        return sites

    def sites_on(self, gname, codes):
        """The observed sites on the genome's chromosome *gname*, from every name of the calls that means it."""
        parts = [self.sites(name, codes) for name in self._on_genome.get(gname, [])]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Sites.empty(gname)
        return Sites.joined(gname, parts)

    def check(self):
        """After every chromosome: refuse calls that do not sit on this genome, warn of a likely 1-based file.

        Raises
        ------
        GenomeMismatchError, InputFormatError
            Too few calls on a C (+) or G (-) of the genome (:func:`mrcnn_tools.calls.placement.check_on_base`).
        """
        calls, summary = self.calls, self.summary
        self._rows = None
        release_free_memory()
        check_on_base(self._hits, self._total, calls.format, self.genome.name, self.options.min_cpg_fraction, self.path)
        summary.dropped["not on a C/G"] += self._off_base
        on_g = self._on_g
        if on_g[1] >= 20 and on_g[0] >= 0.95 * on_g[1]:
            # per-strand files put about half their calls on Gs; strand-merged ones none: all on Gs is a 1-based
            # file read as 0-based (right after merging, wrong with --keep-strands)
            log.warning(
                "%s: %d of %d calls without a strand sit on the G of a CpG, (nearly) none on its C: if the file "
                "has strands merged onto the C, its positions are one too far (1-based read as %s); check "
                "--calls-format",
                self.path,
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


def all_cpg_sites(codes, name, options, summary, observed=None):
    """Stage 1 with --all-cpgs: every CpG of one chromosome within the selection, labelled where observed.

    Parameters
    ----------
    codes : numpy.ndarray, uint8
        The chromosome.
    name : str
        Its name in the genome (as the dataset will name it).
    options : EncodeOptions
        ``selection`` (its regions), ``keep_strands``.
    summary : Summary
        ``calls`` counts the CpGs found.
    observed : Sites, optional
        The observed sites of this chromosome (:meth:`PlacedCalls.sites_on`): their level and coverage label the
        CpG (and strand, with --keep-strands) they sit on; the others have level NaN and coverage 0.

    Returns
    -------
    Sites
    """
    regions = options.selection.regions if options.selection is not None else None
    pos, strand = cpg_sites(codes, name, regions, options.keep_strands)
    summary.calls += len(pos) // (2 if options.keep_strands else 1)
    if observed is None:
        # unlabelled: one value seen as n (nothing allocated)
        return Sites(name, pos, strand, np.broadcast_to(np.nan, len(pos)), np.broadcast_to(0.0, len(pos)))
    level, coverage = np.full(len(pos), np.nan), np.zeros(len(pos))
    if len(observed):
        key_t, key_o = _site_keys(pos, strand), _site_keys(observed.pos, observed.strand)
        order = np.argsort(key_o, kind="stable")
        i = np.clip(np.searchsorted(key_o[order], key_t), 0, len(order) - 1)
        hit = key_o[order][i] == key_t
        src = order[i[hit]]
        level[hit], coverage[hit] = observed.level[src], observed.coverage[src]
    return Sites(name, pos, strand, level, coverage)


def _site_keys(pos, strand):
    """One int64 per site of a chromosome: position << 1 | minus (a '-' site sits on the G of its CpG)."""
    return (np.asarray(pos, np.int64) << 1) | (np.asarray(strand) < 0)
