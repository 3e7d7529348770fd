"""Prediction: a model over windows in batches, clipped to [0, 1]; genome-wide in bounded memory."""

import logging

import numpy as np

from .encoding import N

log = logging.getLogger(__name__)

# Keras models always see batches of exactly this many rows, the last one padded with N windows. Kernels pick
# their code path (blocking, vector width, threading) by shape, so a row's prediction may change in the last bit
# with the batch it travels in; at one fixed shape it depends on the row alone, whatever --batch-size,
# --chunk-size, --shard or NPZ vs genome mode cut the sites into.
PREDICT_ROWS = 1024


class Predictor:
    """Wrap a model from :func:`mrcnn_tools.models.load_model` for prediction on uint8 codes.

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
            self._fn = tf.function(lambda x: model(x, training=False),
                                   input_signature=[tf.TensorSpec((PREDICT_ROWS, 2 * self.flank), tf.uint8)])

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
                out[i:i + PREDICT_ROWS] = self._keras_block(seq[i:i + PREDICT_ROWS])
        else:
            from .baselines import features

            for i in range(0, len(seq), self.batch_size):
                out[i:i + self.batch_size] = self.model.predict(features(seq[i:i + self.batch_size], self.flank))
        return np.clip(out, 0.0, 1.0)


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
    from .sites import cpg_sites

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
            yield name, pos[i:i + chunk_size], strand[i:i + chunk_size]
