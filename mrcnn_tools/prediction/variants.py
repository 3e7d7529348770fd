"""Variant effects: for every variant of a VCF, the predicted level of every CpG whose window contains it, on the
reference and on the alternative allele (``mrcnn-predict --genome FASTA --variants VCF``; docs/FORMATS.md §3).

The windows are cut by :func:`mrcnn_tools.encoding.extract_windows` and predicted by the
:class:`~mrcnn_tools.prediction.predictors.Predictor` of genome mode: a reference window is the one genome mode
predicts, an alternative window the one genome mode would predict on the genome with the variant applied (an indel
shifts the bases; the window is cut around the same CpG on the alternative haplotype). Predictions are made at one
fixed shape, so the deltas do not depend on how variants are chunked or batched. Variants are streamed in chunks:
memory does not grow with their number.
"""

import logging
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools.encoding import N, extract_windows, find_cpgs
from mrcnn_tools.errors import GenomeMismatchError, MrcnnError, UsageError
from mrcnn_tools.genome.cpgs import STRAND_TEXT
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.io import open_output
from mrcnn_tools.models import registry
from mrcnn_tools.models.files import load_model, read_model_meta
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predictors import Predictor, WindowRows
from mrcnn_tools.prediction.variant_null import NullWriter
from mrcnn_tools.prediction.vcf import VariantReader, checked_variants
from mrcnn_tools.progress import Progress

log = logging.getLogger(__name__)

COLUMNS = (
    "chrom",
    "pos",
    "id",
    "ref",
    "alt",
    "filter",
    "cpg_start",
    "cpg_strand",
    "distance",
    "ref_prediction",
    "alt_prediction",
    "delta",
    "cpg_change",
)
DECIMALS = 6


def _sites(seg, lo, keep_strands):
    """CpG sites of a segment starting at *lo*: (pos int64 (n,), strand int8 (n,)) in chromosome coordinates,
    as genome mode lists them (the C, strand 0; with *keep_strands* the C (+1) and the G (-1))."""
    c = find_cpgs(seg) + lo
    if not keep_strands:
        return c, np.zeros(len(c), np.int8)
    pos = np.stack([c, c + 1], 1).reshape(-1)
    strand = np.tile(np.array([1, -1], np.int8), len(c))
    return pos, strand


@dataclass
class SitePlan:
    """The sites of one variant on both alleles (:func:`plan_sites`), before their windows are cut.

    Attributes
    ----------
    rows : list of (cpg_start int, strand int, ref_index int or -1, alt_index int or -1)
        One per site, sorted by position: ``cpg_start`` 0-based on the reference (a CpG gained inside inserted
        bases is placed at the first reference base after them); the index of its window among the reference /
        alternative sites below, -1 on the allele without the CpG.
    ref_pos, ref_strand : numpy.ndarray, int64 (n_ref,), int8 (n_ref,)
        Reference sites, in chromosome coordinates.
    alt_seg : numpy.ndarray, uint8 (2 * margin + len(alt),)
        The alternative haplotype around the variant, N beyond the chromosome's ends.
    alt_pos, alt_strand : numpy.ndarray, int64 (n_alt,), int8 (n_alt,)
        Alternative sites, as positions in *alt_seg*.
    """

    rows: list
    ref_pos: np.ndarray
    ref_strand: np.ndarray
    alt_seg: np.ndarray
    alt_pos: np.ndarray
    alt_strand: np.ndarray


