"""Local optimality of a partition: the best single-row move, in float64 on the host (C4).

Moving row ``x`` from cluster ``a`` (``n_a ≥ 2``) to ``b`` changes the inertia by

    Δ = n_b/(n_b + 1)·||x − μ_b||² − n_a/(n_a − 1)·||x − μ_a||²      (Hartigan),

so a partition is a local optimum of k-means iff ``Δ ≥ 0`` for every row and target. The
gain ``max(0, −min Δ)`` is computed on the column-centred rows (Δ is translation invariant),
and compared with the tolerance rule at the scale of the centred energy ``||W − 1μᵀ||²``:
``||W||²`` would hide every defect of rows at ``1e8 + N(0, 1)`` (the ``shifted`` family).
"""

from __future__ import annotations

import numpy as np


def centred_energy(ws: np.ndarray) -> np.ndarray:
    """``||W − 1μᵀ||_F²`` per matrix of a (B, n, d) batch, float64."""
    ws = np.asarray(ws, np.float64)
    return np.sum((ws - ws.mean(axis=1, keepdims=True)) ** 2, axis=(1, 2))


def best_move_gain(ws: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Largest inertia decrease of any single-row move, per matrix: (B,) float64, ≥ 0."""
    c = np.asarray(ws, np.float64)
    c = c - c.mean(axis=1, keepdims=True)
    labels = np.asarray(labels)
    onehot = (labels[..., None] == np.arange(k)).astype(np.float64)  # (B, n, k)
    counts = onehot.sum(axis=1)  # (B, k)
    means = np.einsum("bnk,bnd->bkd", onehot, c) / np.maximum(counts, 1.0)[..., None]
    d2 = (np.sum(c * c, axis=2)[:, :, None] - 2.0 * np.einsum("bnd,bkd->bnk", c, means)
          + np.sum(means * means, axis=2)[:, None, :])
    d2 = np.maximum(d2, 0.0)
    na = np.take_along_axis(counts, labels, axis=1)  # (B, n)
    own = np.take_along_axis(d2, labels[..., None], axis=2)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        leave = np.where(na > 1, na / (na - 1.0) * own, -np.inf)
    join = np.where(onehot > 0, np.inf, counts[:, None, :] / (counts[:, None, :] + 1.0) * d2)
    return np.maximum(0.0, np.max(leave - join.min(axis=2), axis=1))
