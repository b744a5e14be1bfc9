"""F7: where folding loses at the same rank (C5): loss rate over family × compression ratio.

Cell = fraction of random n = 8 matrices of a family with exact ``OPT_fold(k) >
OPT_prune(k)`` (beyond the tolerance rule), at ratio ``1 − k/n``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _exact
from figures._style import pct, save
from projgeo import tolerance


def make(out: Path, budget: str = "quick") -> list[Path]:
    data = _exact.paths(budget)
    n = _exact.N
    ks = np.arange(n - 1, 0, -1)  # ratio ascending
    ratios = 1 - ks / n
    names = list(data)
    rate = np.zeros((len(names), len(ks)))
    rows = []
    for i, name in enumerate(names):
        w, opt_fold, opt_prune, energy = data[name]
        for j, k in enumerate(ks):
            same = opt_fold[:, k - 1]
            loses = ~tolerance.leq(same, opt_prune[:, k - 1], dtype=w.dtype, scale=energy,
                                   terms=n * _exact.D)
            rate[i, j] = loses.mean()
            rows.append({"family": name, "k": int(k), "ratio": float(ratios[j]),
                         "loss_rate": float(rate[i, j]), "matrices": len(w)})
    fig, ax = plt.subplots(figsize=(8.5, 4.2), layout="constrained")
    im = ax.imshow(rate, cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(names)):
        for j in range(len(ks)):
            ax.text(j, i, f"{rate[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rate[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(ks)), [f"{pct(r)}\n(k = {k})" for r, k in zip(ratios, ks,
                                                                         strict=True)])
    ax.set_yticks(range(len(names)), [nm.replace("_", "-") for nm in names])
    ax.set_xlabel(f"compression ratio 1 − k/n (n = {n} rows, d = {_exact.D})")
    ax.set_ylabel("matrix family")
    m = len(w)
    ax.set_title(f"F7 · C5: fraction of matrices where $OPT_{{fold}}(k) > OPT_{{prune}}(k)$ "
                 f"(exact, {m} matrices per cell)", fontsize=10)
    fig.colorbar(im, ax=ax, label="same-rank loss rate (fraction of matrices)")
    order = np.argsort(rate.mean(axis=1))
    caption = (
        "F7 where folding loses (C5)",
        f"Fraction of {m} random matrices per family (n = {n}, d = {_exact.D}, exact optima) "
        f"with OPT_fold(k) > OPT_prune(k) beyond the tolerance, at every ratio 1 − k/n from "
        f"{pct(ratios[0])} to {pct(ratios[-1])}. Lowest mean loss rate: "
        f"{names[order[0]].replace('_', '-')} ({rate[order[0]].mean():.2f}), "
        f"{names[order[1]].replace('_', '-')} ({rate[order[1]].mean():.2f}); highest: "
        f"{names[order[-1]].replace('_', '-')} ({rate[order[-1]].mean():.2f}), "
        f"{names[order[-2]].replace('_', '-')} ({rate[order[-2]].mean():.2f}). Over all "
        f"cells, folding at the same rank loses on {rate.mean():.2f} of the matrices.",
    )
    return save(fig, out, "f7_c5_loss_rate", rows, caption)
