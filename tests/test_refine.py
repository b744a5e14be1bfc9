"""Seeding and refinement phases of folding (C2, C4): every phase is monotone.

One shape bucket (12×5, k = 4) keeps the jitted kernels to a few compilations.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projgeo import fold, fold_error, fold_projector, tolerance
from projgeo.kmeans import _kernels, lloyd_step, refine
from projgeo.kmeans.seeding import bisect
from tests import strategies as pst

N, D, K = 12, 5, 4


def _leq(a, b, w):
    return tolerance.leq(a, b, dtype=w.dtype, scale=float(np.sum(w * w)), terms=w.size)


@given(w=pst.weights(shape=(N, D)), labels=pst.partitions(N, K))
def test_c4_warm_start_never_increases_inertia(w, labels):
    res = fold(w, K, init=labels)
    assert _leq(res.inertia, fold_error(w, fold_projector(labels, K)), w)
    assert np.unique(np.asarray(res.labels)).size == K


@settings(max_examples=12)  # each example runs the whole fold; compiling dominates anyway
@given(w=pst.weights(shape=(N, D)), seed=st.integers(0, 2**31 - 1),
       seeding=st.sampled_from(["bisect", "kmeans++"]))
def test_fold_gives_k_nonempty_clusters_and_its_own_inertia(w, seed, seeding):
    res = fold(w, K, key=jax.random.key(seed), seeding=seeding)
    labels = np.asarray(res.labels)
    assert np.unique(labels).size == K
    assert np.all(np.isfinite(np.asarray(res.centroids))) and np.isfinite(float(res.inertia))
    assert tolerance.close(res.inertia, fold_error(w, fold_projector(labels, K)),
                           dtype=w.dtype, scale=float(np.sum(w * w)), terms=w.size)


@jax.jit
def _phases(w, labels):
    sq_w = jnp.sum(w * w, axis=1)
    st0 = refine.make_state(w, sq_w, labels, K)
    st1, _, _ = refine.lloyd(w, sq_w, st0, K, 5, 0.0, K)
    st2, _, _ = refine.hartigan(w, sq_w, st1, K, 5, K)
    st3, _ = refine.split_merge(w, sq_w, st2, K, 3, 5, K)
    return st0.inertia, st1.inertia, st2.inertia, st3.inertia, st3.labels


@given(w=pst.weights(shape=(N, D)), labels=pst.partitions(N, K))
def test_lloyd_hartigan_split_merge_each_never_increase_inertia(w, labels):
    e0, e1, e2, e3, out = _phases(w, labels)
    assert _leq(e1, e0, w) and _leq(e2, e1, w) and _leq(e3, e2, w)
    assert np.unique(np.asarray(out)).size == K


def test_split_merge_closes_the_gap_on_a_planted_partition():
    # Two tight pairs far apart share cluster 0, while two close pairs sit in clusters 1
    # and 2: no single-row move helps, merging 1 and 2 (cost 1) to split 0 (gain 100) does.
    pts = np.array([[0, 0], [0, 0.1], [10, 0], [10, 0.1], [0, 10], [0.1, 10], [0, 11],
                    [0.1, 11]], float)
    start = np.array([0, 0, 0, 0, 1, 1, 2, 2], np.int32)
    w = jnp.asarray(pts)
    sq_w = jnp.sum(w * w, axis=1)
    st0 = refine.make_state(w, sq_w, jnp.asarray(start), 3)
    st1, _ = refine.split_merge(w, sq_w, st0, 3, 4, 0, 3)
    assert float(st1.inertia) < 0.05 * float(st0.inertia)
    assert len({tuple(np.flatnonzero(np.asarray(st1.labels) == j)) for j in range(3)}
               & {(0, 1), (2, 3)}) == 2


@pytest.mark.parametrize("k", [3, 40])
def test_dense_and_scatter_means_agree(k):
    # k = 3 takes the one-hot path (k ≤ DENSE_K), k = 40 the scatter path.
    w = jax.random.normal(jax.random.key(0), (60, 4))
    labels = jax.random.randint(jax.random.key(1), (60,), 0, k)
    ref_counts = np.bincount(np.asarray(labels), minlength=k)
    ref = np.zeros((k, 4))
    np.add.at(ref, np.asarray(labels), np.asarray(w))
    ref = ref / np.maximum(ref_counts, 1)[:, None]
    np.testing.assert_array_equal(_kernels.counts(labels, k), ref_counts)
    np.testing.assert_allclose(_kernels.means(w, labels, k), ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_kernels.rows_of(jnp.asarray(ref), labels),
                               ref[np.asarray(labels)], rtol=0, atol=0)


def test_lloyd_step_assigns_each_row_to_its_nearest_mean():
    w = np.asarray(jax.random.normal(jax.random.key(2), (N, D)))
    labels = np.arange(N) % K
    mu = np.stack([w[labels == j].mean(0) for j in range(K)])
    nearest = np.argmin(((w[:, None, :] - mu[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(lloyd_step(jnp.asarray(w), jnp.asarray(labels), K), nearest)


def test_bisect_seeding_finds_planted_clusters():
    # Hierarchical groups: the first split separates 0/5 from 100/105, the next splits both.
    centres = np.array([[0, 0, 0], [5, 0, 0], [100, 0, 0], [105, 0, 0]], float)
    pts = np.repeat(centres, 3, axis=0) + 0.01 * np.arange(12)[:, None]
    labels = np.asarray(bisect(jnp.asarray(pts), K))
    groups = {tuple(sorted(np.flatnonzero(labels == j))) for j in range(K)}
    assert groups == {(0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11)}


def test_fold_rejects_bad_options():
    w = np.ones((N, D))
    with pytest.raises(ValueError, match="seeding"):
        fold(w, K, key=jax.random.key(0), seeding="agglomerative")
    with pytest.raises(ValueError, match="split_merge_iter"):
        fold(w, K, key=jax.random.key(0), split_merge_iter=-1)
