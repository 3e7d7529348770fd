"""Expected mrcnn-eval outputs (metrics.tsv, calibration.tsv) for golden/predictions.tsv, computed without
mrcnn-tools: the metrics by scikit-learn and SciPy, groups and calibration bins from the documented definitions
(README "mrcnn-eval", docs/FORMATS.md), bins decided on the decimal text of each prediction.

Usage: python make_golden.py [OUT_DIR]   (default: this directory). tests/commands/test_predict_eval.py runs it and
compares its outputs with the committed files, then mrcnn-eval's outputs with them, byte for byte.
"""

import math
import os
import sys
from decimal import Decimal

import numpy as np
from scipy import stats
from sklearn.metrics import (
    average_precision_score,
    matthews_corrcoef,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL = "predictions"  # mrcnn-eval's default label: the file name up to its first dot
CUTOFF = 0.5
COLUMNS = (
    "model",
    "group",
    "n",
    "rmse",
    "mae",
    "pearson",
    "spearman",
    "r2",
    "n_pos",
    "n_neg",
    "sensitivity",
    "specificity",
    "accuracy",
    "auc",
    "auprc",
    "mcc",
)
# the paper's groups by true level, in the order of the table
GROUPS = (
    ("all", lambda y: True),
    ("hyper", lambda y: y > 0.9),
    ("mid", lambda y: 0.4 <= y <= 0.6),
    ("hypo", lambda y: y < 0.1),
)


def cell(v):
    """10 significant digits, NA for an undefined value, integers as integers."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NA"
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def regression(y, p):
    n = len(y)
    out = {"n": n}
    if n == 0:
        return out
    out["rmse"] = math.sqrt(mean_squared_error(y, p))
    out["mae"] = mean_absolute_error(y, p)
    varied_y, varied_p = len(set(y)) > 1, len(set(p)) > 1
    if n >= 2 and varied_y and varied_p:
        out["pearson"] = stats.pearsonr(y, p)[0]
        out["spearman"] = stats.spearmanr(y, p)[0]
    if n >= 2 and varied_y:
        out["r2"] = r2_score(y, p)
    return out


def classification(y, p):
    truth = [v > CUTOFF for v in y]
    called = [v > CUTOFF for v in p]
    pos = sum(truth)
    neg = len(truth) - pos
    tp = sum(t and c for t, c in zip(truth, called))
    tn = sum(not t and not c for t, c in zip(truth, called))
    out = {"n_pos": pos, "n_neg": neg}
    if pos + neg:
        out["accuracy"] = (tp + tn) / (pos + neg)
    if pos:
        out["sensitivity"] = tp / pos
    if neg:
        out["specificity"] = tn / neg
    if pos and neg:
        out["auc"] = roc_auc_score(truth, p)
        out["auprc"] = average_precision_score(truth, p)
        out["mcc"] = matthews_corrcoef(truth, called)
    return out


def main(out_dir=HERE):
    sites = []  # (y, p, p as text, cgi) of the labelled sites
    with open(os.path.join(HERE, "predictions.tsv")) as fh:
        head = fh.readline().lstrip("#").rstrip("\n").split("\t")
        for line in fh:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            if r["y_true"] != "NA":
                sites.append((float(r["y_true"]), float(r["prediction"]), r["prediction"], int(r["cgi"])))
    rows = []
    for name, test in GROUPS:
        part = [s for s in sites if test(s[0])]
        row = {"model": LABEL, "group": name, **regression([s[0] for s in part], [s[1] for s in part])}
        if name == "all":
            row.update(classification([s[0] for s in part], [s[1] for s in part]))
        rows.append(row)
    for name, flag in (("cgi", 1), ("non-cgi", 0)):
        part = [s for s in sites if s[3] == flag]
        y, p = [s[0] for s in part], [s[1] for s in part]
        rows.append({"model": LABEL, "group": name, **regression(y, p), **classification(y, p)})
    with open(os.path.join(out_dir, "metrics.tsv"), "w") as fh:
        fh.write(
            f"## mrcnn-eval: {len(sites)} sites, cutoff {CUTOFF:g}; groups by true level: hyper > 0.9, "
            "mid 0.4-0.6, hypo < 0.1\n"
        )
        fh.write("#" + "\t".join(COLUMNS) + "\n")
        for row in rows:
            fh.write("\t".join(cell(row.get(c)) for c in COLUMNS) + "\n")
    # calibration: ten bins [k/10, (k+1)/10) of the prediction, the last one closed at 1
    with open(os.path.join(out_dir, "calibration.tsv"), "w") as fh:
        fh.write("#model\tbin\tlo\thi\tn\tmean_prediction\tmean_truth\n")
        for k in range(10):
            part = [s for s in sites if min(int(Decimal(s[2]) * 10), 9) == k]
            mean_p = float(np.mean([s[1] for s in part])) if part else None
            mean_y = float(np.mean([s[0] for s in part])) if part else None
            fh.write(
                "\t".join(
                    [LABEL, str(k + 1), cell(k / 10), cell((k + 1) / 10), str(len(part)), cell(mean_p), cell(mean_y)]
                )
                + "\n"
            )


if __name__ == "__main__":
    main(*sys.argv[1:])
