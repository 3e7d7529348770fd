"""Prediction: a model over windows in batches, clipped to [0, 1]; genome-wide in bounded memory."""

import logging

import numpy as np

from .encoding import N

log = logging.getLogger(__name__)

MIN_BATCH = 16  # a batch of one row takes another kernel path; padding keeps results batch-size independent


class Predictor:
    """Wrap a model from :func:`mrcnn_tools.models.load_model` for prediction on uint8 codes.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
    meta : dict
        The model's metadata (``arch``, ``flank``).
    batch_size : int
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

            # a compiled forward pass is ~2x faster than model.predict's per-call machinery
            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def _keras_batch(self, codes):
        n = len(codes)
        if n < MIN_BATCH:
            codes = np.concatenate([codes, np.full((MIN_BATCH - n, codes.shape[1]), N, np.uint8)])
        return self._fn(codes).numpy().reshape(-1)[:n]

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
            for i in range(0, len(seq), self.batch_size):
                out[i:i + self.batch_size] = self._keras_batch(seq[i:i + self.batch_size])
        else:
            from .baselines import features

            for i in range(0, len(seq), self.batch_size):
                out[i:i + self.batch_size] = self.model.predict(features(seq[i:i + self.batch_size], self.flank))
        return np.clip(out, 0.0, 1.0)
