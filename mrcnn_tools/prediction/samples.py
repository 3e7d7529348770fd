"""Prediction on datasets of several samples (docs/FORMATS.md §3, Predictions): the model's samples matched to the
dataset's by name, predictions of every (site, sample) as long rows, and the two baselines that need no training
(``--baseline neighbours`` per sample, ``--baseline samples``: the mean of the other samples at the CpG).

A dataset of S samples holds ``y`` float32 (N, S) (NaN = not observed) and, with ``--context K``, each sample's
own neighbours (N, S, 2K); a predictor over it returns float32 (n, S), column s the level of sample s.
"""

from dataclasses import dataclass

import numpy as np

from mrcnn_tools.data.neighbours import neighbour_average
from mrcnn_tools.errors import DatasetError, ModelError, UsageError

SAMPLE_AXIS_INPUTS = ("context_level", "context_dist", "context_coverage", "sample_level", "sample_coverage")


def samples_average(y):
    """The mean of the *other* samples' observed levels at each CpG: ``--baseline samples``.

    Parameters
    ----------
    y : numpy.ndarray, float (n, S)
        Levels, NaN where a sample was not observed.

    Returns
    -------
    numpy.ndarray, float32, shape (n, S): entry (i, s) is the mean of ``y[i, t]`` over the observed t != s (an
    entry never sees its own value); NaN where no other sample was observed at the CpG.
    """
    y = np.asarray(y, np.float64)
    seen = np.isfinite(y)
    own = np.where(seen, y, 0.0)
    total = own.sum(axis=1, keepdims=True) - own
    count = seen.sum(axis=1, keepdims=True) - seen
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


def neighbours_per_sample(level, dist):
    """The distance-weighted average of each sample's own observed neighbours: ``--baseline neighbours``.

    Parameters
    ----------
    level : float32 (n, S, 2K) neighbour levels (NaN where missing); dist : int32 (n, S, 2K) (0 = missing)

    Returns
    -------
    numpy.ndarray, float32, shape (n, S), as :func:`mrcnn_tools.data.neighbours.neighbour_average` per sample
    """
    n, s, k2 = dist.shape
    return neighbour_average(np.reshape(level, (n * s, k2)), np.reshape(dist, (n * s, k2))).reshape(n, s)


def model_samples(meta):
    """The sample names a model was trained on (its metadata ``samples``), or None for a one-sample model."""
    names = meta.get("samples")
    return None if not names else [str(s) for s in names]


def match_samples(model_names, data_names, model_path="model", data_path="dataset"):
    """The dataset's column of each of the model's samples, matched by name.

    Returns
    -------
    numpy.ndarray, int64 (S_model,): the dataset column of model sample j, -1 where the dataset lacks it (its
    inputs are then "not observed")

    Raises
    ------
    ModelError
        A dataset sample the model was not trained on (named, with the model's samples).
    """
    unknown = [s for s in data_names if s not in model_names]
    if unknown:
        listed = ", ".join(model_names[:8]) + (", ..." if len(model_names) > 8 else "")
        raise ModelError(
            f"{data_path}: sample(s) {', '.join(unknown[:5])} unknown to {model_path}, trained on {listed}; "
            "predict with a model trained on these samples, or encode only the model's samples (--sample-names)"
        )
    column = {name: i for i, name in enumerate(data_names)}
    return np.array([column.get(name, -1) for name in model_names], np.int64)


def to_model_order(x, columns):
    """Inputs with a sample axis (axis 1) reordered from the dataset's samples to the model's: column j of the
    result is the dataset's column ``columns[j]``, zeros (not observed, no neighbour) where that is -1."""
    out = {}
    for key, v in x.items():
        if key not in SAMPLE_AXIS_INPUTS:
            out[key] = v
            continue
        shape = (v.shape[0], len(columns), *v.shape[2:])
        out[key] = np.zeros(shape, v.dtype)
        have = columns >= 0
        out[key][:, have] = v[:, columns[have]]
    return out


def to_data_order(pred, columns, n_data):
    """Model outputs (n, S_model) as the dataset's columns (n, S_data) (*columns* from :func:`match_samples`)."""
    out = np.full((len(pred), n_data), np.nan, np.float32)
    have = columns >= 0
    out[:, columns[have]] = pred[:, have]
    return out


