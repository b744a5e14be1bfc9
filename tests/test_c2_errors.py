"""C2: closed-form errors equal ||(I − P)W||², S* is optimal, P_π W is the best fit."""

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from tests import strategies as S
from tests.helpers import assert_close, assert_leq


def dense_error(w, p):
    r = w - np.asarray(p.matrix()) @ w
    return np.sum(r * r)


@given(S.problems(), st.data())
def test_c2_prune_error_closed_form_equals_projection_error(problem, data):
    w, k = problem
    p = pg.prune_projector(data.draw(S.keep_sets(w.shape[0], k)), w.shape[0])
    assert_close(pg.prune_error(w, p), dense_error(w, p), w=w)
    assert_close(pg.projection_error(w, p), dense_error(w, p), w=w)


@given(S.problems(), st.data())
def test_c2_fold_error_is_the_kmeans_inertia_and_projection_error(problem, data):
    w, k = problem
    labels = data.draw(S.partitions(w.shape[0], k))
    p = pg.fold_projector(labels, k)
    inertia = sum(np.sum((w[labels == j] - w[labels == j].mean(axis=0)) ** 2) for j in range(k))
    assert_close(pg.fold_error(w, p), inertia, w=w)
    assert_close(pg.fold_error(w, p), dense_error(w, p), w=w)


@given(S.problems())
def test_c2_magnitude_pruning_is_optimal_over_all_keep_sets(problem):
    w, k = problem
    n = w.shape[0]
    best = min(np.sum(w[[i for i in range(n) if i not in c]] ** 2)
               for c in itertools.combinations(range(n), k))
    assert_close(pg.prune_error(w, pg.magnitude_prune(w, k)), best, w=w)


@given(S.problems())
def test_c2_l1_scores_never_beat_l2_in_frobenius_error(problem):
    w, k = problem
    assert_leq(pg.prune_error(w, pg.magnitude_prune(w, k)),
               pg.prune_error(w, pg.magnitude_prune(w, k, score="l1")), w=w)


def test_c2_l1_and_l2_scores_differ_where_they_should():
    # Row 0 has the larger L1 norm (1.2 > 1.0), row 1 the larger L2 norm (1.0 > 0.72).
    w = np.array([[0.6, 0.6], [1.0, 0.0]])
    np.testing.assert_array_equal(pg.magnitude_prune(w, 1).keep, [1])
    np.testing.assert_array_equal(pg.magnitude_prune(w, 1, score="l1").keep, [0])


@given(S.problems(), st.data())
def test_c2_cluster_means_are_the_best_cluster_constant_fit(problem, data):
    w, k = problem
    labels = data.draw(S.partitions(w.shape[0], k))
    p = pg.fold_projector(labels, k)
    mu = np.asarray(p.compress(w))
    shift = data.draw(st.sampled_from([1e-3, 1.0, 10.0])) * np.random.default_rng(
        data.draw(st.integers(0, 2**32 - 1))).normal(size=mu.shape) * (np.abs(w).max() + 1e-300)
    y = mu + shift
    fit = np.sum((w - y[labels]) ** 2)
    counts = np.bincount(labels, minlength=k)
    scale = max(fit, np.sum(w * w))
    assert_close(fit, pg.fold_error(w, p) + np.sum(counts[:, None] * shift**2), w=w, scale=scale)
    assert_leq(pg.fold_error(w, p), fit, w=w, scale=scale)
