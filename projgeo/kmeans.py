"""Folding by k-means, in JAX and jit-compiled (C2, C4).

Folding replaces each row by its cluster mean, so the best folding at rank k is the
k-means partition of the rows: ``OPT_fold(k) = min_{|π|=k} Σ_j Σ_{i∈G_j} ||w_i − μ_j||²``.
k-means is NP-hard; this module gives the standard heuristic with one extra promise:

* **k-means++** initialisation (greedy, ``2 + ⌊ln k⌋`` local trials as in scikit-learn)
  from an explicit ``jax.random`` key;
* **Lloyd** iterations (assign to the nearest mean, recompute means);
* **Hartigan** refinement: single-row moves from cluster a to b, which change the inertia
  by exactly ``Δ = n_b/(n_b+1)·||x−μ_b||² − n_a/(n_a−1)·||x−μ_a||²``. Moves are made in
  parallel batches whose clusters are pairwise disjoint, so their Δ add up exactly;
* **warm start** from a given partition (the certified fold of C4(ii) starts from ``π_{S*}``).

Monotonicity is enforced, not hoped for: every phase recomputes the inertia of its
candidate partition directly and keeps it only if it is not larger than the current
one. Started from a partition, the result's inertia never exceeds the start's (as
computed in the input dtype). Every returned partition has k non-empty clusters:
an empty cluster is filled by the row farthest from its mean among clusters with two or
more rows, which lowers the inertia by ``n_a/(n_a−1)·||x−μ_a||²``.

Distances go through matrix products, ``||x||² − 2 x·μ + ||μ||²``: memory
``O(n·k + n·d)``, never an ``n×k×d`` intermediate. Quantities that decide a move are
recomputed from differences, so cancellation in the matrix-product form cannot make a
move that increases the inertia.

Reference: Lloyd (1982); Arthur & Vassilvitskii (2007), k-means++; Hartigan & Wong
(1979); Telgarsky & Vattani (2010), Hartigan's method; THEORY.md C2, C4.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, Scalar

from projgeo import _checks
from projgeo.projectors import FoldProjector


class KMeansResult(NamedTuple):
    """Result of :func:`fold`.

    Attributes:
      labels: (n,) int32 cluster of each row; all k clusters are non-empty.
      centroids: (k, d) cluster means, dtype of the weights.
      inertia: ``E_fold`` of ``labels``, computed from differences.
      iterations: Lloyd plus Hartigan iterations performed.
      converged: True if both phases stopped before their iteration caps.
    """

    labels: Int[Array, " n"]
    centroids: Float[Array, "k d"]
    inertia: Scalar
    iterations: Int[Array, ""]
    converged: Bool[Array, ""]

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of this partition."""
        return FoldProjector(self.labels, self.centroids.shape[-2])


# ---------------------------------------------------------------------------
# Kernels (unvalidated, static k; shapes fixed so they jit and vmap).


def _counts(labels, k: int):
    return jnp.zeros(k, jnp.int32).at[labels].add(1)


def _means(w, labels, k: int):
    sums = jax.ops.segment_sum(w, labels, num_segments=k)
    return sums / jnp.maximum(_counts(labels, k), 1).astype(w.dtype)[:, None]


def _inertia(w, labels, k: int):
    r = w - _means(w, labels, k)[labels]
    return jnp.sum(r * r)


def _sq_dists(w, sq_w, c):
    """(n, m) squared distances through one matrix product, clipped at 0."""
    d2 = sq_w[:, None] - 2.0 * (w @ c.T) + jnp.sum(c * c, axis=1)[None, :]
    return jnp.maximum(d2, 0.0)


def _fill_empty(w, labels, k: int):
    """Give every empty cluster one row, never increasing the inertia (see module doc)."""
    r = w - _means(w, labels, k)[labels]
    own = jnp.sum(r * r, axis=1)

    def cond(state):
        labels, _, _ = state
        return jnp.any(_counts(labels, k) == 0)

    def body(state):
        labels, counts, own = state
        b = jnp.argmax(counts == 0)
        movable = counts[labels] >= 2
        i = jnp.argmax(jnp.where(movable, own, -1.0))
        counts = counts.at[labels[i]].add(-1).at[b].add(1)
        return labels.at[i].set(b.astype(jnp.int32)), counts, own.at[i].set(-1.0)

    labels, _, _ = jax.lax.while_loop(cond, body, (labels, _counts(labels, k), own))
    return labels


