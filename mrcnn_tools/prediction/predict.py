"""Prediction into files: the sites of datasets, or every CpG of a genome in bounded memory, through a
:class:`~mrcnn_tools.prediction.predictors.RowPredictor`, into a predictions file (and a bigWig)."""

import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.data.attach import attach_genome
from mrcnn_tools.data.dataset import load_datasets
from mrcnn_tools.encoding import extract_windows
from mrcnn_tools.errors import MrcnnError, UsageError
from mrcnn_tools.genome.cpgs import STRAND_TEXT, cgi_flags
from mrcnn_tools.genome.fasta import Genome, canonical_chrom
from mrcnn_tools.genome.regions import Selection
from mrcnn_tools.io import open_output
from mrcnn_tools.models import registry
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import check_model_fits, load_model, read_model_meta
from mrcnn_tools.models.precision import check_precision, use_precision
from mrcnn_tools.prediction.chroms import ChromNamer
from mrcnn_tools.prediction.files import PredictionWriter, SampleTracks, write_bigwig
from mrcnn_tools.prediction.genome_sites import GenomeSites, shard_range
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predictors import Predictor, WindowRows, context_predictor
from mrcnn_tools.prediction.samples import (
    SamplesBaseline,
    check_sample_options,
    for_samples,
    long_rows,
    model_samples,
)
from mrcnn_tools.progress import Progress

log = logging.getLogger(__name__)


def genome_chunks(
    genome, *, regions=None, chroms_ok=None, keep_strands=False, chunk_size=65536, shard=None, cache_dir=None
):
    """Stream the CpGs of a genome in chunks, one chromosome at a time (:meth:`GenomeSites.chunks`).

    Yields
    ------
    (chrom, pos int64 (k,), strand int8 (k,))
    """
    sites = GenomeSites(
        genome, regions=regions, chroms_ok=chroms_ok, keep_strands=keep_strands, shard=shard, cache_dir=cache_dir
    )
    yield from sites.chunks(chunk_size)


@dataclass
class PredictResult:
    """What :func:`predict_to_files` did: sites predicted, where, which shard."""

    rows: int
    output: str
    bigwig: str = None
    shard: tuple = None
    tracks: list = None  # --out-dir: each sample's bedGraph and bigWig


def _dataset_chunks(data, shard, sort, chunk_size):
    """Rows of shard *shard* of *data* (sorted by chromosome and position for a bigWig) in chunks, and the
    chromosome sizes of the rows (from the dataset's meta; else the last site + 2)."""

    lo, hi = shard_range(len(data), shard)
    rows = data.subset(slice(lo, hi))
    if sort:
        rows = rows.subset(np.lexsort((rows.pos, rows.chrom)))
    by_key = {canonical_chrom(k): v for k, v in data.meta.get("chrom_lengths", {}).items()}
    sizes = {
        str(c): int(by_key.get(canonical_chrom(str(c)), rows.pos[rows.chrom == c].max() + 2))
        for c in np.unique(rows.chrom)
    }
    chunks = (rows.subset(slice(i, i + chunk_size)) for i in range(0, len(rows), chunk_size))
    return len(rows), chunks, sizes


def _write_dataset(predictor, writer, chunks, names, progress, impute_missing=False):
    for part in chunks:
        pred = predictor.predict_rows(part)
        if part.samples is None:
            writer.write(names.array(part.chrom), part.pos, part.strand, pred, part.y, part.coverage, part.cgi)
        else:  # one row per (site, sample): observed entries, or all of them with --impute-missing
            r = long_rows(part.y, part.coverage, pred, impute_missing)
            chrom, site = names.array(part.chrom)[r.site], r.site
            writer.write(
                chrom, part.pos[site], part.strand[site], r.prediction, r.y, r.coverage, part.cgi[site], r.sample
            )
        progress.update(len(part))


