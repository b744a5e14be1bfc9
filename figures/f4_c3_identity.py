"""F4: the pruning-induced partition identity (C3), ``E_prune(S) − E_fold(π_S) = (n−k)||μ||²``.

``π_S`` keeps the rows of S as singletons and puts the n − k removed rows in one cluster,
``μ`` the mean of the removed rows. Random matrices of every family (n = 16, d = 8), random
kept sets S at k = 2, 8, 14; both sides divided by ``||W||_F²``. (a) left side against
right side, log–log; (b) the residual ``|left − right| / ||W||_F²`` against the right side,
with the tolerance of :mod:`projgeo.tolerance`: an identity is seen in its residual, which a
log–log diagonal cannot show at 1e-16.
"""

from __future__ import annotations

from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np

from figures._style import family_colors, family_markers, letter, save
from projgeo import c3_gain, families, fold_error, prune_error, pruning_partition, tolerance
from projgeo.projectors import PruneProjector

N, D = 16, 8
KS = (2, 8, 14)
BATCH = {"quick": 64, "full": 512}
FLOOR = 1e-18


@jax.jit
def _sides(w, keep):
    p = PruneProjector(keep, N)
    return prune_error(w, p) - fold_error(w, pruning_partition(p)), c3_gain(w, p)


def make(out: Path, budget: str = "quick") -> list[Path]:
    colors, markers = family_colors(families.FAMILIES), family_markers(families.FAMILIES)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    rows, drawn = [], []
    rng = np.random.default_rng(4)
    for i, name in enumerate(families.FAMILIES):
        w = families.sample_batch(name, jax.random.fold_in(jax.random.key(4), i), BATCH[budget],
                                  N, D)
        e = np.sum(np.asarray(w) ** 2, axis=(1, 2))
        for k in KS:  # a few ranks: each k is one compilation
            keep = np.sort(np.stack([rng.choice(N, k, replace=False)
                                     for _ in range(BATCH[budget])]), axis=1).astype(np.int32)
            lhs, rhs = map(np.asarray, jax.vmap(_sides)(w, keep))
            res = np.abs(lhs - rhs) / e
            drawn.append((name, k, lhs / e, rhs / e, res))
            rows += [{"family": name, "k": k, "lhs_rel": a, "rhs_rel": b, "residual_rel": r}
                     for a, b, r in zip(lhs / e, rhs / e, res, strict=True)]
    res = np.array([r["residual_rel"] for r in rows])
    zero = float(res[res > 0].min()) / 10 if np.any(res > 0) else 1e-20  # exact zeros: here
    for name, k, lhs, rhs, r in drawn:
        lab = name if k == KS[0] else None
        axes[0].scatter(np.maximum(rhs, FLOOR), np.maximum(lhs, FLOOR), s=6, alpha=0.5,
                        color=colors[name], marker=markers[name], label=lab)
        axes[1].scatter(np.maximum(rhs, FLOOR), np.where(r > 0, r, zero), s=6, alpha=0.5,
                        color=colors[name], marker=markers[name])
    tol = tolerance.tolerance(np.float64, scale=1.0, terms=N * D)
    ax = axes[0]
    ax.plot([FLOOR, 1], [FLOOR, 1], color="0.3", lw=0.8, ls="--", label="diagonal y = x")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-16, 1.5)
    ax.set_ylim(1e-16, 1.5)
    ax.set_xlabel("right side $(n-k)\\,||\\mu||^2 / ||W||_F^2$")
    ax.set_ylabel("left side $(E_{prune}(S) - E_{fold}(\\pi_S)) / ||W||_F^2$")
    ax.set_title(f"both sides, {len(rows)} (W, S) pairs")
    letter(ax, 0)
    ax = axes[1]
    ax.axhline(tol, color="0.3", lw=0.8, ls="--",
               label=f"tolerance {tol:.1e} (float64, n·d = {N * D} terms)")
    ax.axhline(zero, color="0.6", lw=0.6, ls=":",
               label=f"exact zero residual (drawn at {zero:.0e})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-16, 1.5)
    ax.set_ylim(zero / 3, max(tol, float(res.max())) * 30)
    ax.set_xlabel("right side $(n-k)\\,||\\mu||^2 / ||W||_F^2$")
    ax.set_ylabel("residual |left − right| / $||W||_F^2$")
    ax.set_title(f"residual: max {res.max():.1e}, {int(np.sum(res == 0))} exactly 0")
    ax.legend(loc="upper left")
    letter(ax, 1)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", markerscale=2.5,
               title="matrix family")
    fig.suptitle(f"F4 · C3: $E_{{prune}}(S) - E_{{fold}}(\\pi_S) = (n-k)\\,||\\mu||^2$ "
                 f"(n = {N}, d = {D}, k ∈ {{{', '.join(map(str, KS))}}}, "
                 f"{BATCH[budget]} matrices per family and k)", fontsize=10)
    span = np.log10(max(r["rhs_rel"] for r in rows)
                    / min(r["rhs_rel"] for r in rows if r["rhs_rel"] > 0))
    caption = (
        "F4 the identity (C3)",
        f"E_prune(S) − E_fold(π_S) against (n−k)·||μ||² (μ the mean of the n − k removed "
        f"rows) for {len(rows)} random (W, S) pairs of {len(families.FAMILIES)} families "
        f"(n = {N}, d = {D}, k ∈ {{{', '.join(map(str, KS))}}}), both divided by ||W||_F². "
        f"(a) The right side spans {span:.0f} decades; (b) the largest residual is "
        f"{res.max():.1e} of ||W||_F², {'below' if res.max() <= tol else 'ABOVE'} the "
        f"float64 tolerance {tol:.1e}, and "
        f"{int(np.sum(res == 0))} of {len(rows)} residuals are exactly 0.",
    )
    return save(fig, out, "f4_c3_identity", rows, caption)