def _kmeans_plusplus(w, k: int, key, n_local_trials: int):
    """Greedy k-means++ centres (indices of rows of ``w``)."""
    n = w.shape[0]
    sq_w = jnp.sum(w * w, axis=1)
    key, sub = jax.random.split(key)
    first = jax.random.randint(sub, (), 0, n, dtype=jnp.int32)
    closest = jnp.sum((w - w[first]) ** 2, axis=1)
    centres = jnp.zeros(k, jnp.int32).at[0].set(first)

    def body(j, state):
        centres, closest, key = state
        key, sub = jax.random.split(key)
        total = jnp.sum(closest)
        # All remaining mass zero (duplicate rows): sample uniformly instead.
        logits = jnp.where(total > 0, jnp.log(jnp.where(closest > 0, closest, 0.0)), 0.0)
        cand = jax.random.categorical(sub, logits, shape=(n_local_trials,))
        d2 = _sq_dists(w, sq_w, w[cand])  # (n, trials)
        pot = jnp.minimum(closest[:, None], d2)
        best = jnp.argmin(jnp.sum(pot, axis=0))
        return centres.at[j].set(cand[best].astype(jnp.int32)), pot[:, best], key

    centres, _, _ = jax.lax.fori_loop(1, k, body, (centres, closest, key))
    return centres


def _lloyd(w, labels, k: int, max_iter: int, tol: float):
    """Lloyd iterations from a partition; keeps a step only if the inertia does not rise."""
    sq_w = jnp.sum(w * w, axis=1)
    inertia = _inertia(w, labels, k)

    def cond(state):
        _, _, it, done = state
        return (it < max_iter) & ~done

    def body(state):
        labels, inertia, it, _ = state
        new = jnp.argmin(_sq_dists(w, sq_w, _means(w, labels, k)), axis=1).astype(jnp.int32)
        new = _fill_empty(w, new, k)
        new_inertia = _inertia(w, new, k)
        better = new_inertia <= inertia
        stalled = jnp.all(new == labels) | (inertia - new_inertia <= tol * inertia)
        labels = jnp.where(better, new, labels)
        inertia = jnp.where(better, new_inertia, inertia)
        return labels, inertia, it + 1, stalled | ~better

    labels, inertia, it, done = jax.lax.while_loop(
        cond, body, (labels, inertia, jnp.int32(0), jnp.bool_(False))
    )
    return labels, inertia, it, done


def _hartigan_moves(w, sq_w, labels, k: int):
    """One batch of improving, pairwise cluster-disjoint single-row moves."""
    n = w.shape[0]
    idx = jnp.arange(n, dtype=jnp.int32)
    counts = _counts(labels, k)
    mu = _means(w, labels, k)
    cf = counts.astype(w.dtype)
    own = jnp.sum((w - mu[labels]) ** 2, axis=1)
    add = (cf / (cf + 1.0))[None, :] * _sq_dists(w, sq_w, mu)
    add = jnp.where(jax.nn.one_hot(labels, k, dtype=bool), jnp.inf, add)
    target = jnp.argmin(add, axis=1).astype(jnp.int32)
    # Exact Δ from differences for the chosen move.
    gain = jnp.where(counts[labels] >= 2, cf[labels] / jnp.maximum(cf[labels] - 1.0, 1.0), 0.0)
    cost_out = gain * own
    cost_in = cf[target] / (cf[target] + 1.0) * jnp.sum((w - mu[target]) ** 2, axis=1)
    delta = cost_in - cost_out
    slack = 16.0 * jnp.finfo(w.dtype).eps * (cost_in + cost_out)
    cand = (counts[labels] >= 2) & (delta < -slack)
    key = jnp.where(cand, delta, jnp.inf)

    def winners(groups, mask):
        # The best (lowest Δ, then lowest index) masked row of each group.
        kk = jnp.where(mask, key, jnp.inf)
        gmin = jax.ops.segment_min(kk, groups, num_segments=k)
        at_min = mask & (kk == gmin[groups])
        first = jax.ops.segment_min(jnp.where(at_min, idx, n), groups, num_segments=k)
        return mask & (first[groups] == idx), first

    sel, _ = winners(labels, cand)
    sel, _ = winners(target, sel)
    # Now sources are distinct and targets are distinct; resolve a cluster being the
    # source of one move and the target of another by priority (Δ, index).
    src_row = jnp.full(k, n, jnp.int32).at[jnp.where(sel, labels, k)].set(idx, mode="drop")
    tgt_row = jnp.full(k, n, jnp.int32).at[jnp.where(sel, target, k)].set(idx, mode="drop")
    key_ext = jnp.append(key, jnp.inf)

    def beats(other):  # does this row's move take priority over row ``other``?
        return (other == n) | (key < key_ext[other]) | ((key == key_ext[other]) & (idx < other))

    keep = sel & beats(src_row[target]) & beats(tgt_row[labels])
    return jnp.where(keep, target, labels), jnp.any(keep)


