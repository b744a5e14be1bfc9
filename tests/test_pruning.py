"""Magnitude pruning keeps the k largest rows, deterministically (C2)."""

import numpy as np
from hypothesis import given

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
    np.testing.assert_allclose(pg.row_scores(w, norm="l1"), [7.0, 2.0])
