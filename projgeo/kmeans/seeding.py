"""Seeding for k-means folding: greedy k-means++ and bisecting PCA splits (C2, C4).

Both return a starting partition (or centres) for the Lloyd and Hartigan phases of
:func:`projgeo.fold`; neither changes what ``fold`` promises, only where it starts.

* **k-means++** (Arthur & Vassilvitskii 2007), greedy with ``2 + ⌊ln k⌋`` local trials as
  in scikit-learn: ``O(trials·n·k·d)`` work in ``k`` serial, memory-bound steps.
* **bisect**: top-down divisive clustering. Every level splits each cluster along its
  top principal direction (a few power iterations of ``Σ_{i∈c} r_i r_iᵀ``, ``r_i = w_i − μ_c``),
  polishes the split by 2-means inside the cluster, and keeps the splits of largest gain,
  which is exactly ``n_a n_b / (n_a + n_b) · ||μ_a − μ_b||²`` (the inertia a split removes).
  At most ``⌈log_g k⌉`` levels (``g`` the growth per level), each ``O(n·d)``: all clusters
  split at once by segment sums, with no ``n×k`` distance matrix.

Reference: Savaresi & Boley (2004), bisecting k-means and PDDP; Steinbach et al. (2000).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from projgeo.kmeans._kernels import counts, masked_dists, means, sq_dists

#: Power iterations for a split direction, and 2-means passes that polish the split:
#: split–merge proposals (few, each decisive) get more than the seeding levels.
POWER_ITER, TWO_MEANS_ITER = 3, 5
SEED_POWER_ITER, SEED_TWO_MEANS_ITER = 2, 3


def kmeans_plusplus(w, cap: int, key, n_local_trials: int, k=None):
    """Greedy k-means++: indices (cap,) of the rows chosen as centres (the first k used)."""
    n = w.shape[0]
    sq_w = jnp.sum(w * w, axis=1)
    key, sub = jax.random.split(key)
    first = jax.random.randint(sub, (), 0, n, dtype=jnp.int32)
    closest = jnp.sum((w - w[first][None, :]) ** 2, axis=1)
    centres = jnp.zeros(cap, jnp.int32).at[0].set(first)

    def body(j, state):
        centres, closest, key = state
        key, sub = jax.random.split(key)
        total = jnp.sum(closest)
        # All remaining mass zero (duplicate rows): sample uniformly instead.
        logits = jnp.where(total > 0, jnp.log(jnp.where(closest > 0, closest, 0.0)), 0.0)
        cand = jax.random.categorical(sub, logits, shape=(n_local_trials,))
        pot = jnp.minimum(closest[:, None], sq_dists(w, sq_w, w[cand]))  # (n, trials)
        best = jnp.argmin(jnp.sum(pot, axis=0))
        return centres.at[j].set(cand[best].astype(jnp.int32)), pot[:, best], key

    centres, _, _ = jax.lax.fori_loop(1, cap if k is None else k, body, (centres, closest, key))
    return centres


def nearest_centre(w, sq_w, centres, k=None):
    """Labels (n,): each row to its nearest chosen centre among the first k."""
    return jnp.argmin(masked_dists(w, sq_w, w[centres], k), axis=1).astype(jnp.int32)


def split_proposals(w, labels, k: int, power_iter: int = POWER_ITER,
                    two_means_iter: int = TWO_MEANS_ITER):
    """Propose a 2-way split of every cluster at once (deterministic).

    The split direction starts from the residual of each cluster's farthest row and is
    refined by ``power_iter`` power iterations; the split is polished by 2-means.

    Returns:
      ``(side, gain)``: ``side`` (n,) bool, the half each row would move to; ``gain`` (k,),
      the inertia the split removes, ``n_a n_b/(n_a+n_b)·||μ_a − μ_b||²``, or −1 where a
      half would be empty.
    """
    n = w.shape[0]
    r = w - means(w, labels, k)[labels]
    own = jnp.sum(r * r, axis=1)
    far = own == jax.ops.segment_max(own, labels, num_segments=k)[labels]
    idx = jnp.arange(n, dtype=jnp.int32)
    far_row = jax.ops.segment_min(jnp.where(far, idx, n), labels, num_segments=k)
    v = r[jnp.minimum(far_row, n - 1)]

    def power(_, v):
        s = jnp.sum(r * v[labels], axis=1)
        v = jax.ops.segment_sum(s[:, None] * r, labels, num_segments=k)
        return v / jnp.maximum(jnp.linalg.norm(v, axis=1, keepdims=True), jnp.finfo(w.dtype).tiny)

    v = jax.lax.fori_loop(0, power_iter, power, v)
    side = jnp.sum(r * v[labels], axis=1) > 0

    def halves(side):
        sub = jnp.where(side, labels + k, labels)
        c2 = counts(sub, 2 * k)
        return c2, means(r, sub, 2 * k, c2)

    def polish(_, side):
        _, m2 = halves(side)
        a, b = m2[:k][labels], m2[k:][labels]
        # nearer to b than to a  ⇔  r·(b − a) > (||b||² − ||a||²)/2
        return jnp.sum(r * (b - a), axis=1) > 0.5 * jnp.sum(b * b - a * a, axis=1)

    side = jax.lax.fori_loop(0, two_means_iter, polish, side)
    sub = jnp.where(side, labels + k, labels)
    c2 = counts(sub, 2 * k)
    m2 = means(w, sub, 2 * k, c2)
    na, nb = c2[:k].astype(w.dtype), c2[k:].astype(w.dtype)
    gain = na * nb / jnp.maximum(na + nb, 1.0) * jnp.sum((m2[:k] - m2[k:]) ** 2, axis=1)
    ok = (c2[:k] > 0) & (c2[k:] > 0)
    return side, jnp.where(ok, gain, -1.0)


def bisect(w, cap: int, k=None, *, growth: float = 2.0, power_iter: int = SEED_POWER_ITER,
           two_means_iter: int = SEED_TWO_MEANS_ITER):
    """Bisecting seeding: labels (n,) in [0, k), built top-down (see module docstring).

    Level by level, splits the ``min(⌈(growth−1)·m⌉, k−m)`` clusters of largest gain
    (``m`` clusters so far). Stops at ``k`` clusters or when no cluster can split (all rows
    of every cluster equal); remaining empty clusters are left for the caller to fill.
    Arrays have capacity ``cap``; ``k ≤ cap`` (default ``cap``) may be traced.
    """
    n = w.shape[0]
    k = cap if k is None else k
    labels = jnp.zeros(n, jnp.int32)
    rank_of = jnp.arange(cap, dtype=jnp.int32)

    def cond(state):
        _, m, stuck = state
        return (m < k) & ~stuck

    def body(state):
        labels, m, _ = state
        side, gain = split_proposals(w, labels, cap, power_iter, two_means_iter)
        budget = jnp.minimum(jnp.ceil((growth - 1.0) * m).astype(jnp.int32), k - m)
        order = jnp.argsort(-gain)
        rank = jnp.zeros(cap, jnp.int32).at[order].set(rank_of)
        chosen = (rank < budget) & (gain >= 0)
        new = jnp.where(side & chosen[labels], m + rank[labels], labels)
        added = jnp.sum(chosen).astype(jnp.int32)
        return new, m + added, added == 0

    labels, _, _ = jax.lax.while_loop(cond, body, (labels, jnp.int32(1), False))
    return labels


#: Largest n for ``seeding="ward"``: each round holds an n×n matrix of merge costs.
AGGLOMERATE_MAX_N = 8192


def merged_distances(d2, sizes, chosen, partner):
    """Squared distances between cluster means after cluster ``partner[a]`` joins ``a`` for
    every chosen ``a`` (disjoint pairs), without the rows (Lance–Williams): for
    ``A = a ∪ b`` and any point y, ``||μ_A − y||² = α||μ_a − y||² + β||μ_b − y||² −
    αβ||μ_a − μ_b||²``, ``α = n_a/n_A``, ``β = n_b/n_A``; once over the rows of ``d2``, once
    over its columns. Returns (d2, sizes, gone): the merged-away clusters have size 0.
    """
    n = d2.shape[0]
    idx = jnp.arange(n, dtype=jnp.int32)
    q = jnp.where(chosen, partner, idx)
    s_q = jnp.where(chosen, sizes[q], 0.0)
    alpha = sizes / jnp.maximum(sizes + s_q, 1.0)
    beta = s_q / jnp.maximum(sizes + s_q, 1.0)
    corr = alpha * beta * d2[idx, q]
    r = alpha[:, None] * d2 + beta[:, None] * d2[q, :] - corr[:, None]
    d2 = jnp.maximum(alpha[None, :] * r + beta[None, :] * r[:, q] - corr[None, :], 0.0)
    gone = jnp.zeros(n, bool).at[jnp.where(chosen, partner, n)].set(True, mode="drop")
    return d2, jnp.where(gone, 0.0, sizes + s_q), gone


def agglomerate(w, k):
    """Ward-like seeding: labels (n,) in [0, k) by rounds of reciprocal-nearest merges.

    Starts from n singletons and their n×n squared distances (one product). Each round
    takes the Ward cost of merging every pair of live clusters,
    ``n_a n_b/(n_a+n_b)·||μ_a−μ_b||²``, and
    merges the cheapest pairs that are each other's cheapest partner (all of them while
    they are at most half of the ``m − k`` merges still needed, m live clusters; else the
    cheapest ``⌈(m − k)/2⌉``), until k remain. Reciprocal-nearest merges are the ones Ward's
    greedy order makes too (Ward's cost is reducible), so the result is close to Ward's
    cut at k; near the cut the merges per round halve, so n/k = 2 takes about log₂ n
    rounds; the distances of merged clusters follow by the Lance–Williams update, so a
    round is ``O(n²)``. ``O(n²·d + rounds·n²)`` time and ``O(n²)`` memory: meant for
    small n/k, where one Lloyd step from a top-down seeding barely moves (each cluster has
    one or two rows).

    Reference: Ward (1963); Murtagh (1983), reciprocal nearest neighbours.
    """
    n = w.shape[0]
    idx = jnp.arange(n, dtype=jnp.int32)

    def cond(state):
        _, _, _, _, m, stuck = state
        return (m > k) & ~stuck

    def body(state):
        labels, alive, sizes, d2, m, _ = state
        cost = sizes[:, None] * sizes[None, :] / jnp.maximum(sizes[:, None] + sizes[None, :],
                                                              1.0) * d2
        cost = jnp.where((idx[:, None] == idx[None, :]) | ~alive[:, None] | ~alive[None, :],
                         jnp.inf, cost)
        partner = jnp.argmin(cost, axis=1).astype(jnp.int32)
        mutual = alive & (partner[partner] == idx) & (idx < partner)
        # A row's minimum is its entry at the argmin: one gather, not a second n×n pass.
        mcost = jnp.where(mutual, cost[idx, partner], jnp.inf)
        rank = jnp.zeros(n, jnp.int32).at[jnp.argsort(mcost)].set(idx)
        # Near the cut (more than half the remaining merges on offer) only the cheaper
        # half goes: a cluster that is not yet anyone's reciprocal partner may still owe
        # a cheaper merge than the last reciprocal pairs (Ward would make it first).
        need = m - k
        offered = jnp.sum(mutual, dtype=jnp.int32)
        chosen = mutual & (rank < jnp.where(2 * offered <= need, need,
                                            jnp.maximum((need + 1) // 2, 1)))
        # Cluster partner[a] joins a.
        d2, sizes, gone = merged_distances(d2, sizes, chosen, partner)
        into = idx.at[jnp.where(chosen, partner, n)].set(idx, mode="drop")
        merged = jnp.sum(chosen, dtype=jnp.int32)
        return into[labels], alive & ~gone, sizes, d2, m - merged, merged == 0

    sq = jnp.sum(w * w, axis=1)
    d2 = jnp.maximum(sq[:, None] - 2.0 * (w @ w.T) + sq[None, :], 0.0)
    labels, alive, _, _, _, _ = jax.lax.while_loop(
        cond, body, (idx, jnp.ones(n, bool), jnp.ones(n, w.dtype), d2, jnp.int32(n),
                     jnp.bool_(False)))
    # Live cluster ids → 0…k−1 in index order. A reciprocal pair always exists (the
    # cheapest pair, ties to the lower index), so m reaches k; the clip only keeps the
    # labels in range should rounding ever stall a round.
    ids = (jnp.cumsum(alive.astype(jnp.int32)) - 1)[labels]
    return jnp.minimum(ids, k - 1).astype(jnp.int32)
