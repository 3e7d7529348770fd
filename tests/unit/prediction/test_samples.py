"""Prediction on datasets of several samples (prediction/samples.py): the baselines against hand-computed values and
naive loops, the long rows against a naive loop, the model's samples matched to the dataset's by name."""

import math

import numpy as np
import pytest
from cohort_data import tiny_cohort

from mrcnn_tools.data.neighbours import neighbour_average
from mrcnn_tools.errors import DatasetError, ModelError
from mrcnn_tools.prediction.predictors import ContextPredictor
from mrcnn_tools.prediction.samples import (
    SampleColumns,
    SamplesBaseline,
    for_samples,
    long_rows,
    match_samples,
    neighbours_per_sample,
    samples_average,
    to_data_order,
    to_model_order,
)

NAN = float("nan")


def test_samples_average_by_hand():
    y = np.array([[0.2, NAN, 0.6], [NAN, NAN, 1.0], [0.0, 1.0, NAN], [NAN, NAN, NAN]], np.float32)
    got = samples_average(y)
    want = np.array(
        [
            [0.6, (0.2 + 0.6) / 2, 0.2],  # an unobserved entry gets the mean of all observed ones
            [1.0, 1.0, NAN],  # the only observed sample sees no other
            [1.0, 0.0, 0.5],
            [NAN, NAN, NAN],
        ],
        np.float32,
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.dtype == np.float32 and np.array_equal(np.isnan(got), np.isnan(want))


def test_samples_average_against_a_naive_loop():
    y = tiny_cohort(n=25, names=("a", "b", "c", "d"), seed=3, observed=0.5).y
    got = samples_average(y)
    for i in range(y.shape[0]):
        for s in range(y.shape[1]):
            others = [float(y[i, t]) for t in range(y.shape[1]) if t != s and not math.isnan(y[i, t])]
            if others:
                assert got[i, s] == pytest.approx(sum(others) / len(others), rel=1e-6)
            else:
                assert math.isnan(got[i, s])


def test_neighbours_per_sample_is_each_samples_own_average():
    data = tiny_cohort(n=20, k=2, seed=4)
    got = neighbours_per_sample(data.context_level, data.context_dist)
    assert got.shape == (20, 3) and got.dtype == np.float32
    for s in range(3):
        np.testing.assert_array_equal(got[:, s], neighbour_average(data.context_level[:, s], data.context_dist[:, s]))
    # by hand: site 0 of sample 0, weights 1 / (1 + |d|)
    lv, d = data.context_level[5, 0], data.context_dist[5, 0]
    w = [1 / (1 + abs(int(x))) for x in d if x != 0]
    v = [float(a) for a, x in zip(lv, d) if x != 0]
    assert got[5, 0] == pytest.approx(sum(a * b for a, b in zip(w, v)) / sum(w), rel=1e-6)


def test_the_baseline_never_sees_the_entry_itself():
    data = tiny_cohort(n=15, seed=5)
    before = SamplesBaseline(data).predict_rows(data)
    changed = data.subset(np.arange(15))
    changed.y[3, 1] = 1.0 - np.nan_to_num(changed.y[3, 1])  # entry (3, b) changes: its own prediction does not
    after = SamplesBaseline(changed).predict_rows(changed)
    assert after[3, 1] == before[3, 1] or (math.isnan(after[3, 1]) and math.isnan(before[3, 1]))
    assert not np.array_equal(after[3, [0, 2]], before[3, [0, 2]])


def test_samples_baseline_needs_several_samples():
    one = tiny_cohort(n=5)
    one.samples, one.y, one.coverage = None, one.y[:, 0], one.coverage[:, 0]
    with pytest.raises(DatasetError, match="several samples.*--baseline neighbours"):
        SamplesBaseline(one, "one.npz")


def naive_long(y, coverage, pred, impute):
    rows = []
    for i in range(y.shape[0]):
        for s in range(y.shape[1]):
            seen = not math.isnan(y[i, s])
            if seen or impute:
                rows.append((i, s, float(pred[i, s]), float(y[i, s]) if seen else None, int(coverage[i, s]) * seen))
    return rows


@pytest.mark.parametrize("impute", [False, True])
def test_long_rows_against_a_naive_loop(impute):
    data = tiny_cohort(n=12, names=("a", "b", "c", "d"), seed=6, observed=0.5)
    pred = np.random.default_rng(0).random(data.y.shape).astype(np.float32)
    r = long_rows(data.y, data.coverage, pred, impute)
    got = [
        (int(i), int(s), float(p), None if math.isnan(y) else float(y), int(c))
        for i, s, p, y, c in zip(r.site, r.sample, r.prediction, r.y, r.coverage)
    ]
    assert got == naive_long(data.y, data.coverage, pred, impute)
    assert len(got) == (data.y.size if impute else int(np.isfinite(data.y).sum()))


def test_match_samples_by_name():
    np.testing.assert_array_equal(match_samples(["c", "a", "z", "b"], ["a", "b", "c"]), [2, 0, -1, 1])
    with pytest.raises(ModelError, match=r"d\.npz: sample\(s\) x unknown to m\.keras, trained on a, b"):
        match_samples(["a", "b"], ["a", "x"], "m.keras", "d.npz")


def test_inputs_to_model_order_and_outputs_back():
    columns = np.array([2, -1, 0])  # model samples: the dataset's third, one it lacks, its first
    x = {
        "context_level": np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4),
        "sample_coverage": np.array([[1, 2, 3], [4, 5, 6]], np.int32),
        "codes": np.ones((2, 8), np.uint8),
    }
    m = to_model_order(x, columns)
    np.testing.assert_array_equal(m["sample_coverage"], [[3, 0, 1], [6, 0, 4]])
    np.testing.assert_array_equal(m["context_level"][:, 0], x["context_level"][:, 2])
    assert not m["context_level"][:, 1].any() and m["codes"] is x["codes"]
    back = to_data_order(np.array([[0.3, 0.9, 0.1]], np.float32), columns, 3)
    np.testing.assert_array_equal(back, np.array([[0.1, NAN, 0.3]], np.float32))


