"""Shared k-means kernels: cluster sizes, means, inertia, distances, empty-cluster repair.

Unvalidated, with a static *capacity* ``cap`` (array shapes) and, where it matters, a
traced number of clusters ``k ≤ cap``: clusters ``k…cap−1`` are empty, never chosen, and
contribute nothing, so one compiled program serves every ``k`` of its capacity bucket.
:mod:`projgeo.kmeans` validates at the public boundary. Distances go through matrix products,
``||x||² − 2 x·μ + ||μ||²``, and only ever choose candidates: every quantity that decides
whether a move is made is recomputed from differences ``x − μ``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: Up to this many clusters, sums and gathers by cluster use one-hot matrix products
#: instead of scatters: under ``vmap`` on a CPU, XLA's batched scatter costs far more per
#: element than a small dense product (the batched C4 check folds 20,000 tiny matrices).
DENSE_K = 32


def _one_hot(labels, k: int, dtype):
    return (labels[:, None] == jnp.arange(k, dtype=labels.dtype)[None, :]).astype(dtype)


def counts(labels, k: int):
    """Cluster sizes (k,) int32."""
    if k <= DENSE_K:
        return jnp.sum(_one_hot(labels, k, jnp.int32), axis=0, dtype=jnp.int32)
    return jnp.zeros(k, jnp.int32).at[labels].add(1)


def means(w, labels, k: int, sizes=None):
    """Cluster means (k, d); an empty cluster gets the zero vector."""
    sizes = counts(labels, k) if sizes is None else sizes
    if k <= DENSE_K:
        sums = _one_hot(labels, k, w.dtype).T @ w
    else:
        sums = jax.ops.segment_sum(w, labels, num_segments=k)
    return sums / jnp.maximum(sizes, 1).astype(w.dtype)[:, None]


def rows_of(mu, labels):
    """``mu[labels]``: each row's cluster vector (a one-hot product for small k)."""
    k = mu.shape[0]
    return _one_hot(labels, k, mu.dtype) @ mu if k <= DENSE_K else mu[labels]


def row_costs(w, mu, labels):
    """``||w_i − μ_{l_i}||²`` for every row, from differences."""
    r = w - rows_of(mu, labels)
    return jnp.sum(r * r, axis=1)


def inertia(w, labels, k: int):
    """``E_fold = Σ_i ||w_i − μ_{l_i}||²`` from differences (C2)."""
    return jnp.sum(row_costs(w, means(w, labels, k), labels))


def sq_dists(w, sq_w, c):
    """(n, m) squared distances through one matrix product, clipped at 0."""
    d2 = sq_w[:, None] - 2.0 * (w @ c.T) + jnp.sum(c * c, axis=1)[None, :]
    return jnp.maximum(d2, 0.0)


def changed_clusters(old, new, k: int):
    """(k,) bool: clusters that lost or gained a row between two labelings."""
    diff = old != new
    hit = jnp.zeros(k + 1, bool)
    hit = hit.at[jnp.where(diff, old, k)].set(True).at[jnp.where(diff, new, k)].set(True)
    return hit[:k]


def valid_clusters(cap: int, k=None):
    """(cap,) bool: the clusters in use, ``j < k`` (all of them when ``k`` is None)."""
    return jnp.arange(cap) < (cap if k is None else k)


def masked_dists(w, sq_w, mu, k=None):
    """(n, cap) squared distances to ``mu``; +inf for the unused clusters ``j ≥ k``."""
    d2 = sq_dists(w, sq_w, mu)
    return d2 if k is None else jnp.where(valid_clusters(mu.shape[0], k)[None, :], d2, jnp.inf)


def fill_empty(w, labels, cap: int, k=None):
    """Give every empty cluster ``j < k`` one row, never increasing the inertia.

    The row moved is the one farthest from its mean among clusters with two or more rows;
    moving it out alone lowers the inertia by ``n_a/(n_a−1)·||x−μ_a||²``.
    """
    own = row_costs(w, means(w, labels, cap), labels)
    valid = valid_clusters(cap, k)

    def cond(state):
        _, sizes, _ = state
        return jnp.any((sizes == 0) & valid)

    def body(state):
        labels, sizes, own = state
        b = jnp.argmax((sizes == 0) & valid)
        movable = sizes[labels] >= 2
        i = jnp.argmax(jnp.where(movable, own, -1.0))
        sizes = sizes.at[labels[i]].add(-1).at[b].add(1)
        return labels.at[i].set(b.astype(jnp.int32)), sizes, own.at[i].set(-1.0)

    labels, _, _ = jax.lax.while_loop(cond, body, (labels, counts(labels, cap), own))
    return labels
