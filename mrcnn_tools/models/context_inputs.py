"""Feeding context models: their inputs from a dataset's windows and context arrays, the tf.data pipeline of
training, and the settings a model file records. Prediction with them is
:class:`mrcnn_tools.prediction.predictors.ContextPredictor`."""

import numpy as np

from mrcnn_tools.data.neighbours import check_context
from mrcnn_tools.models.context import context_meta
from mrcnn_tools.models.inputs import batched_dataset, training_labels


def _base_rows(data):
    """(the Dataset, row indices into it or None) of a Dataset or a Rows view."""
    return getattr(data, "base", data), getattr(data, "index", None)


def model_inputs(data, rows, with_codes):
    """The inputs of a context model for the rows *rows* (indices into the base dataset *data*).

    Returns
    -------
    dict: ``codes`` uint8 (n, W) (when *with_codes*), ``context_level`` float32 (n, 2K) with missing
    neighbours as 0 (the model masks them by ``context_dist == 0``), ``context_dist`` int32,
    ``context_coverage`` int32. With S >= 2 samples the context arrays are (n, S, 2K) and two more inputs hold
    every sample's own entry at the site: ``sample_level`` float32 (n, S) (not observed: 0) and
    ``sample_coverage`` int32 (n, S) (0 = not observed; an observed entry without a count, as from a level-only
    format, counts as 1). The model masks entry s itself when it predicts sample s (leave-one-out).
    """
    x = {
        "context_level": np.nan_to_num(data.context_level[rows], nan=0.0),
        "context_dist": data.context_dist[rows].astype(np.int32, copy=False),
        "context_coverage": data.context_coverage[rows].astype(np.int32, copy=False),
    }
    if data.samples is not None:
        x["sample_level"], x["sample_coverage"] = sample_entries(data.y[rows], data.coverage[rows])
    if with_codes:
        source, _ = data.window_source()
        x["codes"] = source[rows] if isinstance(source, np.ndarray) else source.take(rows, data.flank)
    return x


def sample_entries(y, coverage):
    """(level float32 (n, S), NaN -> 0; coverage int32 (n, S): 0 where not observed, at least 1 where observed)."""
    observed = ~np.isnan(y)
    level = np.where(observed, y, 0.0).astype(np.float32)
    cov = np.where(observed, np.maximum(np.asarray(coverage, np.int64), 1), 0).astype(np.int32)
    return level, cov


def context_tf_dataset(data, batch_size, *, with_codes=True, binary=False, **kwargs):
    """A tf.data pipeline of ({inputs}, labels) batches over a Dataset or Rows view with context arrays.

    Batches are shuffled and gathered as for the windows alone (:func:`mrcnn_tools.models.inputs.batched_dataset`:
    epoch ``e`` shuffled by ``(seed, e)``, rows gathered by NumPy from the dataset's own arrays).

    Returns
    -------
    tf.data.Dataset of (dict of (b, ...) arrays as :func:`model_inputs`, float32 labels (b,), or (b, S, 2) with
    several samples (:func:`mrcnn_tools.models.inputs.training_labels`)), repeating
    """

    base, rows = _base_rows(data)
    shape = base.context_dist.shape[1:]  # (2K,), or (S, 2K) with several samples
    spec = {
        "context_level": (np.float32, shape),
        "context_dist": (np.int32, shape),
        "context_coverage": (np.int32, shape),
    }
    if base.samples is not None:
        spec["sample_level"] = (np.float32, shape[:1])
        spec["sample_coverage"] = (np.int32, shape[:1])
    if with_codes:
        spec["codes"] = (np.uint8, (base.window,))

    def gather(i):
        return model_inputs(base, i if rows is None else rows[i], with_codes)

    return batched_dataset(training_labels(data, binary), batch_size, gather, spec, **kwargs)


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
