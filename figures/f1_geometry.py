"""F1: pruning and folding as projections of the same small layer (C1, C3).

(a, b) The rows of ``W ∈ R^{8×2}`` as points. Magnitude pruning to k = 3 (``P_S``) sends
the five smallest rows to the origin; folding to k = 3 (``P_π``, k-means) sends each row to
its cluster mean. (c, d) The two 8 × 8 projectors themselves, rows ordered by cluster: ``P_S``
is diagonal (an axis-aligned subspace of ``R^8``), ``P_π`` averages within clusters, so
``P_π 1 = 1``: its range contains the all-ones vector, pruning's never does (k < n).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from figures._style import FOLD, PRUNE, letter, save
from projgeo import fold, fold_error, magnitude_prune, prune_error

K = 3
def rows(seed: int = 0) -> np.ndarray:
    """Eight rows in three loose clusters, one of them near the origin."""
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 1.0], [-1.5, 1.8], [0.4, -0.3]])
    return np.concatenate([c + 0.35 * rng.standard_normal((n, 2))
                           for c, n in zip(centres, (3, 2, 3), strict=True)])


def make(out: Path, budget: str = "quick") -> list[Path]:
    w = jnp.asarray(rows())
    n = w.shape[0]
    p_prune = magnitude_prune(w, K)
    p_fold = fold(w, K, key=jax.random.key(0)).projector()
    wp, wf = np.asarray(p_prune.apply(w)), np.asarray(p_fold.apply(w))
    e_prune, e_fold = float(prune_error(w, p_prune)), float(fold_error(w, p_fold))
    m_prune = np.asarray(p_prune.matrix())
    m_fold = np.asarray(p_fold.matrix())
    labels = np.asarray(p_fold.labels)
    w = np.asarray(w)

    fig, axes = plt.subplots(1, 4, figsize=(12.5, 3.5),
                             gridspec_kw={"width_ratios": [1, 1, 0.8, 0.8]}, layout="constrained")
    lim = 1.15 * np.abs(w).max()
    for j, (name, img, err, col) in enumerate((("magnitude pruning", wp, e_prune, PRUNE),
                                               ("folding (k-means)", wf, e_fold, FOLD))):
        ax = axes[j]
        ax.scatter(w[:, 0], w[:, 1], s=22, color="#000000", label="rows $w_i$", zorder=3)
        ax.scatter(img[:, 0], img[:, 1], s=70, marker="X", color=col,
                   label="images $(PW)_i$", zorder=4)
        for a, b in zip(w, img, strict=True):
            ax.annotate("", b, a, arrowprops={"arrowstyle": "->", "color": col, "lw": 0.8})
        ax.axhline(0, color="0.8", lw=0.6, zorder=0)
        ax.axvline(0, color="0.8", lw=0.6, zorder=0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("weight $w_{i1}$ (input 1)")
        ax.set_ylabel("weight $w_{i2}$ (input 2)")
        ax.set_title(f"{name}, n = {n} rows, k = {K}\n"
                     f"error $||(I-P)W||_F^2$ = {err:.2f}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
        letter(ax, j)
    order = np.argsort(labels, kind="stable")
    for j, (name, m) in enumerate((("$P_S$ (pruning): diagonal", m_prune),
                                   ("$P_\\pi$ (folding): cluster means", m_fold))):
        ax = axes[2 + j]
        im = ax.imshow(m[np.ix_(order, order)], cmap="cividis", vmin=0, vmax=1)
        ax.set_xticks(range(n), order + 1, fontsize=7)
        ax.set_yticks(range(n), order + 1, fontsize=7)
        ax.set_xlabel("row index j (by cluster)")
        ax.set_ylabel("row index i (by cluster)")
        ax.set_title(f"{name}\n{n}×{n}, rank {K}; "
                     + ("$P_S\\mathbf{1} \\neq \\mathbf{1}$" if j == 0
                        else "$P_\\pi\\mathbf{1} = \\mathbf{1}$"))
        ax.spines[["top", "right"]].set_visible(True)
        letter(ax, 2 + j)
    fig.colorbar(im, ax=axes[2:], shrink=0.8, label="projector entry $P_{ij}$")
    fig.suptitle("F1 · C1, C3: pruning and folding are rank-k orthogonal projections of the "
                 "rows of W", fontsize=10)
    ones = np.ones(n)
    data = {"w": w.tolist(), "pruned": wp.tolist(), "folded": wf.tolist(), "k": K, "n": n,
            "prune_error": e_prune, "fold_error": e_fold, "fold_labels": labels.tolist(),
            "prune_projector": m_prune.tolist(), "fold_projector": m_fold.tolist(),
            "fold_fixes_ones": bool(np.allclose(m_fold @ ones, ones)),
            "prune_fixes_ones": bool(np.allclose(m_prune @ ones, ones))}
    caption = (
        "F1 geometry (C1, C3)",
        f"A layer of n = {n} rows in R², compressed to k = {K}. (a) Magnitude pruning keeps "
        f"the {K} longest rows and sends the other {n - K} to the origin "
        f"(error {e_prune:.2f}); (b) folding sends each row to its cluster mean "
        f"(error {e_fold:.2f}, {e_prune / e_fold:.1f}× smaller). (c, d) The two "
        f"{n}×{n} rank-{K} projectors: P_S is an axis-aligned diagonal, P_π averages within "
        "clusters and fixes the all-ones vector (P_π 1 = 1), which no pruning projector "
        "with k < n does.",
    )
    return save(fig, out, "f1_geometry", data, caption)
