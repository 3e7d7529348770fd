"""Prediction: a model over windows in batches, clipped to [0, 1]; genome-wide in bounded memory."""

import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from mrcnn_tools.data.attach import attach_genome
from mrcnn_tools.data.dataset import load_datasets
from mrcnn_tools.data.strand import strand_averaged
from mrcnn_tools.encoding import N, extract_windows
from mrcnn_tools.errors import MrcnnError, UsageError
from mrcnn_tools.genome.cpgs import STRAND_TEXT, cgi_flags, cpg_sites
from mrcnn_tools.genome.fasta import Genome, canonical_chrom
from mrcnn_tools.genome.regions import Selection
from mrcnn_tools.io import open_output
from mrcnn_tools.models import registry
from mrcnn_tools.models.baselines import features
from mrcnn_tools.models.context_inputs import context_predictor
from mrcnn_tools.models.files import check_model_fits, load_model, read_model_meta
from mrcnn_tools.prediction.files import PredictionWriter, write_bigwig

log = logging.getLogger(__name__)

# Keras models always see batches of exactly this many rows, the last one padded with N windows. Kernels pick
# their code path (blocking, vector width, threading) by shape, so a row's prediction may change in the last bit
# with the batch it travels in; at one fixed shape it depends on the row alone, whatever --batch-size,
# --chunk-size, --shard or NPZ vs genome mode cut the sites into.
PREDICT_ROWS = 1024


class Predictor:
    """Wrap a model from :func:`mrcnn_tools.models.files.load_model` for prediction on uint8 codes.

    Predictions are bit-identical however the windows are split into calls: a Keras model is run on blocks
    of :data:`PREDICT_ROWS` rows at one fixed shape (the last block padded); a scikit-learn model predicts
    each row on its own anyway.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
    meta : dict
        The model's metadata (``arch``, ``flank``).
    batch_size : int
        Rows whose k-mer features are computed at once (``kmer-gbr``: memory); Keras models always run at
        :data:`PREDICT_ROWS` rows per call.
    """

    def __init__(self, model, meta, batch_size=2048):
        self.model = model
        self.meta = meta
        self.batch_size = batch_size
        self.flank = int(meta["flank"])
        self.is_keras = meta.get("arch") != "kmer-gbr"
        self._fn = None
        if self.is_keras:
            import tensorflow as tf

            # a compiled forward pass is ~2x faster than model.predict's per-call machinery; the signature
            # pins the shape, so it is traced once

            forward = strand_averaged(model) if meta.get("rc_augment") else (lambda x: model(x, training=False))
            self._fn = tf.function(forward, input_signature=[tf.TensorSpec((PREDICT_ROWS, 2 * self.flank), tf.uint8)])

    def _keras_block(self, codes):
        n = len(codes)
        if n < PREDICT_ROWS:
            codes = np.concatenate([codes, np.full((PREDICT_ROWS - n, codes.shape[1]), N, np.uint8)])
        return self._fn(np.ascontiguousarray(codes, np.uint8)).numpy().reshape(-1)[:n]

    def predict(self, seq):
        """Predicted levels for windows.

        Parameters
        ----------
        seq : numpy.ndarray, uint8, shape (n, 2*flank)

        Returns
        -------
        numpy.ndarray, float32, shape (n,), clipped to [0, 1]
        """
        out = np.empty(len(seq), np.float32)
        if self.is_keras:
            for i in range(0, len(seq), PREDICT_ROWS):
                out[i : i + PREDICT_ROWS] = self._keras_block(seq[i : i + PREDICT_ROWS])
        else:
            for i in range(0, len(seq), self.batch_size):
                out[i : i + self.batch_size] = self.model.predict(features(seq[i : i + self.batch_size], self.flank))
        return np.clip(out, 0.0, 1.0)

    def predict_rows(self, data):
        """Predicted levels of every site of a dataset (windows stored or cut from its genome): float32 (n,).

        The interface of every predictor :func:`predict_to_files` drives, whatever inputs its model takes.
        """
        return self.predict(data.windows())


