"""F7: where folding loses at the same rank (C5): loss rate over family × compression ratio.

Cell = fraction of random n = 8 matrices of a family with exact ``OPT_fold(k) >
OPT_prune(k)`` (beyond the tolerance rule), at ratio ``1 − k/n``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _exact
from figures._style import save
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
    fig, ax = plt.subplots(figsize=(7, 3.8))
    im = ax.imshow(rate, cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(names)):
        for j in range(len(ks)):
            ax.text(j, i, f"{rate[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rate[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(ks)), [f"{r:.0%}\n(k={k})" for r, k in zip(ratios, ks, strict=True)])
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel(f"compression ratio 1 − k/n (n = {n} rows)")
    ax.set_ylabel("matrix family")
    ax.set_title(f"C5: fraction of matrices where $OPT_{{fold}}(k) > OPT_{{prune}}(k)$ "
                 f"({len(w)} per cell)")
    fig.colorbar(im, ax=ax, label="same-rank loss rate")
    return save(fig, out, "f7_c5_loss_rate", rows)