class SamplesBaseline:
    """``--baseline samples``: a :class:`~mrcnn_tools.prediction.predictors.RowPredictor` giving each (site,
    sample) the mean of the other samples' observed levels at the CpG (:func:`samples_average`)."""

    def __init__(self, data, path="dataset"):
        if data.samples is None:
            raise DatasetError(
                f"{path}: --baseline samples needs a dataset of several samples (mrcnn-encode --calls A --calls B "
                "...); for one sample use --baseline neighbours"
            )

    def predict_rows(self, data):
        """float32 (n, S), NaN where no other sample was observed."""
        return np.clip(samples_average(data.y), 0.0, 1.0)


class SampleColumns:
    """A predictor's outputs as the dataset's samples: (n, S_data) whatever the predictor returns.

    One output (a one-sample sequence model on a dataset of several samples): the same value for every sample.
    Several outputs: the model's samples matched to the dataset's by name (:func:`match_samples`).
    """

    def __init__(self, predictor, data, columns=None):
        self.predictor, self.columns, self.n = predictor, columns, data.n_samples
        self.one = data.samples is None
        self.flank = getattr(predictor, "flank", None)

    def predict_rows(self, data):
        """float32 (n, S) in the dataset's order of samples; (n,) on a one-sample dataset."""
        pred = np.asarray(self.predictor.predict_rows(data))
        if pred.ndim == 1:
            return pred if self.one else np.repeat(pred[:, None], self.n, axis=1)
        if self.columns is not None:
            pred = to_data_order(pred, self.columns, self.n)
        return pred[:, 0] if self.one else pred


def for_samples(predictor, meta, data, model_path, data_path):
    """*predictor* with its outputs as the dataset's samples: (n, S) on a dataset of several samples; on a
    one-sample dataset, a model of several samples gives the column of the dataset's sample (by name).

    A context model of several samples is fed its samples in its own order (its ``columns``): a sample of the
    model the dataset lacks is fed as not observed.

    Raises
    ------
    ModelError
        A dataset sample unknown to a model of several samples; a one-sample dataset for a context model of
        several samples.
    """
    names = model_samples(meta)
    if names is None:
        return predictor if data.samples is None else SampleColumns(predictor, data)
    if data.samples is None and hasattr(predictor, "columns"):
        raise ModelError(
            f"{model_path} imputes {len(names)} samples from each other; {data_path} holds one sample: encode "
            "the samples together (mrcnn-encode --calls A --calls B ... --sample-names ...)"
        )
    columns = match_samples(names, data.sample_names, model_path, data_path)
    if hasattr(predictor, "columns") and not np.array_equal(columns, np.arange(len(columns))):
        predictor.columns = columns  # inputs in the model's order
    return SampleColumns(predictor, data, columns)


@dataclass
class LongRows:
    """One row per (site, sample) of a chunk: ``site`` int64 (m,) rows of the chunk, ``sample`` int64 (m,)
    columns, and the values of each: ``prediction`` float32, ``y`` float32 (NaN = not observed), ``coverage``
    int32 (m,)."""

    site: np.ndarray
    sample: np.ndarray
    prediction: np.ndarray
    y: np.ndarray
    coverage: np.ndarray


def long_rows(y, coverage, pred, impute_missing=False):
    """The (site, sample) entries of a chunk to write, site by site and in each site the samples in order.

    Parameters
    ----------
    y : float (n, S) levels (NaN = not observed); coverage : int (n, S); pred : float32 (n, S)
    impute_missing : bool
        Also the entries not observed (``y`` NaN), whose coverage is written as 0.

    Returns
    -------
    LongRows
    """
    y = np.asarray(y, np.float32)
    keep = np.ones(y.shape, bool) if impute_missing else np.isfinite(y)
    site, sample = np.nonzero(keep)  # row-major: site by site, samples in the dataset's order
    cov = np.where(np.isfinite(y), np.asarray(coverage), 0).astype(np.int32)
    return LongRows(site, sample, np.asarray(pred, np.float32)[keep], y[keep], cov[keep])


def check_sample_options(data, options, bigwig, out_dir):
    """Refuse what needs one file per sample without ``--out-dir``.

    Raises
    ------
    UsageError
    """
    if data.samples is None:
        return
    if options.output_format == "bedgraph" and not out_dir:
        raise UsageError(
            f"{data.n_samples} samples: a bedGraph holds one sample; give --out-dir DIR for one SAMPLE.bedGraph "
            "per sample (or --output-format tsv for the long table)"
        )
    if bigwig:
        raise UsageError(f"{data.n_samples} samples: give --out-dir DIR for one SAMPLE.bw per sample, not --bigwig")
