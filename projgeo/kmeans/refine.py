"""Refinement phases of k-means folding: Lloyd, Hartigan and split–merge (C2, C4).

Each phase maps a partition with k non-empty clusters to one whose inertia is not larger;
monotonicity is enforced, not hoped for: a phase recomputes the inertia of its candidate
partition from differences and keeps it only if it is not larger (split–merge: strictly
smaller). All three work on a :class:`State` that carries the ``n×k`` matrix of squared
distances to the current means; after a step only the columns of clusters that changed are
recomputed (one ``n×m`` matrix product), unless more than ``cols`` changed. The tail of a
refinement, where few rows move, then costs ``O(n·d·cols)`` per step instead of ``O(n·d·k)``.
Arrays have a static capacity ``cap`` (``State.sizes.shape``) and ``k ≤ cap`` may be
traced: the unused clusters ``k…cap−1`` sit at distance +inf, are never a move's target
and never merge, so one program serves every k of its capacity.

* **Lloyd**: every row to its nearest mean, means recomputed.
* **Hartigan**: single-row moves a → b, which change the inertia by exactly
  ``Δ = n_b/(n_b+1)·||x−μ_b||² − n_a/(n_a−1)·||x−μ_a||²``, made in batches whose clusters
  are pairwise disjoint so that their Δ add up.
* **split–merge**: a move neither of the others can make. Merging clusters a, b costs
  ``n_a n_b/(n_a+n_b)·||μ_a−μ_b||²`` (Ward's criterion); splitting c in two along its
  principal direction gains ``n_1 n_2/(n_1+n_2)·||μ_1−μ_2||²``. The cheapest merges of
  mutually nearest clusters are paired with the largest splits of other clusters while
  gain > cost; the merged cluster's label goes to the split's new half. Each accepted
  round is followed by Hartigan. On clustered rows this is what closes the gap to Ward.

Reference: Lloyd (1982); Hartigan & Wong (1979); Telgarsky & Vattani (2010); Ward (1963).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from projgeo.kmeans._kernels import (
    changed_clusters,
    counts,
    fill_empty,
    masked_dists,
    means,
    row_costs,
    sq_dists,
    valid_clusters,
)
from projgeo.kmeans.seeding import split_proposals


class State(NamedTuple):
    """A partition with everything the phases reuse."""

    labels: jax.Array  # (n,) int32
    sizes: jax.Array  # (k,) int32
    mu: jax.Array  # (k, d) means
    dist: jax.Array  # (n, cap) squared distances to mu (matrix-product form), +inf if unused
    inertia: jax.Array  # scalar, from differences


def make_state(w, sq_w, labels, cap: int, k=None) -> State:
    """State of ``labels`` with capacity ``cap`` and ``k`` clusters in use (default all)."""
    sizes = counts(labels, cap)
    mu = means(w, labels, cap, sizes)
    return State(labels, sizes, mu, masked_dists(w, sq_w, mu, k),
                 jnp.sum(row_costs(w, mu, labels)))


def _refresh(w, sq_w, dist, mu, changed, cols: int, k):
    """Distances to ``mu``, recomputing only the changed columns when there are ≤ cols."""
    cap = mu.shape[0]
    if cols >= cap:
        return masked_dists(w, sq_w, mu, k)

    def partial(dist):
        # Only clusters in use change, so the +inf columns stay as they are.
        idx = jnp.nonzero(changed, size=cols, fill_value=cap)[0]
        new = sq_dists(w, sq_w, mu[jnp.minimum(idx, cap - 1)])
        return dist.at[:, idx].set(new, mode="drop")

    return jax.lax.cond(
        jnp.sum(changed) <= cols, partial, lambda _: masked_dists(w, sq_w, mu, k), dist
    )


def _advance(w, sq_w, st: State, new, k, cols: int, strict: bool = False):
    """State of labels ``new`` if its inertia is ≤ (``strict``: <) the current; else ``st``."""
    cap = st.sizes.shape[0]
    sizes = counts(new, cap)
    mu = means(w, new, cap, sizes)
    inert = jnp.sum(row_costs(w, mu, new))
    better = inert < st.inertia if strict else inert <= st.inertia
    dist = _refresh(w, sq_w, st.dist, mu, changed_clusters(st.labels, new, cap), cols, k)
    cand = State(new, sizes, mu, dist, inert)
    return jax.tree.map(lambda a, b: jnp.where(better, a, b), cand, st), better


def lloyd(w, sq_w, st: State, k, max_iter: ArrayLike, tol, cols: int):
    """Lloyd iterations; stop on no change, relative decrease ≤ tol, or a rise."""
    cap = st.sizes.shape[0]

    def cond(c):
        _, it, done = c
        return (it < max_iter) & ~done

    def body(c):
        st, it, _ = c
        new = fill_empty(w, jnp.argmin(st.dist, axis=1).astype(jnp.int32), cap, k)
        nxt, better = _advance(w, sq_w, st, new, k, cols)
        stalled = jnp.all(new == st.labels) | (st.inertia - nxt.inertia <= tol * st.inertia)
        return nxt, it + 1, stalled | ~better

    st, it, done = jax.lax.while_loop(cond, body, (st, jnp.int32(0), jnp.bool_(False)))
    return st, it, done


def hartigan_moves(w, st: State, k=None):
    """One batch of improving, pairwise cluster-disjoint single-row moves: (labels, any)."""
    labels, n, cap = st.labels, w.shape[0], st.sizes.shape[0]
    idx = jnp.arange(n, dtype=jnp.int32)
    cf = st.sizes.astype(w.dtype)
    own = row_costs(w, st.mu, labels)
    add = (cf / (cf + 1.0))[None, :] * st.dist
    own_col = jnp.arange(cap)[None, :] == labels[:, None]
    # Unused clusters: 0·inf would be NaN, so they are masked here rather than by dist.
    add = jnp.where(own_col | ~valid_clusters(cap, k)[None, :], jnp.inf, add)
    target = jnp.argmin(add, axis=1).astype(jnp.int32)
    # Exact Δ from differences for the chosen move.
    src = cf[labels]
    cost_out = jnp.where(st.sizes[labels] >= 2, src / jnp.maximum(src - 1.0, 1.0), 0.0) * own
    cost_in = cf[target] / (cf[target] + 1.0) * row_costs(w, st.mu, target)
    delta = cost_in - cost_out
    slack = 16.0 * jnp.finfo(w.dtype).eps * (cost_in + cost_out)
    cand = (st.sizes[labels] >= 2) & (delta < -slack)
    key = jnp.where(cand, delta, jnp.inf)

    def winners(groups, mask):
        # The best (lowest Δ, then lowest index) masked row of each group.
        kk = jnp.where(mask, key, jnp.inf)
        gmin = jax.ops.segment_min(kk, groups, num_segments=cap)
        at_min = mask & (kk == gmin[groups])
        first = jax.ops.segment_min(jnp.where(at_min, idx, n), groups, num_segments=cap)
        return mask & (first[groups] == idx)

    sel = winners(target, winners(labels, cand))
    # Sources are now distinct and targets distinct; a cluster that is the source of one
    # move and the target of another goes to the move of higher priority (Δ, index).
    src_row = jnp.full(cap, n, jnp.int32).at[jnp.where(sel, labels, cap)].set(idx, mode="drop")
    tgt_row = jnp.full(cap, n, jnp.int32).at[jnp.where(sel, target, cap)].set(idx, mode="drop")
    key_ext = jnp.append(key, jnp.inf)

    def beats(other):
        return (other == n) | (key < key_ext[other]) | ((key == key_ext[other]) & (idx < other))

    keep = sel & beats(src_row[target]) & beats(tgt_row[labels])
    return jnp.where(keep, target, labels), jnp.any(keep)


def hartigan(w, sq_w, st: State, k, max_iter: ArrayLike, cols: int):
    """Hartigan batches until none improves or ``max_iter``."""

    def cond(c):
        _, it, done = c
        return (it < max_iter) & ~done

    def body(c):
        st, it, _ = c
        new, moved = hartigan_moves(w, st, k)
        nxt, better = _advance(w, sq_w, st, new, k, cols)
        return nxt, it + 1, ~(moved & better)

    if isinstance(max_iter, int) and max_iter == 0:
        return st, jnp.int32(0), jnp.bool_(True)
    return jax.lax.while_loop(cond, body, (st, jnp.int32(0), jnp.bool_(False)))


def split_merge_proposal(w, st: State, k=None):
    """Labels after the profitable merge/split pairs of one round, and how many."""
    labels, mu, cap = st.labels, st.mu, st.sizes.shape[0]
    k = cap if k is None else k
    idx = jnp.arange(cap, dtype=jnp.int32)
    cf = st.sizes.astype(w.dtype)
    side, gain = split_proposals(w, labels, cap)
    sq = jnp.sum(mu * mu, axis=1)
    d2 = jnp.maximum(sq[:, None] - 2.0 * (mu @ mu.T) + sq[None, :], 0.0)
    cost = cf[:, None] * cf[None, :] / jnp.maximum(cf[:, None] + cf[None, :], 1.0) * d2
    valid = valid_clusters(cap, k)
    cost = jnp.where((idx[:, None] == idx[None, :]) | ~valid[:, None] | ~valid[None, :],
                     jnp.inf, cost)
    partner = jnp.argmin(cost, axis=1).astype(jnp.int32)
    mutual = (partner[partner] == idx) & (idx < partner)
    mcost = jnp.where(mutual, jnp.min(cost, axis=1), jnp.inf)
    morder = jnp.argsort(mcost).astype(jnp.int32)
    mcost = mcost[morder]
    # r* pairs are profitable against all splits; exclude their clusters from splitting,
    # so that merges and splits touch disjoint clusters and their changes add up.
    g_all = jnp.sort(jnp.where(gain > 0, gain, -jnp.inf))[::-1]
    r_star = jnp.sum(g_all > mcost)
    first = idx < r_star
    merged = jnp.zeros(cap + 1, bool).at[jnp.where(first, morder, cap)].set(True)
    merged = merged.at[jnp.where(first, partner[morder], cap)].set(True)[:cap]
    g = jnp.where(merged | (gain <= 0), -jnp.inf, gain)
    sorder = jnp.argsort(-g).astype(jnp.int32)
    ok = (g[sorder] > mcost) & first
    a, b = morder, partner[morder]
    relabel = idx.at[jnp.where(ok, b, cap)].set(a, mode="drop")
    to_half = jnp.full(cap, -1, jnp.int32).at[jnp.where(ok, sorder, cap)].set(b, mode="drop")
    new = relabel[labels]
    t = to_half[labels]
    return jnp.where((t >= 0) & side, t, new).astype(jnp.int32), jnp.sum(ok)


def split_merge(w, sq_w, st: State, k, rounds: ArrayLike, refine_iter: ArrayLike, cols: int):
    """Rounds of split–merge, each followed by Hartigan, while the inertia strictly drops."""

    def cond(c):
        _, r, done, _ = c
        return (r < rounds) & ~done

    def body(c):
        st, r, _, it = c
        new, accepted = split_merge_proposal(w, st, k)
        cand, ok = _advance(w, sq_w, st, fill_empty(w, new, cap, k), k, cols, strict=True)
        cand, it2, _ = hartigan(w, sq_w, cand, k, refine_iter, cols)
        better = ok & (accepted > 0) & (cand.inertia < st.inertia)
        st = jax.tree.map(lambda a, b: jnp.where(better, a, b), cand, st)
        return st, r + 1, ~better, it + it2

    cap = st.sizes.shape[0]
    # A traced k < 3 needs no test here: it finds no merge/split pair to accept.
    if cap < 3 or (isinstance(rounds, int) and rounds == 0):
        return st, jnp.int32(0)
    st, _, _, it = jax.lax.while_loop(
        cond, body, (st, jnp.int32(0), jnp.bool_(False), jnp.int32(0))
    )
    return st, it