def plan_sites(codes, variant, flank, keep_strands=False):
    """The CpG sites whose window contains *variant*, on both alleles (:class:`SitePlan`).

    Parameters
    ----------
    codes : numpy.ndarray, uint8 (L,)
        The chromosome.
    variant : mrcnn_tools.prediction.vcf.Variant
    flank : int
    keep_strands : bool
    """
    p, r, a = variant.start, len(variant.ref), len(variant.alt)
    margin = 2 * flank + 4  # every site whose window reaches the variant, and its whole window
    lo, hi = max(0, p - margin), min(len(codes), p + r + margin)
    alt_seg = np.concatenate([codes[lo:p], variant.alt, codes[p + r : hi]])
    ref_pos, ref_strand = _sites(codes[lo:hi], lo, keep_strands)
    alt_pos, alt_strand = _sites(alt_seg, lo, keep_strands)
    # the window [s - flank, s + flank] (the site itself left out) contains the changed bases [p, p + r); an
    # insertion (r = 0) between p - 1 and p changes the windows it falls strictly inside
    ref_in = (p < ref_pos + flank + 1) & (p + r > ref_pos - flank)
    alt_in = (p < alt_pos + flank + 1) & (p + a > alt_pos - flank)
    # reference site -> its place on the alternative haplotype (None inside the changed bases)
    alt_key = {(int(x), int(s)): i for i, (x, s) in enumerate(zip(alt_pos, alt_strand))}
    rows, ref_take, alt_take, paired = [], [], [], set()
    for i, (s, st) in enumerate(zip(ref_pos.tolist(), ref_strand.tolist())):
        x = s if s < p else (s + a - r if s >= p + r else None)
        j = alt_key.get((x, st)) if x is not None else None
        if j is not None:
            paired.add(j)
        if ref_in[i] or (j is not None and alt_in[j]):
            rows.append((s, st, len(ref_take), -1 if j is None else len(alt_take)))
            ref_take.append(i)
            if j is not None:
                alt_take.append(j)
    for j in np.flatnonzero(alt_in).tolist():
        if j in paired:
            continue
        x = int(alt_pos[j])
        s = x if x < p else (x - a + r if x >= p + a else p + min(x - p, r))
        rows.append((s, int(alt_strand[j]), -1, len(alt_take)))
        alt_take.append(j)
    rows.sort(key=lambda row: (row[0], -row[1]))
    # the segment padded with N to its full width where it meets a chromosome end, so that windows cut from
    # segments laid end to end read N there, as genome mode does beyond the ends
    left, right = lo - (p - margin), (p + r + margin) - hi
    if left or right:
        alt_seg = np.concatenate([np.full(left, N, np.uint8), alt_seg, np.full(right, N, np.uint8)])
    shift = lo - left
    return SitePlan(
        rows,
        ref_pos[ref_take],
        ref_strand[ref_take],
        alt_seg,
        alt_pos[alt_take] - shift,
        alt_strand[alt_take],
    )


def variant_sites(codes, variant, flank, keep_strands=False):
    """:func:`plan_sites` with the windows cut, one variant alone (the scorer cuts a batch's windows at once).

    Returns
    -------
    rows : list of (cpg_start, strand, ref_index, alt_index)
        As :attr:`SitePlan.rows`.
    ref_windows, alt_windows : numpy.ndarray, uint8 (n_ref, 2*flank), (n_alt, 2*flank)
    """
    plan = plan_sites(codes, variant, flank, keep_strands)
    ref_windows = extract_windows(codes, plan.ref_pos, flank, plan.ref_strand)
    alt_windows = extract_windows(plan.alt_seg, plan.alt_pos, flank, plan.alt_strand)
    return plan.rows, ref_windows, alt_windows


def _fmt(value):
    return "" if value is None else repr(float(value))


@dataclass
class VariantResult:
    """What :func:`variant_effects_to_file` did."""

    records: int = 0
    variants: int = 0
    rows: int = 0
    ref_mismatches: int = 0
    skipped: dict = field(default_factory=dict)
    output: str = "-"

    def summary(self):
        """One line for the log: what was scored and what was skipped, and why."""
        skipped = dict(self.skipped)
        if self.ref_mismatches:
            skipped["REF disagrees with the genome"] = self.ref_mismatches
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        return f"{self.rows} rows (variant, CpG) from {self.variants} alleles of {self.records} VCF records" + (
            f"; skipped: {why}" if why else ""
        )


