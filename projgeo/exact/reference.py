"""Independent exact ``OPT_fold`` for cross-checking :mod:`projgeo.exact` (C4).

* :func:`brute_force_fold`: every one of the ``k^n`` labelings that uses all k labels,
  scored from differences (``n ≤ MAX_BRUTE_N = 6``);
* :func:`fold_1d_path`: for ``d = 1`` an optimal k-clustering is k contiguous runs of the
  sorted values, so a dynamic programme finds it for every k at once (Bellman 1973;
  Wang & Song 2011, Ckmeans.1d.dp).

Neither uses restricted growth strings or the Gram matrix, so agreement with
:func:`projgeo.exact_fold_path` tests the enumerator. Host-side numpy.
"""

from __future__ import annotations

import itertools

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
