"""F2: relative error ``E/||W||_F²`` against the rank k, at every k (C2, C4, C5).

For every rank ``k = 1…n−1`` (:func:`projgeo.rank_sweep`, one compile per capacity
bucket): magnitude pruning at k, the default fold at k (default seeding, :func:`projgeo.fold`)
and the certified fold at k + 1 (:func:`projgeo.certified_fold`), on random matrices of
each family (n = 16 rows, d = 8) and on the first hidden layer ``[W_1 b_1]`` of the
width-32 networks of the C8 zoo (n = 32). Median over matrices, band 25–75 %, log scale
(the errors span decades; relative errors below :data:`FLOOR` are drawn at it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from figures import _zoo
from figures._style import CERT, FOLD, PRUNE, letter, save
from projgeo import compress_network, families, rank_sweep, tolerance

N, D = 16, 8
#: Matrices per family (and zoo layers at most) per budget.
BATCH = {"quick": 12, "full": 64}
#: Errors below this (relative; rounding level) are drawn at it.
FLOOR = 1e-24
CURVES = (("prune", "magnitude pruning, rank k", PRUNE, "-"),
          ("fold", "default fold, rank k", FOLD, "-"),
          ("certified_k1", "certified fold, rank k + 1", CERT, "--"))


def _sweeps(ws, seed: int) -> dict[str, np.ndarray]:
    """``{curve: (B, n−1)}`` relative errors at every rank of every matrix of ``ws``."""
    out: dict[str, list] = {"prune": [], "fold": [], "certified_k1": []}
    for b, w in enumerate(ws):
        s = rank_sweep(w, key=jax.random.fold_in(jax.random.key(seed), b), relative=True)
        out["prune"].append(s.prune_error)
        out["fold"].append(s.fold_error)
        out["certified_k1"].append(s.certified_error)
    return {c: np.stack(v) for c, v in out.items()}


def make(out: Path, budget: str = "quick") -> list[Path]:
    panels = {}
    for i, name in enumerate(families.FAMILIES):
        ws = families.sample_batch(name, jax.random.fold_in(jax.random.key(2), i),
                                   BATCH[budget], N, D)
        panels[name] = _sweeps(np.asarray(ws), i)
    z = _zoo.get(budget)
    layers = [compress_network.layer_rows(p, 0) for p, c in zip(z.params, z.configs, strict=True)
              if c.width == 32][: BATCH[budget]]
    zoo_name = "trained layer 1 (C8 zoo)"
    if layers:
        panels[zoo_name] = _sweeps(np.asarray(jnp.stack(layers).astype(jnp.float64)), 99)
    fig, axes = plt.subplots(2, 5, figsize=(15, 6.6), layout="constrained")
    rows, stats = [], {}
    for j, (ax, (name, c)) in enumerate(zip(axes.ravel(), panels.items(), strict=False)):
        b, m = c["prune"].shape
        n = m + 1
        ks = np.arange(1, n)
        for curve, label, col, ls in CURVES:
            v = np.where(c[curve] > 0, c[curve], np.nan)  # 0 cannot be drawn on a log axis
            with warnings.catch_warnings():  # a k where every error is 0: NaN, not drawn
                warnings.simplefilter("ignore", RuntimeWarning)
                q1, med, q3 = np.nanpercentile(np.maximum(v, FLOOR), [25, 50, 75], axis=0)
            ax.plot(ks, med, ls, color=col, lw=1.3, label=label)
            ax.fill_between(ks, q1, q3, color=col, alpha=0.13, lw=0)
        ax.set_yscale("log")
        ax.set_xlim(1, n - 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        tol = {"dtype": np.float64, "scale": 1.0, "terms": n * D}
        stats[name] = {
            "matrices": b, "n": n,
            "c4_certified_above_prune": int(np.sum(~tolerance.leq(c["certified_k1"],
                                                                  c["prune"], **tol))),
            "c5_fold_above_prune": int(np.sum(~tolerance.leq(c["fold"], c["prune"], **tol))),
            "pairs": int(b * m)}
        title = (name.replace("_", "-") if name != zoo_name else name)
        ax.set_title(f"{title}: {b} matrices, n = {n}\n"
                     f"fold(k) > prune(k) at {stats[name]['c5_fold_above_prune']} of "
                     f"{b * m} (matrix, k)", fontsize=8)
        letter(ax, j)
        ax.set_xlabel(f"rank k (of n = {n} rows)")
        if j % 5 == 0:
            ax.set_ylabel("relative error $E/||W||_F^2$")
        rows += [{"panel": name, "matrix": bi, "k": int(k), **{cv: float(c[cv][bi, k - 1])
                                                               for cv, *_ in CURVES}}
                 for bi in range(b) for k in ks]
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3,
               title="median over matrices; band: 25–75 %")
    viol = sum(s["c4_certified_above_prune"] for s in stats.values())
    pairs = sum(s["pairs"] for s in stats.values())
    fig.suptitle(f"F2 · C4: the certified fold at rank k + 1 is never above magnitude pruning "
                 f"at rank k ({viol} of {pairs} (matrix, k) pairs above)", fontsize=10)
    worst = max(stats, key=lambda s: stats[s]["c5_fold_above_prune"] / stats[s]["pairs"])
    caption = (
        "F2 error versus rank (C2, C4, C5)",
        f"Relative error at every rank k = 1…n−1 (projgeo.rank_sweep) for "
        f"{len(families.FAMILIES)} matrix families ({BATCH[budget]} random matrices each, "
        f"n = {N}, d = {D})"
        + (f" and the first hidden layer of {stats[zoo_name]['matrices']} trained zoo MLPs "
           f"(n = {stats[zoo_name]['n']})" if zoo_name in stats else "")
        + f". The certified fold at k + 1 is above magnitude pruning at k in {viol} of "
        f"{pairs} (matrix, k) pairs (C4). The default fold at the same k is above pruning in "
        f"{sum(s['c5_fold_above_prune'] for s in stats.values())} pairs, most often on "
        f"{worst.replace('_', '-')} ({stats[worst]['c5_fold_above_prune']} of "
        f"{stats[worst]['pairs']}): the extra rank is needed (C5).",
    )
    return save(fig, out, "f2_error_vs_compression", rows, caption)
