"""Magnitude pruning keeps the k largest rows, deterministically (C2)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from tests import strategies as S


@given(S.problems())
def test_magnitude_pruning_keeps_the_k_largest_rows(problem):
    w, k = problem
    keep = np.asarray(pg.magnitude_prune(w, k).keep)
    energy = np.sum(w * w, axis=1)
    dropped = np.setdiff1d(np.arange(w.shape[0]), keep)
    assert keep.shape == (k,) and np.all(np.diff(keep) > 0)
    if dropped.size:
        assert energy[keep].min() >= energy[dropped].max()


def test_ties_go_to_the_lower_row_index():
    w = np.ones((5, 2))
    np.testing.assert_array_equal(pg.magnitude_prune(w, 2).keep, [0, 1])
    w = np.array([[1.0], [2.0], [2.0], [1.0]])
    np.testing.assert_array_equal(pg.magnitude_prune(w, 2).keep, [1, 2])
    np.testing.assert_array_equal(pg.magnitude_prune(w, 3).keep, [0, 1, 2])


def test_zeroes_the_right_rows():
    w = np.array([[3.0, 0.0], [0.1, 0.1], [0.0, -2.0], [0.5, 0.0]])
    p = pg.magnitude_prune(w, 2)
    np.testing.assert_array_equal(p.apply(w), [[3.0, 0.0], [0, 0], [0.0, -2.0], [0, 0]])
    np.testing.assert_allclose(pg.prune_error(w, p), 0.02 + 0.25)


def test_row_scores():
    w = np.array([[3.0, -4.0], [1.0, 1.0]])
    np.testing.assert_allclose(pg.row_scores(w), [25.0, 2.0])
    np.testing.assert_allclose(pg.row_scores(w, score="l1"), [7.0, 2.0])


@given(n=st.integers(1, 5000), ratio=st.floats(0.0, 1.0, exclude_max=True))
def test_keep_count_is_the_one_ratio_to_rank_rule(n, ratio):
    """k = max(1, round((1 − ratio)·n)): in [1, n], non-increasing in the ratio, n at ratio 0."""
    k = pg.keep_count(n, ratio)
    assert 1 <= k <= n and k == max(1, round((1 - ratio) * n))
    assert pg.keep_count(n, 0.0) == n
    assert pg.keep_count(n, min(0.999, ratio + 0.25)) <= k


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 2, float("nan"), "0.5", True])
def test_keep_count_refuses_a_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match=r"ratio must be a number in \[0, 1\)"):
        pg.keep_count(10, ratio)
