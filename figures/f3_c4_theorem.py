"""F3: the rank-distance-one theorem as a picture (C4), and why the one rank is needed (C5).

Left: exact ``OPT_fold(k+1)`` against ``OPT_prune(k)`` (both divided by ``||W||_F²``) for
every k < n on random matrices of every family (n = 8, all partitions enumerated): no
point lies above the diagonal. Right: the same-rank pair ``OPT_fold(k)`` against
``OPT_prune(k)``: points above the diagonal are C5's counterexamples, coloured by family.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _exact
from figures._style import family_colors, save
from projgeo import tolerance


def make(out: Path, budget: str = "quick") -> list[Path]:
    data = _exact.paths(budget)
    colors = family_colors(data)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
    rows, above = [], {}
    for name, (w, opt_fold, opt_prune, energy) in data.items():
        e = np.maximum(energy, np.finfo(float).tiny)[:, None]
        x = opt_prune[:, :-1] / e                 # OPT_prune(k), k = 1..n-1
        y1 = opt_fold[:, 1:] / e                  # OPT_fold(k+1)
        y0 = opt_fold[:, :-1] / e                 # OPT_fold(k)
        ok = tolerance.leq(opt_fold[:, 1:], opt_prune[:, :-1], dtype=w.dtype,
                           scale=energy[:, None], terms=_exact.N * _exact.D)
        above[name] = {"c4_violations": int((~ok).sum()),
                       "c5_same_rank_losses": int((y0 > x + 1e-12).sum()), "points": x.size}
        axes[0].scatter(x.ravel(), y1.ravel(), s=5, alpha=0.5, color=colors[name], label=name)
        axes[1].scatter(x.ravel(), y0.ravel(), s=5, alpha=0.5, color=colors[name], label=name)
        for b in range(len(w)):
            for k in range(1, _exact.N):
                rows.append({"family": name, "matrix": b, "k": k, "opt_prune_k": x[b, k - 1],
                             "opt_fold_k": y0[b, k - 1], "opt_fold_k1": y1[b, k - 1]})
    n_pts = sum(v["points"] for v in above.values())
    n_c5 = sum(v["c5_same_rank_losses"] for v in above.values())
    for ax in axes:
        ax.plot([0, 1], [0, 1], color="0.3", lw=0.8, ls="--", label="diagonal")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("$OPT_{prune}(k)\\,/\\,||W||_F^2$ (magnitude pruning, rank k)")
    axes[0].set_ylabel("exact $OPT_{fold}\\,/\\,||W||_F^2$")
    axes[0].set_title(f"C4: fold at k+1 vs prune at k — {n_pts} points, "
                      f"{sum(v['c4_violations'] for v in above.values())} above")
    axes[1].set_title(f"C5: fold at k vs prune at k — {n_c5} of {n_pts} above")
    axes[1].legend(fontsize=7, markerscale=2, loc="lower right")
    save(fig, out, "f3_c4_theorem", rows)
    return [out / "f3_c4_theorem.png", out / "f3_c4_theorem.pdf", out / "f3_c4_theorem.csv",
            _summary(out, above)]


def _summary(out: Path, above) -> Path:
    import json

    p = out / "f3_c4_theorem_summary.json"
    p.write_text(json.dumps(above, indent=1) + "\n")
    return p