class EffectScorer:
    """Score variants chunk by chunk: windows of both alleles predicted together, rows formatted.

    Parameters
    ----------
    predictor : Predictor
    genome : Genome
    keep_strands : bool
    chunk_size : int
        Windows predicted at a time (memory).
    """

    def __init__(self, predictor, genome, keep_strands=False, chunk_size=65536):
        self.predictor, self.genome, self.keep_strands = predictor, genome, keep_strands
        self.chunk_size = chunk_size
        self.flank = predictor.flank
        self.chroms = {}  # the FASTA's chromosomes with variants, in order (the null's CpGs lie on them)

    def batches(self, items):
        """Score a stream of ``(Variant, FASTA chromosome name)``, predicting about ``chunk_size`` windows at a
        time (one chromosome per batch). Yields lists of (variant, cpg_start, strand, ref_pred, alt_pred), None for
        the allele without the CpG, and the number of variants of the list."""
        plans, chrom, n = [], None, 0
        for variant, name in items:
            if plans and (name != chrom or n >= self.chunk_size):
                yield self._predict(chrom, plans), len(plans)
                plans, n = [], 0
            chrom = name
            self.chroms[chrom] = None
            plan = plan_sites(self.genome.codes(chrom), variant, self.flank, self.keep_strands)
            plans.append((variant, plan))
            n += len(plan.ref_pos) + len(plan.alt_pos)
        if plans:
            yield self._predict(chrom, plans), len(plans)

    def _predict(self, chrom, plans):
        """Cut the batch's windows at once (the reference from the chromosome, the alternative from the variants'
        segments laid end to end) and predict them together."""
        ref_counts = np.array([len(p.ref_pos) for _, p in plans])
        alt_counts = np.array([len(p.alt_pos) for _, p in plans])
        ref_pos = np.concatenate([p.ref_pos for _, p in plans])
        ref_strand = np.concatenate([p.ref_strand for _, p in plans])
        seg_len = np.array([len(p.alt_seg) for _, p in plans])
        seg_start = np.repeat(np.cumsum(seg_len) - seg_len, alt_counts)
        alt_pos = np.concatenate([p.alt_pos for _, p in plans]) + seg_start
        alt_strand = np.concatenate([p.alt_strand for _, p in plans])
        segs = np.concatenate([p.alt_seg for _, p in plans])
        windows = np.concatenate(
            [
                extract_windows(self.genome.codes(chrom), ref_pos, self.flank, ref_strand),
                extract_windows(segs, alt_pos, self.flank, alt_strand),
            ]
        )
        pred = self.predictor.predict_rows(WindowRows(windows)) if len(windows) else np.empty(0, np.float32)
        ref0 = np.cumsum(ref_counts) - ref_counts
        alt0 = np.cumsum(alt_counts) - alt_counts + len(ref_pos)
        return [
            (v, s, st, None if i < 0 else pred[r0 + i], None if j < 0 else pred[a0 + j])
            for (v, plan), r0, a0 in zip(plans, ref0.tolist(), alt0.tolist())
            for s, st, i, j in plan.rows
        ]

    @staticmethod
    def lines(batch):
        """The effects table's lines (str, without the percentile) of a batch, and the rows' |delta| (NaN where
        a CpG is lost or gained) and SNV keys ``(distance, ref code, alt code, strand)`` for the null."""
        out, deltas, keys = [], [], []
        for v, s, st, rp, ap in batch:
            rp = None if rp is None else round(float(rp), DECIMALS)
            ap = None if ap is None else round(float(ap), DECIMALS)
            delta = None if rp is None or ap is None else round(ap - rp, DECIMALS)
            change = "lost" if ap is None else ("gained" if rp is None else "none")
            dist = v.start - s
            fields = (v.chrom, v.pos, v.id, v.ref_text, v.alt_text, v.filter, s, STRAND_TEXT[st], dist)
            out.append("\t".join(map(str, fields)) + f"\t{_fmt(rp)}\t{_fmt(ap)}\t{_fmt(delta)}\t{change}")
            deltas.append(np.nan if delta is None else abs(delta))
            keys.append((dist, int(v.ref[0]), int(v.alt[0]), st) if v.is_snv and delta is not None else None)
        return out, deltas, keys


