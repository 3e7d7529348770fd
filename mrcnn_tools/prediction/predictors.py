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
from mrcnn_tools.models.context import CONTEXT_INPUTS
from mrcnn_tools.models.context_inputs import model_inputs
from mrcnn_tools.models.precision import use_precision
from mrcnn_tools.prediction.samples import model_samples, neighbours_per_sample, to_model_order

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
    precision : {'float32', 'bf16'}
        What a Keras model computes in (:mod:`mrcnn_tools.models.precision`; checked against the CPU by the
        caller); bit-identical across splits within a precision.
    """

    def __init__(self, model, meta, batch_size=2048, precision="float32"):
        self.model = model
        self.meta = meta
        self.batch_size = batch_size
        self.precision = precision
        self.flank = int(meta["flank"])
        self.is_keras = meta.get("arch") != "kmer-gbr"
        self.outputs = len(model_samples(meta) or [None])  # S outputs for a model of S samples
        self._fn = None
        if self.is_keras:
            import tensorflow as tf  # heavy: only when a Keras model predicts

            # a compiled forward pass at one pinned shape (traced once): as fast as model.predict
            # (benchmarks/predict.py), and what makes predictions independent of how rows are split
            use_precision(precision)
            forward = strand_averaged(model) if meta.get("rc_augment") else (lambda x: model(x, training=False))
            self._fn = tf.function(forward, input_signature=[tf.TensorSpec((PREDICT_ROWS, 2 * self.flank), tf.uint8)])

    def _keras_block(self, codes):
        n = len(codes)
        if n < PREDICT_ROWS:
            codes = np.concatenate([codes, np.full((PREDICT_ROWS - n, codes.shape[1]), N, np.uint8)])
        use_precision(self.precision)  # a process-wide setting: this predictor's own, whatever ran before
        return self._fn(np.ascontiguousarray(codes, np.uint8)).numpy().reshape(PREDICT_ROWS, -1)[:n]

    def predict(self, seq):
        """Predicted levels for windows.

        Parameters
        ----------
        seq : numpy.ndarray, uint8, shape (n, 2*flank)

        Returns
        -------
        numpy.ndarray, float32, shape (n,), clipped to [0, 1]; (n, S) for a model of S samples (metadata
        ``samples``), in the model's order of samples
        """
        out = np.empty((len(seq), self.outputs), np.float32)
        if self.is_keras:
            for i in range(0, len(seq), PREDICT_ROWS):
                out[i : i + PREDICT_ROWS] = self._keras_block(seq[i : i + PREDICT_ROWS])
            out = out if self.outputs > 1 else out[:, 0]
        else:
            out = out[:, 0]
            for i in range(0, len(seq), self.batch_size):
                out[i : i + self.batch_size] = self.model.predict(features(seq[i : i + self.batch_size], self.flank))
        return np.clip(out, 0.0, 1.0)

    def predict_rows(self, data):
        """:meth:`RowPredictor.predict_rows`: the windows of *data* (stored, cut from its genome, or
        :class:`WindowRows`)."""
        return self.predict(data.windows())


class ContextPredictor:
    """Predict with a context model (or the neighbour average, *model* None) over a dataset's rows.

    On a dataset of S samples (context arrays (N, S, 2K)): the neighbour average of each sample's own
    neighbours; a model of several samples (metadata ``samples``) reads all of them at once and gives one output
    per sample; a one-sample model reads each sample's neighbours in turn, as if each were its own dataset.

    Parameters
    ----------
    model : keras.Model or None
        None: the distance-weighted neighbour average, no training (``mrcnn-predict --baseline neighbours``).
    meta : dict
        The model's metadata (``arch``, ``context``: {"k": K, ...}, ``samples``); for the baseline,
        ``{"arch": "neighbours"}``.
    columns : numpy.ndarray, int64 (S_model,), optional
        The dataset's column of each of the model's samples (-1: absent, fed as not observed), from
        :func:`mrcnn_tools.prediction.samples.match_samples`; None: the same samples in the same order.
    """

    def __init__(self, model, meta, columns=None):
        self.model, self.meta, self.columns = model, meta, columns
        self.samples = model_samples(meta)
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

    def _run(self, x):
        """The model on one block of at most :data:`PREDICT_ROWS` rows, padded to that one shape (missing
        neighbours, N windows): float32 (n, outputs)."""
        n = len(x["context_dist"])
        if n < PREDICT_ROWS:
            x = {
                key: np.concatenate([v, np.full((PREDICT_ROWS - n, *v.shape[1:]), N if key == "codes" else 0, v.dtype)])
                for key, v in x.items()
            }
        return np.asarray(self._fn(x)).reshape(PREDICT_ROWS, -1)[:n]

    def _each_sample(self, data, rows):
        """A one-sample model on each sample's own neighbours: float32 (n, S)."""
        s = data.n_samples
        out = np.empty((len(rows), s), np.float32)
        for a in range(0, len(rows), PREDICT_ROWS):
            part = rows[a : a + PREDICT_ROWS]
            x = model_inputs(data, part, self.with_codes)
            flat = {key: np.reshape(x[key], (len(part) * s, -1)) for key in CONTEXT_INPUTS}
            if self.with_codes:
                flat["codes"] = np.repeat(x["codes"], s, axis=0)
            pred = np.concatenate(
                [
                    self._run({key: v[b : b + PREDICT_ROWS] for key, v in flat.items()})
                    for b in range(0, len(part) * s, PREDICT_ROWS)
                ]
            )
            out[a : a + len(part)] = pred.reshape(len(part), s)
        return out

    def predict(self, data, index=None):
        """Predicted levels of the rows *index* (all when None) of a Dataset, clipped to [0, 1]: float32 (n,);
        (n, S) on a dataset of S samples (a model of several samples: its own samples, in its order).

        The baseline gives NaN for a site (or sample) without any observed neighbour.
        """
        rows = np.arange(len(data)) if index is None else np.asarray(index)
        several = getattr(data, "samples", None) is not None
        if self.model is None:
            level, dist = data.context_level[rows], data.context_dist[rows]
            average = neighbours_per_sample(level, dist) if several else neighbour_average(level, dist)
            return np.clip(average, 0.0, 1.0)
        if several and self.samples is None:
            return np.clip(self._each_sample(data, rows), 0.0, 1.0)
        out = np.empty((len(rows), len(self.samples or [None])), np.float32)
        for a in range(0, len(rows), PREDICT_ROWS):
            part = rows[a : a + PREDICT_ROWS]
            x = model_inputs(data, part, self.with_codes)
            if self.columns is not None:
                x = to_model_order(x, self.columns)
            out[a : a + len(part)] = self._run(x)
        return np.clip(out if self.samples else out[:, 0], 0.0, 1.0)


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
