"""C4: OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k), exactly and through certified_fold."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import (
    certified_fold,
    exact_fold_path,
    exact_prune_path,
    families,
    fold_error,
    magnitude_prune,
    pruning_partition,
)
from projgeo.exact import inertia_of
from projgeo.exact.reference import pruning_partition_labels
from projgeo.tolerance import leq
from tests import strategies as S

# Few (n, d, k) combinations: certified_fold compiles once per shape and k. Rows ≤ 10 so
# that the exact optimum is available for the sandwich test.
CERT_ROWS = (3, 10)
CERT_COLS = (2,)


def _tol(w):
    return dict(dtype=w.dtype, scale=np.sum(np.asarray(w, float) ** 2), terms=w.size)


def opt_prune(w, k):
    """OPT_prune(k) by its definition: the energy of the n − k smallest rows."""
    energy = np.sort(np.sum(np.asarray(w) ** 2, axis=1))
    return float(np.sum(energy[: w.shape[0] - k]))


@st.composite
def cert_problems(draw):
    """(w, k), 1 ≤ k < n, k from {1, n//2, n − 1}; w with duplicates, zero rows, 12 decades."""
    w = draw(S.hard_weights(rows=CERT_ROWS, cols=CERT_COLS, min_rows=2))
    n = w.shape[0]
    return w, draw(st.sampled_from(sorted({1, n // 2, n - 1})))


@given(S.hard_weights(rows=(2, 4, 7, 10), cols=(1, 3), min_rows=2), st.data())
def test_c4_fold_k_plus_one_never_worse_than_prune_k_exactly(w, data):
    n = w.shape[0]
    opt_fold = np.asarray(exact_fold_path(w).inertia)  # [k − 1] ↔ rank k
    prune = np.asarray(exact_prune_path(w))
    pis = inertia_of(w[None], pruning_partition_labels(w[None]))[0]  # E_fold(π_S*), k = 1…n−1
    for k in range(1, n):
        assert leq(opt_fold[k], pis[k - 1], **_tol(w))  # OPT_fold(k+1) ≤ E_fold(π_S*)
        assert leq(pis[k - 1], prune[k - 1], **_tol(w))  # E_fold(π_S*) ≤ OPT_prune(k)
    # The library's π_S* at one drawn k is the same partition, with the same error.
    k = data.draw(st.integers(1, n - 1))
    start = pruning_partition(magnitude_prune(w, k))
    assert leq(opt_fold[k], fold_error(w, start), **_tol(w))
    assert leq(fold_error(w, start), opt_prune(w, k), **_tol(w))


@given(S.hard_weights(rows=(1, 3, 6, 10), cols=(2,)))
def test_c4_opt_fold_and_opt_prune_are_non_increasing_and_vanish_at_n(w):
    opt_fold = np.asarray(exact_fold_path(w).inertia)
    prune = np.asarray(exact_prune_path(w))
    assert np.all(leq(opt_fold[1:], opt_fold[:-1], **_tol(w)))
    assert np.all(leq(prune[1:], prune[:-1], **_tol(w)))
    assert opt_fold[-1] == 0 and prune[-1] == 0


@given(cert_problems())
def test_c4_certified_fold_never_worse_than_prune_k(problem):
    w, k = problem
    c = certified_fold(w, k)
    labels = np.asarray(c.result.labels)
    assert set(labels.tolist()) == set(range(k + 1))  # a (k+1)-partition
    assert c.result.inertia <= c.prune_error  # guarded: bitwise as computed
    assert leq(c.refined_error, c.start_error, **_tol(w))  # the kernel never climbs
    assert leq(c.start_error, c.prune_error, **_tol(w))  # C3
    assert leq(c.result.inertia, opt_prune(w, k), **_tol(w))  # the theorem, certified
    assert leq(c.prune_error, opt_prune(w, k), **_tol(w)) and leq(
        opt_prune(w, k), c.prune_error, **_tol(w))
    assert leq(fold_error(w, c.projector()), c.result.inertia, **_tol(w))


@given(cert_problems())
def test_c4_certified_fold_is_sandwiched_by_the_exact_optimum(problem):
    w, k = problem
    c = certified_fold(w, k)
    opt_next = float(exact_fold_path(w).inertia[k])  # OPT_fold(k+1)
    assert leq(opt_next, c.result.inertia, **_tol(w))
    assert leq(c.result.inertia, opt_prune(w, k), **_tol(w))


def test_c4_certified_fold_on_a_large_heavy_tailed_layer():
    w = families.heavy_tailed(jax.random.key(0), 256, 8)
    c = certified_fold(w, 64)
    assert int(jnp.unique(c.result.labels).size) == 65
    assert leq(c.result.inertia, opt_prune(w, 64), **_tol(w))
    assert leq(c.refined_error, c.start_error, **_tol(w))
    assert c.result.inertia <= c.prune_error


def test_c4_certified_fold_batches_under_jit_and_vmap():
    ws = families.sample_batch("heavy_tailed", jax.random.key(1), 4, 10, 2)
    batched = jax.jit(jax.vmap(lambda w: certified_fold(w, 5)))(ws)
    for b in range(4):
        single = certified_fold(ws[b], 5)
        np.testing.assert_array_equal(batched.result.labels[b], single.result.labels)
        assert leq(batched.result.inertia[b], single.prune_error, **_tol(ws[b]))


def test_c4_the_warm_start_is_the_pruning_partition():
    w = families.heavy_tailed(jax.random.key(2), 8, 3)
    c = certified_fold(w, 3, max_iter=1, refine_iter=0, split_merge_iter=0)
    star = magnitude_prune(w, 3)
    np.testing.assert_array_equal(c.prune.keep, star.keep)
    assert leq(c.start_error, fold_error(w, pruning_partition(star)), **_tol(w))
    assert leq(fold_error(w, pruning_partition(star)), c.start_error, **_tol(w))
    # With one Lloyd step and no refinement the certificate still holds.
    assert c.result.inertia <= c.prune_error


@pytest.mark.parametrize("k", [4, 0, 1.5])
def test_c4_certified_fold_rejects_k_outside_1_to_n_minus_1(k):
    w = np.ones((4, 2))
    error = TypeError if isinstance(k, float) else ValueError
    with pytest.raises(error, match="k"):
        certified_fold(w, k)


def test_c4_certified_fold_at_k_equals_n_explains_itself():
    with pytest.raises(ValueError, match="needs k < n"):
        certified_fold(np.eye(3), 3)


def test_c4_checker_counts_an_unproved_branch_and_bound_search_as_a_violation(monkeypatch):
    """The exact B&B part on tiny shapes: all proved → no violation; one search reported
    unproved (as when max_nodes stops it) → a violation, never a pass."""
    from projgeo.exact import branch_bound as bb
    from proofs_check import _exact_bnb
    from proofs_check.frame import Context, Progress, Tally

    class Two:  # two families keep it cheap
        FAMILIES = {"gaussian": None, "near_duplicate": None}
        sample = staticmethod(families.sample)

    monkeypatch.setattr(_exact_bnb, "SHAPES", {1: ((6, 1),)})
    monkeypatch.setattr(_exact_bnb, "families", Two)
    ctx = Context(budget="quick", seed=0, progress=Progress(False))
    tally = Tally()
    out = _exact_bnb.check(ctx, tally)
    assert tally.violations == 0 and tally.trials == 2
    assert out["6x1"]["unproved_searches"] == 0

    def starved(w, k, **kw):
        return bb.exact_fold_bnb(w, k, **kw)._replace(proved=k != 3)

    monkeypatch.setattr(_exact_bnb, "exact_fold_bnb", starved)
    tally = Tally()
    out = _exact_bnb.check(ctx, tally)
    assert tally.violations == 2
    assert out["6x1"]["unproved_searches"] == 2