def check_variant_model(meta, model_path):
    """Refuse models that do not read the sequence alone (neighbour models: a variant does not change them)."""
    arch = meta.get("arch")
    if arch in registry.CONTEXT_NAMES:
        raise UsageError(
            f"{model_path}: a {arch} model predicts from observed neighbours, which a variant does not change; "
            "score variants with a model that reads the sequence alone (mrcnn, simple-cnn, kmer-gbr)"
        )


def header(with_null):
    return "#" + "\t".join(COLUMNS + (("percentile",) if with_null else ())) + "\n"


def variant_effects_to_file(model_path, genome_path, vcf_path, output="-", *, seed=0, options=None, datasets=()):
    """Score the variants of a VCF: one row per (variant, CpG whose window contains it) into a TSV.

    Parameters
    ----------
    model_path : str
        ``.keras`` (``mrcnn``, ``simple-cnn``, with or without ``--rc-augment``) or ``.skops`` (``kmer-gbr``) model.
    genome_path : str
        The FASTA the variants were called on (chromosome names matched across ``chr22``/``22``).
    vcf_path : str
        VCF or BCF, plain or bgzip.
    output : str
        The effects TSV (``-`` = stdout, ``.gz`` = gzip).
    seed : int
        Seed of the null's draws.
    options : PredictOptions, optional
        ``keep_strands``, ``chunk_size``, ``batch_size``, ``threads``, ``progress``, ``skip_ref_mismatch`` and
        ``null`` (N > 0: an empirical null of N random SNVs, :mod:`mrcnn_tools.prediction.variant_null`, and a
        ``percentile`` column).
    datasets : sequence of str
        Must be empty (variants are scored on the genome); given only to refuse them.

    Returns
    -------
    VariantResult

    Raises
    ------
    GenomeMismatchError
        REF disagrees with the genome (unless ``options.skip_ref_mismatch``), or no variant on its chromosomes.
    UsageError
        A model over observed neighbours.
    """
    opts = options if options is not None else PredictOptions()
    if not model_path or not genome_path or datasets:
        raise UsageError(
            "--variants scores variants with a model on the genome: give -m MODEL and --genome FASTA, no datasets"
        )
    meta = read_model_meta(model_path)
    check_variant_model(meta, model_path)
    genome = Genome(genome_path)
    reader = VariantReader(vcf_path, max_change=int(meta["flank"]))
    model, meta = load_model(model_path, threads=opts.threads)
    predictor = Predictor(model, meta, batch_size=opts.batch_size)
    scorer = EffectScorer(predictor, genome, opts.keep_strands, opts.chunk_size)
    result = VariantResult(output=output)
    with open_output(output) as fh, NullWriter(fh, opts.null, seed, header) as sink:
        with Progress("scoring variants", None, "variant", log=log, enabled=opts.progress) as progress:
            items = checked_variants(reader, genome, result, opts.skip_ref_mismatch, vcf_path)
            for batch, n in scorer.batches(items):
                lines, deltas, keys = scorer.lines(batch)
                sink.write(lines, deltas, keys)
                result.rows += len(lines)
                progress.update(n)
        if result.variants and result.variants == reader.skipped.get("chromosome not in the genome"):
            raise GenomeMismatchError(
                f"{vcf_path}: none of its chromosomes is in the genome {genome_path} (e.g. '{_first_chrom(vcf_path)}', "
                f"genome: {', '.join(genome.chromosomes()[:3])}); give the FASTA the variants were called on"
            )
        sink.finish(scorer, genome)
    result.records, result.skipped = reader.records, dict(reader.skipped)
    return result


def _first_chrom(vcf_path):
    for v in VariantReader(vcf_path):
        return v.chrom
    raise MrcnnError(f"{vcf_path}: no variant")
