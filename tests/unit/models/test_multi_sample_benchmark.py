"""benchmarks/cohort.py's own pieces against naive references: the cohort dataset it builds from per-sample calls
(the layout of mrcnn-encode with repeated --calls and --context K) and its three baselines."""

import importlib.util
import sys

import numpy as np
import pytest
from cohort_data import naive_context
from helpers import ROOT


@pytest.fixture(scope="module")
def cohort():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location("bench_cohort", ROOT / "benchmarks" / "cohort.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


CALLS = [  # 1-based position: (methylated, unmethylated), per sample
    {100: (3, 1), 130: (0, 5), 170: (4, 0), 200: (1, 1)},
    {130: (2, 2), 150: (5, 5), 200: (0, 3)},
    {100: (1, 0), 150: (0, 2), 170: (3, 3), 260: (9, 1)},
]


def test_cohort_layout_against_a_naive_loop(cohort):
    data = cohort.cohort(CALLS, ["a", "b", "c"], "chr1", 0, 1000)
    pos1 = [100, 130, 150, 170, 200, 260]
    np.testing.assert_array_equal(data.pos, np.array(pos1) - 1)
    y = np.array([[c[p][0] / sum(c[p]) if p in c else np.nan for c in CALLS] for p in pos1], np.float32)
    cov = np.array([[sum(c[p]) if p in c else 0 for c in CALLS] for p in pos1], np.int32)
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.coverage, cov)
    level, dist, ccov = naive_context(np.array(pos1), y, cov, cohort.K)
    np.testing.assert_array_equal(data.context_level, level)
    np.testing.assert_array_equal(data.context_dist, dist)
    np.testing.assert_array_equal(data.context_coverage, ccov)
    assert list(data.samples) == ["a", "b", "c"] and data.seq.shape == (6, 0)


def test_baselines_by_hand(cohort):
    data = cohort.cohort(CALLS, ["a", "b", "c"], "chr1", 0, 1000)
    nb, sm, both = cohort.baselines(data)
    # site 150 (row 2), sample a (not observed there): neighbours 130 (d -20, level 0) and 100, 170, 200
    w = {100: 1 / 51, 130: 1 / 21, 170: 1 / 21, 200: 1 / 51}
    lv = {100: 0.75, 130: 0.0, 170: 1.0, 200: 0.5}
    assert nb[2, 0] == pytest.approx(sum(w[p] * lv[p] for p in w) / sum(w.values()))
    # site 130 (row 1), sample b: the other observed sample is a (0.0); sample c has nothing there
    assert sm[1, 1] == pytest.approx(0.0) and sm[1, 0] == pytest.approx(0.5)
    assert np.isnan(sm[5, 2])  # 260: only c observed
    assert both[1, 1] == pytest.approx((nb[1, 1] + sm[1, 1]) / 2)
    assert both[5, 2] == pytest.approx(nb[5, 2])