def _write_genome(predictor, sites, writer, cgi, chunk_size, names, progress):

    flank = predictor.flank
    for chrom, pos, strand in sites.chunks(chunk_size):
        pred = predictor.predict_rows(WindowRows(extract_windows(sites.chrom_codes(chrom), pos, flank, strand)))
        writer.write(
            names(chrom),
            pos,
            STRAND_TEXT[np.asarray(strand, np.int8)],
            pred,
            cgi=cgi_flags(cgi, chrom, pos, strand) if cgi is not None else None,
        )
        done = sites.done(chrom, pos)
        progress.update(len(pos) if done is None else done - progress.done)
    total, _ = sites.total()
    if progress.done < total:  # the selected bases after the last CpG
        progress.update(total - progress.done)


KERAS_EXTRAS = ("matplotlib", "sklearn")  # what Keras imports for its plots and scikit-learn wrappers: unused here


def start_tensorflow(threads=None, skip=KERAS_EXTRAS):
    """Import TensorFlow and Keras (:func:`~mrcnn_tools.models.backend.load_tensorflow`) without the modules *skip*
    that Keras imports only for helpers no command uses (it imports them in ``try: ... except ImportError``): less
    start-up CPU and memory for every job-array task. Modules already imported are left alone, and a later import of
    a skipped module works as usual."""
    hide = [name for name in skip if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hide, None))  # None there: an import of it raises ImportError
    try:
        load_tensorflow(threads)
    finally:
        for name in hide:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _predictor(model_path, data, datasets, batch_size, threads, precision="float32"):
    """What predicts each chunk (a :class:`~mrcnn_tools.prediction.predictors.RowPredictor`): the model, a model
    over observed neighbours, or without a model the distance-weighted average of the neighbours of a context
    dataset (``--baseline neighbours``). *precision* ``bf16`` is checked against the CPU before the model loads."""

    if precision != "float32":
        arch = read_model_meta(model_path).get("arch") if model_path else registry.NEIGHBOUR_BASELINE
        if arch in ("kmer-gbr", registry.NEIGHBOUR_BASELINE):
            raise UsageError(f"--precision {precision} is for Keras models; {arch} computes in float64 anyway")
        check_precision(precision)
    if model_path is None:
        return context_predictor(None, {"arch": registry.NEIGHBOUR_BASELINE}, data, datasets[0])
    model, meta = load_model(model_path, threads=threads)
    if meta.get("arch") in registry.CONTEXT_NAMES:
        use_precision(precision)  # before its function is first traced and run
        return context_predictor(model, meta, data, datasets[0] if datasets else None, genome_mode=not datasets)
    return Predictor(model, meta, batch_size=batch_size, precision=precision)