def _hartigan(w, labels, k: int, max_iter: int):
    sq_w = jnp.sum(w * w, axis=1)
    inertia = _inertia(w, labels, k)

    def cond(state):
        _, _, it, done = state
        return (it < max_iter) & ~done

    def body(state):
        labels, inertia, it, _ = state
        new, moved = _hartigan_moves(w, sq_w, labels, k)
        new_inertia = _inertia(w, new, k)
        better = moved & (new_inertia <= inertia)
        labels = jnp.where(better, new, labels)
        inertia = jnp.where(better, new_inertia, inertia)
        return labels, inertia, it + 1, ~better

    return jax.lax.while_loop(cond, body, (labels, inertia, jnp.int32(0), jnp.bool_(False)))


@functools.partial(
    jax.jit, static_argnames=("k", "max_iter", "refine_iter", "n_local_trials", "warm")
)
def _fold_kernel(w, init_labels, key, tol, *, k, max_iter, refine_iter, n_local_trials, warm):
    if warm:
        labels = _fill_empty(w, init_labels, k)
    else:
        centres = _kmeans_plusplus(w, k, key, n_local_trials)
        sq_w = jnp.sum(w * w, axis=1)
        labels = jnp.argmin(_sq_dists(w, sq_w, w[centres]), axis=1).astype(jnp.int32)
        labels = _fill_empty(w, labels, k)
    labels, inertia, it1, done1 = _lloyd(w, labels, k, max_iter, tol)
    it2, done2 = jnp.int32(0), jnp.bool_(True)
    if refine_iter > 0:
        labels, inertia, it2, done2 = _hartigan(w, labels, k, refine_iter)
    return KMeansResult(labels, _means(w, labels, k), inertia, it1 + it2, done1 & done2)


def fold(
    w: Float[Array, "n d"],
    k: int,
    *,
    key: jax.Array | None = None,
    init: Int[Array, " n"] | None = None,
    max_iter: int = 300,
    refine_iter: int = 1000,
    tol: float = 0.0,
    n_local_trials: int | None = None,
) -> KMeansResult:
    """Fold the rows of ``w`` into ``k`` clusters by k-means (C2, C4).

    Either ``key`` (k-means++ start) or ``init`` (warm start from a partition) is given.
    Then Lloyd iterations run until the labels stop changing, the relative decrease
    of the inertia is ≤ ``tol``, or ``max_iter``; then Hartigan refinement for at most
    ``refine_iter`` batches (0 disables it). From a warm start the returned inertia is
    never above the inertia of ``init`` (see the module docstring).

    Args:
      w: (n, d) floating weights.
      k: number of clusters, ``1 ≤ k ≤ n``.
      key: a ``jax.random`` key for k-means++ (ignored with ``init``).
      init: (n,) integer labels in [0, k) of a starting partition; empty clusters are
        filled first (which never increases the inertia).
      max_iter: cap on Lloyd iterations.
      refine_iter: cap on Hartigan batches.
      tol: relative inertia decrease under which Lloyd stops.
      n_local_trials: k-means++ candidates per centre (default ``2 + ⌊ln k⌋``).

    Returns:
      A :class:`KMeansResult`.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k``, ``init`` or options, or if neither
        ``key`` nor ``init`` is given.
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    max_iter = _checks.check_k(max_iter, 1 << 30, "max_iter")
    refine_iter = int(refine_iter)
    if refine_iter < 0:
        raise ValueError(f"refine_iter must be ≥ 0; got {refine_iter}.")
    if not (isinstance(tol, int | float) and 0.0 <= tol < 1.0):
        raise ValueError(f"tol must be a float in [0, 1); got {tol!r}.")
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(k))
    n_local_trials = _checks.check_k(n_local_trials, 1 << 20, "n_local_trials")
    if init is None:
        if key is None:
            raise ValueError("fold needs key= (a jax.random key for k-means++) or init= labels.")
        init_labels = jnp.zeros(n, jnp.int32)
    else:
        init_labels = _checks.check_labels(init, n, k, allow_empty=True, name="init")
        key = jax.random.key(0)  # unused on the warm path; keeps one signature
    return _fold_kernel(
        w, init_labels, key, jnp.asarray(tol, w.dtype), k=k, max_iter=max_iter,
        refine_iter=refine_iter, n_local_trials=n_local_trials, warm=init is not None,
    )
