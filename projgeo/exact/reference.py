"""Independent exact ``OPT_fold`` for cross-checking :mod:`projgeo.exact` (C4).

* :func:`brute_force_fold`: every one of the ``k^n`` labelings that uses all k labels,
  scored from differences (``n ≤ MAX_BRUTE_N = 6``);
* :func:`fold_1d_path`: for ``d = 1`` an optimal k-clustering is k contiguous runs of the
  sorted values, so a dynamic programme finds it for every k at once (Bellman 1973;
  Wang & Song 2011, Ckmeans.1d.dp);
* :func:`rational_opt` and :func:`rational_c3_terms`: ``OPT_fold(k)``, ``OPT_prune(k)`` and
  the three terms of the C3 identity in exact rationals (:class:`fractions.Fraction`), for
  small integer or dyadic matrices: no rounding at all, so a float result can be judged
  against them with no tolerance on the reference side;
* :func:`pruning_partition_labels`: the labels of ``π_{S*}`` for every k, written from the
  definition (sort by energy, ties to the lower index), independent of
  :func:`projgeo.pruning_partition`.

Neither uses restricted growth strings or the Gram matrix, so agreement with
:func:`projgeo.exact_fold_path` tests the enumerator. Host-side numpy.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from projgeo import _checks
from projgeo.exact.enumeration import (
    ExactFold,
    ExactPath,
    _as_batch,
    _check_n,
    _pow2_scaled,
    _unscale_sq,
    inertia_of,
    set_partitions,
)

#: Largest n for :func:`brute_force_fold` (k^n labelings).
MAX_BRUTE_N = 6


def brute_force_fold(w: Float[Array, "... n d"], k: int) -> ExactFold:
    """``OPT_fold(k)`` by trying all ``k^n`` labelings that use every label (``n ≤ 6``).

    Independent of :func:`exact_fold` (no RGS, no Gram matrix): a cross-check only.

    Raises:
      TypeError, ValueError: on bad ``w`` or ``k``, or ``n > MAX_BRUTE_N``.
    """
    ws, lead = _as_batch(w)
    n = _check_n(ws.shape[1], MAX_BRUTE_N, "brute_force_fold")
    k = _checks.check_k(k, n)
    all_labels = np.array(list(itertools.product(range(k), repeat=n)), np.int32).reshape(-1, n)
    onto = np.array([len(set(r)) == k for r in all_labels.tolist()])
    cand = all_labels[onto]
    scaled, e = _pow2_scaled(ws)
    small = inertia_of(scaled, cand)  # on the scaled copy: no under/overflow, exact order
    best = np.argmin(small, axis=1)
    inertia = _unscale_sq(small, e[:, None], ws.dtype)
    return ExactFold(jnp.asarray(cand[best].reshape(lead + (n,))),
                     jnp.asarray(inertia[np.arange(len(ws)), best].reshape(lead)))


def fold_1d_path(w: Float[Array, "n 1"]) -> ExactPath:
    """``OPT_fold(k)`` for all k of a one-column matrix, by dynamic programming (d = 1).

    Sort the values; an optimal k-clustering is k contiguous runs, so
    ``D[m][j] = min_i D[m−1][i] + SSE(x[i:j])`` in ``O(n³)`` time and ``O(n²)`` memory
    (numpy, host-side). Independent of :func:`exact_fold`: a cross-check for ``d = 1``.

    Args:
      w: (n, 1) floating weights (any n; meant for small n).

    Returns:
      :class:`ExactPath` with labels in the original row order; the inertia is recomputed
      from differences.

    Raises:
      TypeError, ValueError: on bad ``w`` or more than one column.
    """
    host = np.asarray(_checks.check_weights(w))
    if host.shape[1] != 1:
        raise ValueError(f"fold_1d_path needs one column, w of shape (n, 1); got {host.shape}.")
    n = host.shape[0]
    order = np.argsort(host[:, 0], kind="stable")
    scaled, e = _pow2_scaled(host[None])
    x = scaled[0, order, 0]
    x = x - x.mean()  # centring keeps the prefix-sum SSE below from cancelling
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / (j - i)
    sse = np.where(j > i, np.maximum(sse, 0.0), np.inf)
    dp = np.full((n + 1, n + 1), np.inf)  # dp[m, j]: best m runs covering x[:j]
    cut = np.zeros((n + 1, n + 1), np.int64)
    dp[0, 0] = 0.0
    for m in range(1, n + 1):
        tot = dp[m - 1][:, None] + sse  # (i, j)
        cut[m] = np.argmin(tot, axis=0)
        dp[m] = tot[cut[m], np.arange(n + 1)]
    labels = np.zeros((n, n), np.int32)
    for m in range(1, n + 1):
        j = n
        for c in range(m, 0, -1):
            i0 = cut[c, j]
            labels[m - 1, order[i0:j]] = c - 1
            j = i0
    inertia = _unscale_sq(inertia_of(scaled, labels[None])[0], e[0], host.dtype)
    return ExactPath(jnp.asarray(labels), jnp.asarray(inertia))


def rational_opt(w: np.ndarray, k: int) -> tuple[Fraction, Fraction]:
    """``(OPT_fold(k), OPT_prune(k))`` in exact rationals, by enumerating every partition.

    ``w``: an (n, d) array of integers, floats (exact dyadic rationals) or Fractions, with
    n ≤ :data:`projgeo.exact.MAX_N`. Pure Python: for counterexamples and tiny cases.
    """
    rows = [[Fraction(x) for x in r] for r in w]
    n, d = len(rows), len(rows[0])
    energy = sorted(sum(x * x for x in r) for r in rows)
    prune = Fraction(sum(energy[: n - k], Fraction(0)))
    best: Fraction | None = None
    for labels in set_partitions(n, k):
        total = Fraction(0)
        for j in range(k):
            members = [rows[i] for i in range(n) if labels[i] == j]
            mu = [Fraction(sum(r[c] for r in members), len(members)) for c in range(d)]
            total += Fraction(sum((r[c] - mu[c]) ** 2 for r in members for c in range(d)))
        best = total if best is None else min(best, total)
    assert best is not None
    return best, prune


def rational_c3_terms(w: np.ndarray, keep) -> dict:
    """The C3 terms of kept rows ``keep`` in exact rationals.

    Returns ``{"prune": E_prune(S), "fold": E_fold(π_S), "gain": (n−k)||μ||²,
    "zero_sum": Σ pruned rows = 0}`` for an integer (or dyadic) matrix ``w``; C3 says
    ``fold = prune − gain`` exactly, with equality ``fold = prune`` iff ``zero_sum``.
    """
    n, d = w.shape
    rows = [[Fraction(int(x)) for x in r] for r in w]
    kept = set(int(i) for i in keep)
    pruned = [rows[i] for i in range(n) if i not in kept]
    m = len(pruned)
    mu = [sum(r[j] for r in pruned) / m for j in range(d)]
    e_prune = sum(x * x for r in pruned for x in r)
    e_fold = sum((r[j] - mu[j]) ** 2 for r in pruned for j in range(d))
    gain = m * sum(x * x for x in mu)
    zero_sum = all(sum(r[j] for r in pruned) == 0 for j in range(d))
    return {"prune": e_prune, "fold": e_fold, "gain": gain, "zero_sum": zero_sum}


def pruning_partition_labels(ws: np.ndarray) -> np.ndarray:
    """Labels of ``π_{S*}`` for every ``k = 1…n−1``: (B, n−1, n) int32, kept row j → label j.

    ``S*`` keeps the k largest energies ``||w_i||²``, ties to the lower index (as
    :func:`projgeo.magnitude_prune`); every pruned row gets label k. ``ws``: (B, n, d).
    """
    b, n, _ = ws.shape
    order = np.argsort(-np.sum(ws * ws, axis=2), axis=1, kind="stable")  # (B, n)
    labels = np.empty((b, n - 1, n), np.int32)
    for k in range(1, n):
        lab = np.full((b, n), k, np.int32)
        kept = np.sort(order[:, :k], axis=1)
        np.put_along_axis(lab, kept, np.broadcast_to(np.arange(k, dtype=np.int32), (b, k)), 1)
        labels[:, k - 1] = lab
    return labels
