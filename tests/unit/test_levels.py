"""levels.py: the paper's group boundaries (hypo < 0.1, mid 0.4-0.6 inclusive, hyper > 0.9), checked at the edges."""

import numpy as np
import pytest

from mrcnn_tools import levels
from mrcnn_tools.evaluation import metrics

EDGES = np.array([0.0, 0.0999, 0.1, 0.3999, 0.4, 0.5, 0.6, 0.6001, 0.9, 0.9001, 1.0, np.nan])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("hypo", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("mid", [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]),
        ("hyper", [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]),
    ],
)
def test_mask_boundaries(name, expected):
    assert levels.mask(name, EDGES).tolist() == [bool(e) for e in expected]


def test_group_counts_by_hand_and_nan_left_out():
    assert levels.group_counts(EDGES) == {"hypo": 2, "mid": 3, "hyper": 2}
    assert list(levels.group_counts(np.array([]))) == ["hypo", "mid", "hyper"]


def test_description_and_names():
    assert levels.DESCRIPTION == "hypo < 0.1, mid 0.4-0.6, hyper > 0.9"
    assert levels.NAMES == ("hypo", "mid", "hyper")
    with pytest.raises(KeyError):
        levels.mask("low", EDGES)


def test_eval_groups_use_the_same_table():
    assert [n for n, _ in metrics.REGRESSION_GROUPS] == ["all", "hyper", "mid", "hypo"]
    for name, test in metrics.REGRESSION_GROUPS[1:]:
        assert test(EDGES).tolist() == levels.mask(name, EDGES).tolist()


def test_float32_levels_at_a_bound_count_as_their_decimal():
    # 3/5 and 2/5 reads stored as float32 sit just above 0.6 and 0.4; a TSV of them reads back as 0.6 and 0.4:
    # encode (float32) and eval (float64 from text) must put them in the same group.
    y32 = np.array([3 / 5, 2 / 5, 9 / 10, 1 / 10], dtype=np.float32)
    y64 = np.array([float(f"{v:g}") for v in y32])
    assert levels.group_counts(y32) == levels.group_counts(y64) == {"hypo": 0, "mid": 2, "hyper": 0}