def predict_to_files(
    model_path, datasets=(), *, genome_path=None, output="-", bigwig=None, cgi=None, options=None, out_dir=None
):
    """Predict the sites of datasets, or every CpG of a genome, into a predictions file (and a bigWig).

    Parameters
    ----------
    model_path : str or None
        ``.keras`` or ``.skops`` model from mrcnn-train; None: the neighbour average of datasets encoded with
        ``--context K`` (NaN where a site has no observed neighbour).
    datasets : sequence of str
        Dataset NPZ files or shards; empty: genome mode (every CpG of *genome_path* in ``options.selection``).
    genome_path : str, optional
        The genome FASTA: the CpGs to predict (genome mode), or where the windows of sites-only datasets are cut.
    output : str
        Predictions file (``-`` = stdout, ``.gz`` = gzip), in ``options.output_format``.
    bigwig : str, optional
        Also write the predictions as a bigWig.
    cgi : IntervalSet, optional
        Genome mode: CpG islands for the cgi column.
    options : PredictOptions, optional
        Everything else, with its defaults (:class:`~mrcnn_tools.prediction.options.PredictOptions`).
    out_dir : str, optional
        Datasets: also one ``SAMPLE.bedGraph`` and ``SAMPLE.bw`` per sample in this directory (it must exist).
        With several samples and ``options.output_format`` bedgraph, these replace *output*.

    Returns
    -------
    PredictResult

    Raises
    ------
    MrcnnError
        An empty dataset, no CpG in the selection, a model that does not fit the data.
    """

    opts = options if options is not None else PredictOptions()
    if model_path is None and not datasets:
        raise UsageError(
            f"--baseline {opts.baseline or 'neighbours'} predicts the sites of datasets (mrcnn-encode "
            "--context K, or several samples); give them, or a model (-m) for genome mode"
        )
    if out_dir and not datasets:
        raise UsageError("--out-dir holds one track per sample of datasets; in genome mode give -o (and --bigwig)")
    meta = read_model_meta(model_path) if model_path else {"arch": registry.NEIGHBOUR_BASELINE}
    if model_samples(meta) and not datasets:
        raise UsageError(
            f"{model_path} predicts {len(model_samples(meta))} samples at once; genome mode predicts one: give "
            "a dataset of its samples (mrcnn-encode --all-cpgs --calls ... --no-windows) instead"
        )
    if datasets:
        data = load_datasets(list(datasets))
        if model_path:
            check_model_fits(meta, data.meta, data.window, model_path, datasets[0])
        if len(data) == 0:
            raise MrcnnError(f"{datasets[0]}: the dataset is empty; nothing to predict")
        if genome_path or registry.reads_sequence(meta.get("arch")):
            attach_genome(data, genome_path, datasets[0], opts.cache_dir)
        check_sample_options(data, opts, bigwig, out_dir)
        extra = (["y_true", "coverage"] if np.isfinite(data.y).any() else []) + (
            ["cgi"] if (data.cgi >= 0).any() else []
        )
        # the genome's names, as the dataset recorded the FASTA it was encoded with
        names = ChromNamer(opts.chrom_names, data.meta.get("chrom_lengths", {}))
    else:
        genome = Genome(genome_path)
        selection = opts.selection or Selection()
        selection.check(genome)  # --region chr99:1-1000: the one error of every command, before any work
        extra = ["cgi"] if cgi is not None else []
        names = ChromNamer(opts.chrom_names, genome.chromosomes())
    if opts.baseline == "samples":
        predictor = SamplesBaseline(data, datasets[0])
    else:
        if meta.get("arch") not in ("kmer-gbr", registry.NEIGHBOUR_BASELINE):
            start_tensorflow(opts.threads)
        predictor = _predictor(
            model_path, data if datasets else None, datasets, opts.batch_size, opts.threads, opts.precision
        )
    if datasets:  # several samples: the model's matched to the dataset's by name, (n, S) predictions
        predictor = for_samples(predictor, meta, data, model_path, datasets[0])
    with contextlib.ExitStack() as stack:
        bw_fh = bw_path = None
        if bigwig:
            bw_path = os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "pred.bedGraph")
            bw_fh = stack.enter_context(open(bw_path, "w"))
        several = datasets and data.samples is not None
        tracks = SampleTracks(out_dir, data.sample_names, stack) if out_dir else None
        fh = (
            None
            if several and out_dir and opts.output_format == "bedgraph"
            else stack.enter_context(open_output(output))
        )
        samples = data.sample_names if several else None
        writer = PredictionWriter(fh, opts.output_format, extra, bw_fh, samples, tracks)
        if datasets:
            sort = bigwig is not None or tracks is not None
            total, chunks, sizes = _dataset_chunks(data, opts.shard, sort, opts.chunk_size)
            with Progress("predicting", total, "CpG", log=log, enabled=opts.progress) as progress:
                _write_dataset(predictor, writer, chunks, names, progress, opts.impute_missing)
        else:
            sites = GenomeSites(
                genome,
                regions=selection.regions,
                chroms_ok=selection.chrom_ok,
                keep_strands=opts.keep_strands,
                shard=opts.shard,
                cache_dir=opts.cache_dir,
            )
            total, unit = sites.total()
            with Progress("predicting", total, unit, log=log, enabled=opts.progress) as progress:
                _write_genome(predictor, sites, writer, cgi, opts.chunk_size, names, progress)
            sizes = genome.lengths()
        writer.close()
        if writer.rows == 0 and not datasets:
            raise MrcnnError(
                "no CpG in the selected chromosomes/regions; check --region/--regions/--chroms "
                f"against the chromosome names of {genome_path}"
            )
        if bigwig:
            bw_fh.close()
            write_bigwig(bw_path, bigwig, {names(c): n for c, n in sizes.items()})
        if tracks is not None:
            tracks.close({names(c): n for c, n in sizes.items()})
    return PredictResult(writer.rows, output, bigwig, opts.shard, tracks.files if tracks is not None else None)
