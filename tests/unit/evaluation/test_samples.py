"""mrcnn-eval on predictions of several samples (the long TSV): metrics pooled over every entry and per sample,
against scikit-learn and SciPy on hand-written data; binary single-cell calls get their AUC."""

import json

import numpy as np
import pytest

from mrcnn_tools.errors import UsageError
from mrcnn_tools.evaluation.report import evaluate_files
from mrcnn_tools.prediction.files import read_predictions

HEADER = "#chrom\tstart\tend\tstrand\tsample\tprediction\ty_true\tcoverage\n"
# binary single-cell calls: (start, sample, prediction, y_true)
CELLS = [
    (10, "c1", 0.9, 1),
    (10, "c2", 0.2, 0),
    (20, "c1", 0.7, 1),
    (20, "c3", 0.6, 0),
    (30, "c2", 0.4, 1),
    (30, "c3", 0.1, 0),
    (40, "c1", 0.3, 0),
    (40, "c2", 0.8, 1),
    (50, "c3", 0.65, 1),
    (50, "c1", 0.35, 1),
    (60, "c2", 0.05, 0),
    (60, "c3", "NA", 0),  # a baseline without a prediction: left out
]


def _write(path, rows, header=HEADER):
    with open(path, "w") as fh:
        fh.write(header)
        for start, sample, p, y in rows:
            fh.write(f"19\t{start}\t{start + 1}\t+\t{sample}\t{p}\t{y}\t1\n")
    return path


def test_pooled_and_per_sample_metrics_equal_sklearn(tmp_path):
    from scipy import stats  # heavy: inside the test, as the house lints
    from sklearn.metrics import mean_squared_error, roc_auc_score

    path = _write(tmp_path / "cells.tsv", CELLS)
    report = evaluate_files([str(path)], str(tmp_path / "ev"), plots=False)
    assert report.samples == ["c1", "c2", "c3"] and report.unpredicted == 1
    rows = {(r["sample"], r["group"]): r for r in report.rows}
    kept = [r for r in CELLS if r[2] != "NA"]
    for name in ("pooled", "c1", "c2", "c3"):
        mine = [r for r in kept if name in ("pooled", r[1])]
        y = np.array([r[3] for r in mine], float)
        p = np.array([r[2] for r in mine], float)
        got = rows[(name, "all")]
        assert got["n"] == len(mine)
        assert got["auc"] == pytest.approx(roc_auc_score(y > 0.5, p), abs=1e-12)
        assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)), abs=1e-12)
        assert got["pearson"] == pytest.approx(stats.pearsonr(y, p)[0], abs=1e-12)
    # by hand: cell c1 has calls 1, 1, 0, 1 predicted 0.9, 0.7, 0.3, 0.35: every methylated call above the other
    assert rows[("c1", "all")]["auc"] == 1.0
    table = (tmp_path / "ev" / "metrics.tsv").read_text().splitlines()
    assert table[1].startswith("#model\tsample\tgroup\tn\t")
    assert [ln.split("\t")[1] for ln in table[2:] if ln.split("\t")[2] == "all"] == ["pooled", "c1", "c2", "c3"]
    saved = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert {m["sample"] for m in saved["metrics"]} == {"pooled", "c1", "c2", "c3"}


def test_files_are_aligned_on_site_and_sample(tmp_path):
    a = _write(tmp_path / "a.tsv", CELLS[:6])
    # the same entries in another order, one more, one fewer: compared on the entries both have
    b_rows = [(s, n, 0.5, y) for s, n, _, y in reversed(CELLS[1:8])]
    b = _write(tmp_path / "b.tsv", b_rows)
    report = evaluate_files([str(a), str(b)], str(tmp_path / "ev"), plots=False)
    assert report.shared == 5 and report.sites == 5
    first = {(r["model"], r["sample"]): r["n"] for r in report.rows if r["group"] == "all"}
    assert first[("a", "pooled")] == first[("b", "pooled")] == 5


def test_one_sample_and_several_are_not_compared(tmp_path):
    a = _write(tmp_path / "a.tsv", CELLS[:4])
    one = tmp_path / "one.tsv"
    one.write_text("#chrom\tstart\tend\tstrand\tprediction\ty_true\n19\t10\t11\t+\t0.5\t1\n")
    with pytest.raises(UsageError, match="one sample and of several"):
        evaluate_files([str(a), str(one)], str(tmp_path / "ev"), plots=False)


def test_a_sample_named_na_stays_a_name(tmp_path):
    path = _write(tmp_path / "na.tsv", [(10, "NA", 0.5, 1), (20, "NA", "NA", 0)])
    df = read_predictions(str(path))
    assert df["sample"].tolist() == ["NA", "NA"] and np.isnan(df["prediction"][1]) and np.isnan(df["y_true"][0]) == 0
