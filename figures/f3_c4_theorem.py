"""F3: the rank-distance-one theorem as a picture (C4), and why the one rank is needed (C5).

(a) exact ``OPT_fold(k+1)`` against ``OPT_prune(k)`` (both divided by ``||W||_F²``) for
every k < n on random matrices of every family (n = 8, all partitions enumerated): no
point lies above the diagonal. (b) the same-rank pair ``OPT_fold(k)`` against
``OPT_prune(k)``: points above the diagonal are C5's counterexamples, coloured by family.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _exact
from figures._style import family_colors, family_markers, letter, pct, save
from projgeo import tolerance


def make(out: Path, budget: str = "quick") -> list[Path]:
    data = _exact.paths(budget)
    colors, markers = family_colors(data), family_markers(data)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True, layout="constrained")
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
        axes[0].scatter(x.ravel(), y1.ravel(), s=5, alpha=0.5, color=colors[name], label=name,
                        marker=markers[name], clip_on=False)
        axes[1].scatter(x.ravel(), y0.ravel(), s=5, alpha=0.5, color=colors[name], label=name,
                        marker=markers[name], clip_on=False)
        for b in range(len(w)):
            for k in range(1, _exact.N):
                rows.append({"family": name, "matrix": b, "k": k, "opt_prune_k": x[b, k - 1],
                             "opt_fold_k": y0[b, k - 1], "opt_fold_k1": y1[b, k - 1]})
    n_pts = sum(v["points"] for v in above.values())
    n_c4 = sum(v["c4_violations"] for v in above.values())
    n_c5 = sum(v["c5_same_rank_losses"] for v in above.values())
    n_mat = sum(len(v[0]) for v in data.values())
    for j, ax in enumerate(axes):
        ax.plot([0, 1], [0, 1], color="0.3", lw=0.8, ls="--", label="diagonal y = x")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)  # ratios reach 1 (k = 1 on shifted rows): nothing clipped
        ax.set_aspect("equal")
        ax.set_xlabel("$OPT_{prune}(k)\\,/\\,||W||_F^2$ (magnitude pruning, rank k)")
        letter(ax, j)
    axes[0].set_ylabel("$OPT_{fold}(k+1)\\,/\\,||W||_F^2$ (exact, rank k + 1)")
    axes[1].set_ylabel("$OPT_{fold}(k)\\,/\\,||W||_F^2$ (exact, rank k)")
    axes[1].yaxis.set_tick_params(labelleft=True)
    axes[0].set_title(f"C4: fold at k + 1 vs prune at k\n{n_c4} of {n_pts} points above "
                      "the diagonal")
    axes[1].set_title(f"C5: fold at k vs prune at k (same rank)\n{n_c5} of {n_pts} points "
                      "above the diagonal")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", markerscale=3,
               title="matrix family")
    fig.suptitle(f"F3 · C4, C5 by exhaustive enumeration: n = {_exact.N} rows, "
                 f"d = {_exact.D}, {n_mat} matrices, every k = 1…{_exact.N - 1}", fontsize=10)
    caption = (
        "F3 the theorem as a picture (C4, C5)",
        f"Exact optima (every partition of n = {_exact.N} rows enumerated) for {n_mat} random "
        f"matrices of {len(data)} families, d = {_exact.D}, at every k = 1…{_exact.N - 1}: "
        f"{n_pts} (matrix, k) points. (a) OPT_fold(k+1) against OPT_prune(k): {n_c4} points "
        f"above the diagonal (C4). (b) At the same rank, {n_c5} of {n_pts} points "
        f"({pct(n_c5 / n_pts)}) lie above it: folding at rank k can lose to pruning, so the "
        "one extra rank is needed (C5).",
    )
    save(fig, out, "f3_c4_theorem", rows, caption)
    return [out / f"f3_c4_theorem.{x}" for x in ("png", "pdf", "csv", "caption.md")] + [
        _summary(out, above)]


def _summary(out: Path, above) -> Path:
    import json

    p = out / "f3_c4_theorem_summary.json"
    p.write_text(json.dumps(above, indent=1) + "\n")
    return p
