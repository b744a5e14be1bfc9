"""F1: pruning and folding as projections, in the plane of the rows and in R^n (C1, C3).

Left: the rows of a small ``W ∈ R^{8×2}`` as points. Magnitude pruning to k = 3 (``P_S``)
sends the five smallest rows to the origin; folding to k = 3 (``P_π``, k-means) sends each
row to its cluster mean. Right: the two rank-2 projectors of ``R^3`` that act on the
columns of a 3-row W: the axis-aligned plane ``span(e_1, e_2)`` of pruning versus the span
of the cluster indicators ``{1,2}, {3}`` of folding, which contains ``1 = (1, 1, 1)``.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from figures._style import FOLD, PRUNE, save
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
    p_prune = magnitude_prune(w, K)
    p_fold = fold(w, K, key=jax.random.key(0)).projector()
    wp, wf = np.asarray(p_prune.apply(w)), np.asarray(p_fold.apply(w))
    e_prune, e_fold = float(prune_error(w, p_prune)), float(fold_error(w, p_fold))
    w = np.asarray(w)

    fig = plt.figure(figsize=(11, 3.6))
    for j, (name, img, err, col) in enumerate((("magnitude pruning", wp, e_prune, PRUNE),
                                               ("folding (k-means)", wf, e_fold, FOLD))):
        ax = fig.add_subplot(1, 3, j + 1)
        ax.scatter(w[:, 0], w[:, 1], s=22, color="#000000", label="rows $w_i$", zorder=3)
        ax.scatter(img[:, 0], img[:, 1], s=70, marker="X", color=col,
                   label="$(PW)_i$", zorder=4)
        for a, b in zip(w, img, strict=True):
            ax.annotate("", b, a, arrowprops={"arrowstyle": "->", "color": col, "lw": 0.8})
        ax.axhline(0, color="0.8", lw=0.6, zorder=0)
        ax.axvline(0, color="0.8", lw=0.6, zorder=0)
        ax.set_aspect("equal")
        ax.set_xlabel("weight coordinate 1")
        ax.set_ylabel("weight coordinate 2")
        ax.set_title(f"{name}, k = {K}\n$E = ||(I-P)W||_F^2$ = {err:.2f}")
        ax.legend(loc="lower right", fontsize=7)

    ax = fig.add_subplot(1, 3, 3, projection="3d")
    s = np.linspace(-1.2, 1.2, 2)
    a, b = np.meshgrid(s, s)
    ax.plot_surface(a, b, 0 * a, color=PRUNE, alpha=0.25)
    ax.plot_surface(a, a, b, color=FOLD, alpha=0.25)  # span{(1,1,0), (0,0,1)}
    ax.quiver(0, 0, 0, 1, 1, 1, color="#000000", lw=1.5)
    ax.text(1.05, 1.05, 1.1, "$\\mathbf{1}$")
    ax.plot([], [], color=PRUNE, lw=6, alpha=0.4, label="pruning: span$(e_1, e_2)$")
    ax.plot([], [], color=FOLD, lw=6, alpha=0.4,
            label="folding: span$(1_{\\{1,2\\}}, 1_{\\{3\\}}) \\ni \\mathbf{1}$")
    ax.set_xlabel("row 1")
    ax.set_ylabel("row 2")
    ax.set_zlabel("row 3")
    ax.set_title("rank-2 projectors of $\\mathbb{R}^3$ (n = 3)")
    ax.legend(loc="upper left", fontsize=7)
    data = {"w": w.tolist(), "pruned": wp.tolist(), "folded": wf.tolist(), "k": K,
            "prune_error": e_prune, "fold_error": e_fold,
            "fold_labels": np.asarray(p_fold.labels).tolist()}
    return save(fig, out, "f1_geometry", data)
