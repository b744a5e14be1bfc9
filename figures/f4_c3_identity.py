"""F4: the pruning-induced partition identity (C3), ``E_prune(S) − E_fold(π_S) = (n−k)||μ||²``.

Random matrices of every family (n = 16, d = 8), random kept sets S of random size k;
both sides divided by ``||W||_F²``, log-log: every point on the diagonal.
"""

from __future__ import annotations

from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np

from figures._style import family_colors, save
from projgeo import c3_gain, families, fold_error, prune_error, pruning_partition
from projgeo.projectors import PruneProjector

N, D = 16, 8
BATCH = {"quick": 64, "full": 512}
FLOOR = 1e-18


@jax.jit
def _sides(w, keep):
    p = PruneProjector(keep, N)
    return prune_error(w, p) - fold_error(w, pruning_partition(p)), c3_gain(w, p)


def make(out: Path, budget: str = "quick") -> list[Path]:
    colors = family_colors(families.FAMILIES)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    rows = []
    rng = np.random.default_rng(4)
    worst = 0.0
    for i, name in enumerate(families.FAMILIES):
        w = families.sample_batch(name, jax.random.fold_in(jax.random.key(4), i), BATCH[budget],
                                  N, D)
        for k in (2, 8, 14):  # a few ranks: each k is one compilation
            keep = np.sort(np.stack([rng.choice(N, k, replace=False)
                                     for _ in range(BATCH[budget])]), axis=1).astype(np.int32)
            lhs, rhs = map(np.asarray, jax.vmap(_sides)(w, keep))
            e = np.sum(np.asarray(w) ** 2, axis=(1, 2))
            worst = max(worst, float(np.max(np.abs(lhs - rhs) / np.maximum(e, FLOOR))))
            ax.scatter(np.maximum(rhs / e, FLOOR), np.maximum(lhs / e, FLOOR), s=5, alpha=0.5,
                       color=colors[name], label=name if k == 2 else None)
            rows += [{"family": name, "k": k, "lhs_rel": a, "rhs_rel": b}
                     for a, b in zip(lhs / e, rhs / e, strict=True)]
    ax.plot([FLOOR, 1], [FLOOR, 1], color="0.3", lw=0.8, ls="--", label="diagonal")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-16, 1.5)
    ax.set_ylim(1e-16, 1.5)
    ax.set_xlabel("$(n-k)\\,||\\mu||^2 \\,/\\, ||W||_F^2$")
    ax.set_ylabel("$(E_{prune}(S) - E_{fold}(\\pi_S)) \\,/\\, ||W||_F^2$")
    ax.set_title(f"C3 identity, {len(rows)} (W, S) pairs; max |lhs − rhs|/||W||² = {worst:.1e}",
                 fontsize=8)
    ax.legend(fontsize=7, markerscale=2, loc="upper left")
    return save(fig, out, "f4_c3_identity", rows)
