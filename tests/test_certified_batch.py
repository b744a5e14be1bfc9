"""Batched certified folds in lock step (C4(ii)): ``projgeo.certified_fold_batch``.

The theorem, instance by instance: the fold at rank k+1 is never worse than magnitude
pruning at rank k, bitwise as computed, for any weights and any number of steps.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import projgeo as pg
from projgeo.kmeans.batched import _batch_kernel
from proofs_check import _local
from tests import strategies as S
from tests.helpers import assert_close, assert_leq, count_compilations


@st.composite
def _batch_problems(draw):
    # Few shapes and ranks: every (b, n, d, k) is a program of its own (k is static).
    ws = draw(S.weight_batches(rows=(3, 8)))
    n = ws.shape[1]
    k = draw(st.sampled_from(sorted({1, n - 1})))
    return ws, k, draw(st.sampled_from((0, 1, 4, 16)))


def _c3_labels(w, k):
    keep = np.asarray(pg.magnitude_prune(w, k).keep)
    labels = np.full(w.shape[0], k, np.int32)
    labels[keep] = np.arange(k, dtype=np.int32)
    return labels


@given(_batch_problems(), st.booleans())
def test_c4_batched_fold_k_plus_one_never_worse_than_prune_k_bitwise(problem, hartigan):
    ws, k, steps = problem
    c = pg.certified_fold_batch(ws, k, steps=steps, hartigan=hartigan)
    inertia, prune = np.asarray(c.result.inertia), np.asarray(c.prune_error)
    assert np.all(inertia <= prune), (inertia, prune)  # bitwise, no tolerance
    labels = np.asarray(c.result.labels)
    for b, w in enumerate(ws):
        assert np.unique(labels[b]).size == k + 1  # k+1 non-empty clusters
        p = pg.magnitude_prune(w, k)
        assert np.array_equal(np.asarray(c.prune.keep)[b], np.asarray(p.keep))
        assert_close(prune[b], pg.prune_error(w, p), w=w)
        assert_close(inertia[b], pg.fold_error(w, pg.FoldProjector(labels[b], k + 1)), w=w)
        assert_leq(c.refined_error[b], c.start_error[b], w=w)
        if int(c.route[b]) == 2:  # the guard kept π_{S*}
            assert np.array_equal(labels[b], _c3_labels(w, k))


@settings(max_examples=10)
@given(_batch_problems())
def test_c4_batch_carries_the_single_instance_certificate(problem):
    """Same ``S*``, ``OPT_prune(k)`` and ``E_fold(π_{S*})`` as :func:`projgeo.certified_fold` (up
    to the order of summation, which vmap may change), and the same bound on both results."""
    ws, k, steps = problem
    c = pg.certified_fold_batch(ws, k, steps=steps)
    for b, w in enumerate(ws):
        one = pg.certified_fold(w, k)
        assert_close(c.prune_error[b], one.prune_error, w=w)
        assert_close(c.start_error[b], one.start_error, w=w)
        assert float(one.result.inertia) <= float(one.prune_error)
        assert float(c.result.inertia[b]) <= float(one.prune_error)


@given(_batch_problems())
def test_batch_is_deterministic_and_each_instance_ignores_the_others(problem):
    ws, k, steps = problem
    a = pg.certified_fold_batch(ws, k, steps=steps)
    b = pg.certified_fold_batch(ws, k, steps=steps)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    last = pg.certified_fold_batch(ws[-1:], k, steps=steps)
    assert_close(last.result.inertia[0], a.result.inertia[-1], w=ws[-1])


def test_zero_steps_return_the_pruning_partition():
    ws = np.asarray(pg.families.sample_batch("gaussian", jax.random.key(1), 3, 8, 3))
    c = pg.certified_fold_batch(ws, 3, steps=0)
    for b, w in enumerate(ws):
        assert np.array_equal(np.asarray(c.result.labels[b]), _c3_labels(w, 3))
        assert_close(c.result.inertia[b], c.start_error[b], w=w)


def test_more_steps_never_raise_the_inertia_and_converged_means_locally_optimal():
    ws = np.asarray(pg.families.sample_batch("gaussian", jax.random.key(2), 16, 12, 5))
    prev = None
    for steps in (0, 2, 8, 64):
        c = pg.certified_fold_batch(ws, 5, steps=steps)
        e = np.asarray(c.result.inertia)
        if prev is not None:
            for b, w in enumerate(ws):
                assert_leq(e[b], prev[b], w=w)
        prev = e
    conv = np.asarray(c.result.converged)
    assert conv.mean() > 0.5  # 64 iterations finish these small problems
    gain = _local.best_move_gain(ws, np.asarray(c.result.labels), 6)
    for b, w in enumerate(ws):
        if conv[b]:
            assert_leq(gain[b], 0.0, w=w, scale=float(_local.centred_energy(ws[b:b + 1])[0]))
    # Hartigan moves after Lloyd: strictly better than π_{S*} on most of these matrices, and
    # never worse than plain Lloyd steps from the same start.
    assert np.mean(e < np.asarray(c.start_error)) > 0.5
    lloyd = np.asarray(pg.certified_fold_batch(ws, 5, steps=64, hartigan=False).result.inertia)
    for b, w in enumerate(ws):
        assert_leq(e[b], lloyd[b], w=w)


@pytest.mark.parametrize("hartigan", [False, True])
def test_a_step_that_empties_a_cluster_is_refused_in_the_loop_and_as_the_last_proposal(hartigan):
    # Kept rows ±1.1, pruned rows ±1 (mean 0): one Lloyd step sends each pruned row to its
    # kept neighbour and empties the pruned cluster. With steps=1 that step is the last
    # proposal (taken or not after the loop), with steps=2 the loop itself evaluates it.
    ws = np.array([[[1.1], [-1.1], [1.0], [-1.0]]])
    for steps in (1, 2):
        c = pg.certified_fold_batch(ws, 2, steps=steps, hartigan=hartigan)
        assert np.array_equal(np.asarray(c.result.labels[0]), [0, 1, 2, 2]), steps
        assert int(c.result.iterations[0]) == 0


@pytest.mark.parametrize("hartigan", [False, True])
def test_a_chunk_that_stops_early_gives_bitwise_the_results_of_all_steps(hartigan):
    # Chunks of 2 matrices stop once both are done; every chunk running all steps must give
    # the same bits (a matrix that is done is a fixed point of the iteration).
    ws = jnp.asarray(pg.families.sample_batch("gaussian", jax.random.key(5), 6, 10, 3))
    for steps in (1, 3, 40):
        a, b = (_batch_kernel(ws, np.int32(steps), k=4, score="l2", hartigan=hartigan,
                              chunk=2, early_exit=early) for early in (True, False))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            assert np.array_equal(np.asarray(x), np.asarray(y)), steps


def test_one_program_per_shape_whatever_the_steps():
    ws = jnp.asarray(pg.families.sample_batch("gaussian", jax.random.key(3), 5, 9, 4))
    pg.certified_fold_batch(ws, 4, steps=3)
    with count_compilations() as compiled:
        for steps in (0, 1, 7, 30):
            pg.certified_fold_batch(ws, 4, steps=steps)
    assert compiled() == 0, compiled()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda w: pg.certified_fold_batch(w[0], 2), ValueError, "ws must be"),
        (lambda w: pg.certified_fold_batch(w[:, :0], 2), ValueError, "ws must be"),
        (lambda w: pg.certified_fold_batch(w.astype(np.int32), 2), TypeError, "ws must be"),
        (lambda w: pg.certified_fold_batch(np.where(w > 0, np.nan, w), 2), ValueError, "finite"),
        (lambda w: pg.certified_fold_batch(w, 6), ValueError, "k < n"),
        (lambda w: pg.certified_fold_batch(w, 0), ValueError, "k must be"),
        (lambda w: pg.certified_fold_batch(w, 2.5), TypeError, "k must be"),
        (lambda w: pg.certified_fold_batch(w, 2, steps=-1), ValueError, "steps must be"),
        (lambda w: pg.certified_fold_batch(w, 2, steps=True), TypeError, "steps must be"),
        (lambda w: pg.certified_fold_batch(w, 2, score="l3"), ValueError, "score"),
        (lambda w: pg.certified_fold_batch(w, 2, hartigan=1), TypeError, "hartigan must be"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    ws = np.asarray(pg.families.sample_batch("gaussian", jax.random.key(4), 2, 6, 3))
    with pytest.raises(error, match=match):
        call(ws)