def shard_range(total, shard):
    """Global site indices [start, end) of shard ``(i, n)``, i 1-based: contiguous, disjoint, covering all."""
    if shard is None:
        return 0, total
    i, n = shard
    return (i - 1) * total // n, i * total // n


def genome_chunks(genome, *, regions=None, chroms_ok=None, keep_strands=False, chunk_size=65536, shard=None):
    """Stream the CpGs of a genome in chunks, one chromosome in memory at a time.

    Yields
    ------
    (chrom, pos int64 (k,), strand int8 (k,))
        Windows are cut by the caller (it knows the flank); here only positions are made.
    """

    names = [c for c in genome.chromosomes() if chroms_ok is None or chroms_ok(c)]
    counts = None
    if shard is not None:
        # a first pass counts the CpGs so that every shard gets a contiguous, equal part of the whole
        counts = [len(cpg_sites(genome.codes(c), c, regions, keep_strands)[0]) for c in names]
        lo, hi = shard_range(sum(counts), shard)
    seen = 0
    for k, name in enumerate(names):
        if counts is not None and (seen >= hi or seen + counts[k] <= lo):
            seen += counts[k]
            continue
        pos, strand = cpg_sites(genome.codes(name), name, regions, keep_strands)
        if counts is not None:
            a, b = max(lo - seen, 0), min(hi - seen, len(pos))
            seen += len(pos)
            pos, strand = pos[a:b], strand[a:b]
        for i in range(0, len(pos), chunk_size):
            yield name, pos[i : i + chunk_size], strand[i : i + chunk_size]


@dataclass
class PredictResult:
    """What :func:`predict_to_files` did: sites predicted, where, which shard."""

    rows: int
    output: str
    bigwig: str = None
    shard: tuple = None


def _bar(show, total):
    """A tqdm progress bar on stderr, or None (not asked for, not a terminal)."""
    if not show or not sys.stderr.isatty():
        return None
    return tqdm(total=total, unit="CpG", unit_scale=True, file=sys.stderr, desc="mrcnn-predict")


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


def _write_dataset(predictor, writer, chunks, bar):
    for part in chunks:
        pred = predictor.predict_rows(part)
        writer.write(part.chrom, part.pos, part.strand, pred, part.y, part.coverage, part.cgi)
        if bar:
            bar.update(len(part))


def _write_genome(predictor, genome, writer, selection, cgi, keep_strands, chunk_size, shard, bar):

    for chrom, pos, strand in genome_chunks(
        genome,
        regions=selection.regions,
        chroms_ok=selection.chrom_ok,
        keep_strands=keep_strands,
        chunk_size=chunk_size,
        shard=shard,
    ):
        pred = predictor.predict(extract_windows(genome.codes(chrom), pos, predictor.flank, strand))
        writer.write(
            chrom,
            pos,
            STRAND_TEXT[np.asarray(strand, np.int8)],
            pred,
            cgi=cgi_flags(cgi, chrom, pos, strand) if cgi is not None else None,
        )
        if bar:
            bar.update(len(pos))


def _predictor(model_path, data, datasets, batch_size, threads):
    """What predicts each chunk (``predict_rows(dataset)``): the model, a model over observed neighbours, or
    without a model the distance-weighted average of the neighbours of a context dataset (``--baseline``)."""

    if model_path is None:
        return context_predictor(None, {"arch": registry.NEIGHBOUR_BASELINE}, data, datasets[0])
    model, meta = load_model(model_path, threads=threads)
    if meta.get("arch") in registry.CONTEXT_NAMES:
        return context_predictor(model, meta, data, datasets[0] if datasets else None, genome_mode=not datasets)
    return Predictor(model, meta, batch_size=batch_size)


