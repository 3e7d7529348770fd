"""What predicts: one protocol, :class:`RowPredictor`, for every kind of model mrcnn-predict drives.

- :class:`Predictor`: a model over the sequence windows alone (``mrcnn``, ``simple-cnn``, ``kmer-gbr``);
- :class:`ContextPredictor`: a model over observed neighbours (``mrcnn-context``, ``context-only``), or without
  a model the distance-weighted average of the neighbours (``--baseline neighbours``).

The model side of the neighbour models (which arrays they read, how they are fed in training) stays in
:mod:`mrcnn_tools.models.context_inputs`; here is only how a loaded model turns rows into predictions.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from mrcnn_tools.data.neighbours import check_context, neighbour_average
from mrcnn_tools.data.strand import strand_averaged
from mrcnn_tools.encoding import N
from mrcnn_tools.errors import UsageError
from mrcnn_tools.models.baselines import features
from mrcnn_tools.models.context_inputs import model_inputs

# Keras models always see batches of exactly this many rows, the last one padded (N windows, missing neighbours).
# Kernels pick their code path (blocking, vector width, threading) by shape, so a row's prediction may change in
# the last bit with the batch it travels in; at one fixed shape it depends on the row alone, whatever
# --batch-size, --chunk-size, --shard or NPZ vs genome mode cut the sites into. The one home of this number.
PREDICT_ROWS = 1024


@runtime_checkable
class RowPredictor(Protocol):
    """The interface :func:`mrcnn_tools.prediction.predict.predict_to_files` drives, whatever a model reads."""

    def predict_rows(self, data) -> np.ndarray:
        """Predicted levels of every row of *data*: float32 (n,), clipped to [0, 1] (NaN: no prediction).

        *data* is a :class:`~mrcnn_tools.data.dataset.Dataset`, a :class:`~mrcnn_tools.data.dataset.Rows` view,
        or (genome mode) :class:`WindowRows`: whatever holds the inputs the model reads (``windows()`` for
        sequence models, the context arrays for neighbour models). The prediction of a row depends on that row
        alone, not on the rows it is predicted with.
        """
        ...


@dataclass
class WindowRows:
    """Rows known by their windows alone (genome mode): what a sequence model reads.

    Attributes
    ----------
    codes : numpy.ndarray, uint8 (n, W)
    """

    codes: np.ndarray

    def __len__(self):
        return len(self.codes)

    def windows(self, index=None):
        return self.codes if index is None else self.codes[index]


class Predictor:
    """Wrap a sequence model from :func:`mrcnn_tools.models.files.load_model` for prediction on uint8 codes.

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
            import tensorflow as tf  # heavy: only when a Keras model predicts

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
        """:meth:`RowPredictor.predict_rows`: the windows of *data* (stored, cut from its genome, or
        :class:`WindowRows`)."""
        return self.predict(data.windows())


class ContextPredictor:
    """Predict with a context model (or the neighbour average, *model* None) over a dataset's rows.

    Parameters
    ----------
    model : keras.Model or None
        None: the distance-weighted neighbour average, no training (``mrcnn-predict --baseline neighbours``).
    meta : dict
        The model's metadata (``arch``, ``context``: {"k": K, ...}); for the baseline, ``{"arch": "neighbours"}``.
    """

    def __init__(self, model, meta):
        self.model, self.meta = model, meta
        self.with_codes = meta.get("arch") == "mrcnn-context"
        self._fn = None
        if model is not None:
            import tensorflow as tf  # heavy: only when a Keras model predicts

            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def check(self, data, path="dataset"):
        """Refuse a dataset without the context arrays (or of another K) the model was trained with; the
        neighbour average takes any K."""
        check_context(data, int(self.meta["context"]["k"]) if self.model is not None else None, path)

    def predict_rows(self, data):
        """:meth:`RowPredictor.predict_rows`: the context arrays (and windows) of a Dataset or Rows view."""
        base, index = getattr(data, "base", data), getattr(data, "index", None)
        return self.predict(base, index)

    def predict(self, data, index=None):
        """Predicted levels of the rows *index* (all when None) of a Dataset: float32 (n,), clipped to [0, 1].

        The baseline gives NaN for a site without any observed neighbour.
        """
        rows = np.arange(len(data)) if index is None else np.asarray(index)
        if self.model is None:
            return np.clip(neighbour_average(data.context_level[rows], data.context_dist[rows]), 0.0, 1.0)
        out = np.empty(len(rows), np.float32)
        for a in range(0, len(rows), PREDICT_ROWS):
            part = rows[a : a + PREDICT_ROWS]
            x = model_inputs(data, part, self.with_codes)
            n = len(part)
            if n < PREDICT_ROWS:  # padded to the one shape: missing neighbours, N windows
                x = {
                    key: np.concatenate(
                        [
                            v,
                            np.zeros((PREDICT_ROWS - n, v.shape[1]), v.dtype)
                            if key != "codes"
                            else np.full((PREDICT_ROWS - n, v.shape[1]), N, v.dtype),
                        ]
                    )
                    for key, v in x.items()
                }
            out[a : a + n] = np.asarray(self._fn(x)).reshape(-1)[:n]
        return np.clip(out, 0.0, 1.0)


def context_predictor(model, meta, data, path, genome_mode=False):
    """The predictor of a context model (or of the neighbour average, *model* None), checked against the data.

    Raises
    ------
    UsageError
        Genome mode: a context model needs the observed neighbours of a dataset.
    DatasetError
        A dataset without the context arrays the model was trained with.
    """
    if genome_mode:
        raise UsageError(
            f"a {meta.get('arch')} model imputes from observed neighbours, which genome mode does not "
            "have: encode the CpGs with mrcnn-encode --all-cpgs --calls FILE --context "
            f"{meta.get('context', {}).get('k', 'K')} and predict that dataset"
        )
    predictor = ContextPredictor(model, meta)
    predictor.check(data, path)
    return predictor
