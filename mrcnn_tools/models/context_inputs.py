"""Feeding context models: the tf.data pipeline and prediction over a dataset's windows and context arrays."""

import numpy as np

from mrcnn_tools.data.neighbours import check_context, neighbour_average
from mrcnn_tools.errors import UsageError
from mrcnn_tools.models.context import context_meta
from mrcnn_tools.models.inputs import batched_dataset

PREDICT_ROWS = (
    1024  # as mrcnn_tools.prediction.predict: one fixed shape, so a row's prediction never depends on its batch
)


def _base_rows(data):
    """(the Dataset, row indices into it or None) of a Dataset or a Rows view."""
    return getattr(data, "base", data), getattr(data, "index", None)


def model_inputs(data, rows, with_codes):
    """The inputs of a context model for the rows *rows* (indices into the base dataset *data*).

    Returns
    -------
    dict: ``codes`` uint8 (n, W) (when *with_codes*), ``context_level`` float32 (n, 2K) with missing
    neighbours as 0 (the model masks them by ``context_dist == 0``), ``context_dist`` int32,
    ``context_coverage`` int32
    """
    x = {
        "context_level": np.nan_to_num(data.context_level[rows], nan=0.0),
        "context_dist": data.context_dist[rows].astype(np.int32, copy=False),
        "context_coverage": data.context_coverage[rows].astype(np.int32, copy=False),
    }
    if with_codes:
        source, _ = data.window_source()
        x["codes"] = source[rows] if isinstance(source, np.ndarray) else source.take(rows, data.flank)
    return x


def context_tf_dataset(data, batch_size, *, with_codes=True, **kwargs):
    """A tf.data pipeline of ({inputs}, labels) batches over a Dataset or Rows view with context arrays.

    Batches are shuffled and gathered as for the windows alone (:func:`mrcnn_tools.models.inputs.batched_dataset`:
    epoch ``e`` shuffled by ``(seed, e)``, rows gathered by NumPy from the dataset's own arrays).

    Returns
    -------
    tf.data.Dataset of (dict of (b, ...) arrays as :func:`model_inputs`, float32 (b,)), repeating
    """

    base, rows = _base_rows(data)
    k2 = base.context_dist.shape[1]
    spec = {
        "context_level": (np.float32, (k2,)),
        "context_dist": (np.int32, (k2,)),
        "context_coverage": (np.int32, (k2,)),
    }
    if with_codes:
        spec["codes"] = (np.uint8, (base.window,))

    def gather(i):
        return model_inputs(base, i if rows is None else rows[i], with_codes)

    return batched_dataset(data.y, batch_size, gather, spec, **kwargs)


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
            import tensorflow as tf

            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def check(self, data, path="dataset"):
        """Refuse a dataset without the context arrays (or of another K) the model was trained with; the
        neighbour average takes any K."""
        check_context(data, int(self.meta["context"]["k"]) if self.model is not None else None, path)

    def predict_rows(self, data):
        """Predicted levels of every site of *data* (the interface
        :func:`mrcnn_tools.prediction.predict.predict_to_files`
        drives); see :meth:`predict`."""
        return self.predict(data)

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
                            else np.full((PREDICT_ROWS - n, v.shape[1]), 4, v.dtype),
                        ]
                    )
                    for key, v in x.items()
                }
            out[a : a + n] = np.asarray(self._fn(x)).reshape(-1)[:n]
        return np.clip(out, 0.0, 1.0)


def context_settings(kwargs, data, val=None, path="dataset", val_path="validation"):
    """A context architecture's K, taken from the training data (checked), and what its model file records.

    Parameters
    ----------
    arch : str
    kwargs : dict
        The builder's hyper-parameters (e.g. ``context_dropout``).
    data, val : Dataset or Rows
        Training and validation sites; both must hold the context arrays, of one K.

    Returns
    -------
    (kwargs with ``k``, dict to add to the model's metadata: ``{"context": ...}``); for any other architecture
    (*kwargs*, {})

    Raises
    ------
    DatasetError
        Data without context arrays, or validation data of another K.
    """

    check_context(data, None, path)
    k = data.context_k
    if val is not None:
        check_context(val, k, val_path)
    return dict(kwargs, k=k), {"context": context_meta(k, kwargs.get("context_dropout", 0.0))}


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