def predict_to_files(
    model_path,
    *,
    datasets=(),
    genome_path=None,
    output="-",
    output_format="tsv",
    bigwig=None,
    shard=None,
    selection=None,
    cgi=None,
    keep_strands=False,
    cache_dir=None,
    chunk_size=65536,
    batch_size=2048,
    threads=None,
    progress=False,
):
    """Predict the sites of datasets, or every CpG of a genome, into a predictions file (and a bigWig).

    Parameters
    ----------
    model_path : str or None
        ``.keras`` or ``.skops`` model from mrcnn-train; None: the neighbour average of datasets encoded with
        ``--context K`` (NaN where a site has no observed neighbour).
    datasets : sequence of str
        Dataset NPZ files or shards; empty: genome mode (every CpG of *genome_path* in *selection*).
    genome_path : str, optional
        The genome FASTA: the CpGs to predict (genome mode), or where the windows of sites-only datasets are cut.
    output : str
        Predictions file (``-`` = stdout, ``.gz`` = gzip), in *output_format* (:data:`OUTPUT_FORMATS` of
        :mod:`mrcnn_tools.prediction.files`).
    bigwig : str, optional
        Also write the predictions as a bigWig.
    shard : (int, int), optional
        Part i of n (1-based) of the sites: contiguous and disjoint.
    selection : mrcnn_tools.genome.regions.Selection, optional
        Genome mode: chromosomes and regions.
    cgi : IntervalSet, optional
        Genome mode: CpG islands for the cgi column.
    chunk_size, batch_size : int
        Sites predicted and written at a time (memory); rows per model call of a k-mer model. Predictions are
        the same bit for bit whatever both are.

    Returns
    -------
    PredictResult

    Raises
    ------
    MrcnnError
        An empty dataset, no CpG in the selection, a model that does not fit the data.
    """

    if model_path is None and not datasets:
        raise UsageError(
            "--baseline neighbours predicts the sites of datasets with context (mrcnn-encode "
            "--context K); give them, or a model (-m) for genome mode"
        )
    meta = read_model_meta(model_path) if model_path else {"arch": registry.NEIGHBOUR_BASELINE}
    if datasets:
        data = load_datasets(list(datasets))
        if model_path:
            check_model_fits(meta, data.meta, data.window, model_path, datasets[0])
        if len(data) == 0:
            raise MrcnnError(f"{datasets[0]}: the dataset is empty; nothing to predict")
        if genome_path or registry.reads_sequence(meta.get("arch")):
            attach_genome(data, genome_path, datasets[0], cache_dir)
        extra = (["y_true", "coverage"] if np.isfinite(data.y).any() else []) + (
            ["cgi"] if (data.cgi >= 0).any() else []
        )
    else:
        genome = Genome(genome_path)
        selection = selection or Selection()
        extra = ["cgi"] if cgi is not None else []
    predictor = _predictor(model_path, data if datasets else None, datasets, batch_size, threads)
    with contextlib.ExitStack() as stack:
        bw_fh = bw_path = None
        if bigwig:
            bw_path = os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "pred.bedGraph")
            bw_fh = stack.enter_context(open(bw_path, "w"))
        writer = PredictionWriter(stack.enter_context(open_output(output)), output_format, extra, bw_fh)
        if datasets:
            total, chunks, sizes = _dataset_chunks(data, shard, bigwig is not None, chunk_size)
            bar = _bar(progress, total)
            _write_dataset(predictor, writer, chunks, bar)
        else:
            bar = _bar(progress, None)
            _write_genome(predictor, genome, writer, selection, cgi, keep_strands, chunk_size, shard, bar)
            sizes = genome.lengths()
        writer.close()
        if bar:
            bar.close()
        if writer.rows == 0 and not datasets:
            raise MrcnnError(
                "no CpG in the selected chromosomes/regions; check --region/--regions/--chroms "
                f"against the chromosome names of {genome_path}"
            )
        if bigwig:
            bw_fh.close()
            write_bigwig(bw_path, bigwig, sizes)
    return PredictResult(writer.rows, output, bigwig, shard)
