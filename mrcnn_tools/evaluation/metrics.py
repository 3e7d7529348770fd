"""The paper's evaluation: regression errors by methylation group, classification at a cutoff, calibration."""

import logging
import math
import warnings

import numpy as np

from mrcnn_tools.levels import LEVELS

log = logging.getLogger(__name__)

# (name, test on the true level), the paper's order: all, hyper, mid, hypo (levels.py holds the thresholds)
REGRESSION_GROUPS = (("all", lambda y: np.ones(len(y), bool)), *((lv.name, lv.mask) for lv in reversed(LEVELS)))
NAN = float("nan")


def regression_metrics(y, p):
    """RMSE, MAE, Pearson r, Spearman rho, R^2 of predictions *p* against truth *y*; NaN where undefined.

    Parameters
    ----------
    y, p : numpy.ndarray, float (n,)

    Returns
    -------
    dict with n, rmse, mae, pearson, spearman, r2
    """
    from scipy import stats

    n = len(y)
    out = {"n": int(n), "rmse": NAN, "mae": NAN, "pearson": NAN, "spearman": NAN, "r2": NAN}
    if n == 0:
        return out
    err = np.asarray(p, np.float64) - np.asarray(y, np.float64)
    out["rmse"] = float(math.sqrt(np.mean(err**2)))
    out["mae"] = float(np.mean(np.abs(err)))
    if n >= 2 and np.ptp(y) > 0 and np.ptp(p) > 0:
        out["pearson"] = float(stats.pearsonr(y, p)[0])
        out["spearman"] = float(stats.spearmanr(y, p)[0])
    if n >= 2 and np.ptp(y) > 0:
        out["r2"] = float(1 - np.sum(err**2) / np.sum((y - np.mean(y)) ** 2))
    return out


def classification_metrics(y, p, cutoff=0.5, label="", group=""):
    """Sensitivity, specificity, accuracy, ROC AUC, AUPRC and MCC with methylated = level > *cutoff*.

    A single class gives NaN for the metrics that need both (AUC, AUPRC, MCC, and SE or SP), with a warning.
    """
    from sklearn.metrics import average_precision_score, matthews_corrcoef, roc_auc_score

    truth = np.asarray(y) > cutoff
    called = np.asarray(p) > cutoff
    pos, neg = int(truth.sum()), int((~truth).sum())
    out = {
        "n_pos": pos,
        "n_neg": neg,
        "sensitivity": NAN,
        "specificity": NAN,
        "accuracy": NAN,
        "auc": NAN,
        "auprc": NAN,
        "mcc": NAN,
    }
    if pos + neg == 0:
        return out
    tp = int((truth & called).sum())
    tn = int((~truth & ~called).sum())
    out["accuracy"] = (tp + tn) / (pos + neg)
    if pos:
        out["sensitivity"] = tp / pos
    if neg:
        out["specificity"] = tn / neg
    if pos and neg:
        out["auc"] = float(roc_auc_score(truth, p))
        out["auprc"] = float(average_precision_score(truth, p))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["mcc"] = float(matthews_corrcoef(truth, called))
    else:
        log.warning(
            "warning: %s%s: only one class at cutoff %g (%d methylated, %d not): AUC, AUPRC and MCC "
            "are undefined (NaN)",
            label,
            f" {group}" if group else "",
            cutoff,
            pos,
            neg,
        )
    return out


def calibration(y, p, bins=10):
    """Mean prediction and mean truth in *bins* equal-width bins of the prediction.

    Returns
    -------
    list of dict(bin, lo, hi, n, mean_prediction, mean_truth)
    """
    # k / bins, not linspace's k * (1 / bins): 0.3 must be the edge 0.3, not 0.30000000000000004
    edges = np.arange(bins + 1) / bins
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        rows.append(
            {
                "bin": b + 1,
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "n": int(m.sum()),
                "mean_prediction": float(np.mean(p[m])) if m.any() else NAN,
                "mean_truth": float(np.mean(y[m])) if m.any() else NAN,
            }
        )
    return rows


def evaluate(y, p, cgi=None, cutoff=0.5, label="model", sample=None):
    """All metrics of one model, one row per group.

    Parameters
    ----------
    y, p : numpy.ndarray (n,) truth and prediction
    cgi : numpy.ndarray int8 (n,), optional, 1 island / 0 not / -1 unknown
    sample : str, optional
        The sample the entries are of (predictions of several samples), recorded in each row as ``sample``.

    Returns
    -------
    list of dict rows: model, (sample,) group, then regression and classification metrics
    """
    y = np.asarray(y, np.float64)
    p = np.asarray(p, np.float64)
    rows = []
    who = label if sample is None else f"{label} {sample}"  # names the warnings of one sample
    first = {"model": label} if sample is None else {"model": label, "sample": sample}
    for name, test in REGRESSION_GROUPS:
        m = test(y)
        row = {**first, "group": name, **regression_metrics(y[m], p[m])}
        if name == "all":
            row.update(classification_metrics(y, p, cutoff, who, "all"))
        rows.append(row)
    if cgi is not None and (np.asarray(cgi) >= 0).any():
        for name, value in (("cgi", 1), ("non-cgi", 0)):
            m = np.asarray(cgi) == value
            rows.append(
                {
                    **first,
                    "group": name,
                    **regression_metrics(y[m], p[m]),
                    **classification_metrics(y[m], p[m], cutoff, who, name),
                }
            )
    return rows