class _Fixed:
    """A predictor giving known outputs: one column per model sample, or one value a row."""

    def __init__(self, out):
        self.out = out

    def predict_rows(self, data):
        return self.out[: len(data)]


def test_one_output_model_predicts_the_same_value_for_every_sample():
    data = tiny_cohort(n=4)
    p = for_samples(_Fixed(np.array([0.1, 0.2, 0.3, 0.4], np.float32)), {"arch": "mrcnn"}, data, "m", "d")
    assert isinstance(p, SampleColumns)
    np.testing.assert_array_equal(p.predict_rows(data), np.repeat(np.float32([[0.1], [0.2], [0.3], [0.4]]), 3, axis=1))


def test_model_of_several_samples_in_another_order():
    data = tiny_cohort(n=2, names=("a", "b"))
    out = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], np.float32)  # model samples b, x, a
    p = for_samples(_Fixed(out), {"arch": "mrcnn", "samples": ["b", "x", "a"]}, data, "m", "d")
    np.testing.assert_array_equal(p.predict_rows(data), np.float32([[0.3, 0.1], [0.6, 0.4]]))
    # on a one-sample dataset named like one of the model's samples: that column
    one = tiny_cohort(n=2)
    one.samples, one.y, one.coverage, one.meta["sample"] = None, one.y[:, 0], one.coverage[:, 0], "x"
    np.testing.assert_array_equal(
        for_samples(_Fixed(out), {"samples": ["b", "x", "a"]}, one, "m", "d").predict_rows(one), np.float32([0.2, 0.5])
    )


def test_context_model_of_several_samples_gets_its_inputs_in_its_order():
    data = tiny_cohort(n=3, names=("a", "b"))
    predictor = ContextPredictor(None, {"arch": "context-only", "samples": ["b", "a"], "context": {"k": 2}})
    for_samples(predictor, predictor.meta, data, "m", "d")
    np.testing.assert_array_equal(predictor.columns, [1, 0])
    with pytest.raises(ModelError, match="holds one sample"):
        one = tiny_cohort(n=3)
        one.samples, one.y, one.coverage = None, one.y[:, 0], one.coverage[:, 0]
        for_samples(ContextPredictor(None, predictor.meta), predictor.meta, one, "m", "d")
