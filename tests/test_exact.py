"""Exact OPT_fold and OPT_prune (projgeo.exact): three independent exact methods agree."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import (
    brute_force_fold,
    exact_fold,
    exact_fold_bnb,
    exact_fold_path,
    exact_prune,
    exact_prune_path,
    fold_1d_path,
    fold_error,
    magnitude_prune,
    prune_error,
    set_partitions,
)
from projgeo.exact import MAX_N
from projgeo.tolerance import close, leq
from tests import strategies as S

# Few shape buckets: every new shape recompiles the family samplers.
SMALL = (2, 3, 6)  # brute force: n ≤ 6
EXACT = (1, 2, 5, 10)  # enumeration: n ≤ 10


def stirling2(n: int, k: int) -> int:
    terms = ((-1) ** j * math.comb(k, j) * (k - j) ** n for j in range(k + 1))
    return sum(terms) // math.factorial(k)


def _tol(w):
    return dict(dtype=w.dtype, scale=np.sum(w * w), terms=w.size)


def sse(w, labels):
    """Σ_j Σ_{i∈G_j} ||w_i − μ_j||², written out plainly (an independent reference)."""
    return sum(float(np.sum((w[labels == j] - w[labels == j].mean(axis=0)) ** 2))
               for j in np.unique(labels))


@pytest.mark.parametrize("n", range(1, MAX_N + 1))
def test_set_partitions_are_all_restricted_growth_strings_with_k_blocks(n):
    for k in range(1, n + 1):
        p = set_partitions(n, k)
        assert p.shape == (stirling2(n, k), n)
        assert len({r.tobytes() for r in p}) == len(p)  # distinct
        assert np.all(p[:, 0] == 0)
        prefix_max = np.maximum.accumulate(p, axis=1)
        assert np.all(p[:, 1:] <= prefix_max[:, :-1] + 1)  # restricted growth
        assert np.all(prefix_max[:, -1] == k - 1)  # exactly k blocks


def test_set_partitions_match_itertools_for_n_5():
    def canonical(labels):
        first = {}
        return tuple(first.setdefault(x, len(first)) for x in labels)

    for k in range(1, 6):
        expected = {canonical(c) for c in itertools.product(range(k), repeat=5)
                    if len(set(c)) == k}
        assert {tuple(r) for r in set_partitions(5, k).tolist()} == expected


@given(S.weights(rows=SMALL, cols=(1, 3)))
def test_enumeration_equals_brute_force(w):
    path = exact_fold_path(w)
    for k in range(1, w.shape[0] + 1):
        assert close(path.inertia[k - 1], brute_force_fold(w, k).inertia, **_tol(w))


@given(S.weights(rows=(2, 5, 8, 10, 12), cols=(1,)))
def test_enumeration_equals_1d_dynamic_programme(w):
    dp = fold_1d_path(w)
    if w.shape[0] <= MAX_N:
        assert np.all(close(exact_fold_path(w).inertia, dp.inertia, **_tol(w)))
    # The DP's labels are a k-partition achieving its value (any n).
    for k in range(1, w.shape[0] + 1):
        labels = np.asarray(dp.labels[k - 1])
        assert set(labels.tolist()) == set(range(k))
        assert close(sse(w, labels), dp.inertia[k - 1], **_tol(w))


@given(S.hard_weights(rows=EXACT, cols=(1, 3)), st.data())
def test_exact_labels_are_a_k_partition_achieving_opt_fold(w, data):
    k = data.draw(S.ranks(w.shape[0]))
    res = exact_fold(w, k)
    labels = np.asarray(res.labels)
    assert set(labels.tolist()) == set(range(k))
    assert close(sse(w, labels), res.inertia, **_tol(w))
    # ... and nothing beats it: a random k-partition never does.
    other = data.draw(S.partitions(w.shape[0], k))
    assert leq(res.inertia, sse(w, other), **_tol(w))


@given(S.hard_weights(rows=EXACT, cols=(1, 3)), st.data())
def test_opt_prune_is_the_least_pruning_error_over_all_subsets(w, data):
    n = w.shape[0]
    path = np.asarray(exact_prune_path(w))
    energy = np.sum(w * w, axis=1)
    for k in range(1, n + 1):
        subsets = itertools.combinations(range(n), k)
        best = min(energy.sum() - energy[list(c)].sum() for c in subsets)
        assert close(path[k - 1], best, **_tol(w))
    assert np.all(np.diff(path) <= 0) and path[-1] == 0
    k = data.draw(S.ranks(n))
    assert close(exact_prune(w, k), path[k - 1], **_tol(w))
    assert close(prune_error(w, magnitude_prune(w, k)), path[k - 1], **_tol(w))


def test_batches_give_the_same_answers_as_single_matrices():
    rng = np.random.default_rng(0)
    ws = rng.normal(size=(3, 7, 2))
    batch = exact_fold_path(ws)
    assert batch.inertia.shape == (3, 7) and batch.labels.shape == (3, 7, 7)
    for b in range(3):
        single = exact_fold_path(ws[b])
        np.testing.assert_array_equal(single.inertia, batch.inertia[b])
        np.testing.assert_array_equal(exact_fold(ws[b], 4).inertia, batch.at(4).inertia[b])
    assert exact_prune_path(ws).shape == (3, 7)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="n ≤ 10"):
        exact_fold(np.ones((11, 2)), 3)
    with pytest.raises(ValueError, match="n ≤ 6"):
        brute_force_fold(np.ones((7, 2)), 3)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, n\]"):
        exact_fold(np.ones((4, 2)), 5)
    with pytest.raises(TypeError, match="floating"):
        exact_fold(np.ones((4, 2), int), 2)
    with pytest.raises(ValueError, match="finite"):
        exact_fold_path(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="one column"):
        fold_1d_path(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(n, d\) or \(batch, n, d\)"):
        exact_prune_path(np.ones(3))


@given(S.hard_weights(rows=(3, 6, 9), cols=(1, 3)), st.data())
def test_every_exact_result_gives_the_projector_of_its_partition(w, data):
    """ExactFold.projector() and ExactFoldBnB.projector(): E_fold(P_π) is the optimum found."""
    k = data.draw(S.ranks(w.shape[0]))
    for res in (exact_fold(w, k), exact_fold_bnb(w, k)):
        p = res.projector()
        assert int(p.k) == k
        assert close(fold_error(w, p), res.inertia, **_tol(w))
