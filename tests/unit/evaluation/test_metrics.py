"""The paper's metrics against hand-worked values and naive references (pair counting, textbook formulas)."""

import math

import numpy as np
import pytest

from mrcnn_tools.evaluation.metrics import calibration, classification_metrics, evaluate, regression_metrics


def naive_auc(truth, score):
    """Probability that a positive outscores a negative, ties counting one half: every pair enumerated."""
    pos = [s for t, s in zip(truth, score) if t]
    neg = [s for t, s in zip(truth, score) if not t]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_regression_by_hand():
    y = np.array([0.0, 0.5, 1.0, 1.0])
    p = np.array([0.1, 0.5, 0.7, 1.0])
    got = regression_metrics(y, p)
    # errors 0.1, 0, -0.3, 0: squares sum 0.10
    assert got["n"] == 4
    assert got["rmse"] == pytest.approx(math.sqrt(0.10 / 4))
    assert got["mae"] == pytest.approx(0.4 / 4)
    # R^2 = 1 - 0.10 / sum((y - 0.625)^2) = 1 - 0.10 / 0.6875
    assert got["r2"] == pytest.approx(1 - 0.10 / 0.6875)
    my, mp = y.mean(), p.mean()
    pearson = np.sum((y - my) * (p - mp)) / math.sqrt(np.sum((y - my) ** 2) * np.sum((p - mp) ** 2))
    assert got["pearson"] == pytest.approx(pearson)
    # ranks of y (ties averaged): 1, 2, 3.5, 3.5; of p: 1, 2, 3, 4
    ry, rp = np.array([1, 2, 3.5, 3.5]), np.array([1, 2, 3, 4.0])
    spearman = np.sum((ry - ry.mean()) * (rp - rp.mean())) / math.sqrt(
        np.sum((ry - ry.mean()) ** 2) * np.sum((rp - rp.mean()) ** 2)
    )
    assert got["spearman"] == pytest.approx(spearman)


def test_regression_undefined_is_nan():
    got = regression_metrics(np.array([]), np.array([]))
    assert got["n"] == 0 and math.isnan(got["rmse"])
    got = regression_metrics(np.array([0.5, 0.5]), np.array([0.2, 0.9]))
    assert math.isnan(got["pearson"]) and math.isnan(got["r2"]) and got["mae"] == pytest.approx((0.3 + 0.4) / 2)


def test_classification_by_hand_and_auc_by_pairs():
    y = np.array([0.9, 0.8, 0.2, 0.1, 0.6, 0.3])
    p = np.array([0.7, 0.4, 0.6, 0.1, 0.9, 0.3])
    got = classification_metrics(y, p, cutoff=0.5)
    # truth methylated: 1 1 0 0 1 0; called: 1 0 1 0 1 0 -> TP 2, FN 1, FP 1, TN 2
    assert (got["n_pos"], got["n_neg"]) == (3, 3)
    assert got["sensitivity"] == pytest.approx(2 / 3) and got["specificity"] == pytest.approx(2 / 3)
    assert got["accuracy"] == pytest.approx(4 / 6)
    assert got["auc"] == pytest.approx(naive_auc(y > 0.5, p))
    # MCC = (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (4 - 1) / 9
    assert got["mcc"] == pytest.approx(3 / 9)


def test_one_class_gives_nan_auc():
    got = classification_metrics(np.array([0.9, 0.95]), np.array([0.2, 0.8]))
    assert math.isnan(got["auc"]) and got["sensitivity"] == 0.5 and math.isnan(got["specificity"])


def test_calibration_bins_by_hand():
    rows = calibration(np.array([0.0, 1.0, 1.0]), np.array([0.05, 0.55, 1.0]), bins=2)
    assert [(r["lo"], r["hi"], r["n"]) for r in rows] == [(0.0, 0.5, 1), (0.5, 1.0, 2)]
    assert rows[1]["mean_prediction"] == pytest.approx(0.775) and rows[1]["mean_truth"] == 1.0


def test_evaluate_groups_and_cgi_rows():
    y = np.array([0.05, 0.5, 0.95, 0.95])
    p = np.array([0.15, 0.5, 0.75, 0.95])
    rows = evaluate(y, p, cgi=np.array([1, 1, 0, -1], np.int8), label="m")
    by = {r["group"]: r for r in rows}
    assert list(by) == ["all", "hyper", "mid", "hypo", "cgi", "non-cgi"]
    assert (by["hyper"]["n"], by["mid"]["n"], by["hypo"]["n"]) == (2, 1, 1)
    assert by["hyper"]["rmse"] == pytest.approx(math.sqrt(0.2**2 / 2))
    assert by["hypo"]["mae"] == pytest.approx(0.1)
    assert (by["cgi"]["n"], by["non-cgi"]["n"]) == (2, 1)
    assert "auc" in by["all"] and "auc" not in by["hyper"]


def test_calibration_edges_are_exact_tenths():
    # 0.3, 0.6 and 0.7 open their bins (bins are [lo, hi)); linspace's 0.30000000000000004 put 0.3 one bin low
    p = np.array([0.3, 0.6, 0.7])
    rows = calibration(np.zeros(3), p, bins=10)
    assert [r["n"] for r in rows] == [0, 0, 0, 1, 0, 0, 1, 1, 0, 0]
    assert rows[3]["lo"] == 0.3
