"""Figures of ``proofs_check checkpoint --figures DIR``: error against rank, and a summary."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: Okabe–Ito colour-blind-safe palette.
COLORS = {"prune": "#D55E00", "c3": "#56B4E9", "cert": "#0072B2", "fold": "#009E73"}
MAX_CURVES = 64


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def write(out: Path, report, curves, ratios) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, c in list(curves.items())[:MAX_CURVES]:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(c["k"], c["prune"], "o-", ms=3, color=COLORS["prune"], label="prune, rank k")
        ax.plot(c["k"], c["c3_fold_k1"], "s--", ms=3, color=COLORS["c3"],
                label="C3 fold π_S*, rank k+1")
        ax.plot(c["k"], c["certified_k1"], "^-", ms=3, color=COLORS["cert"],
                label="certified fold, rank k+1")
        ax.set(xlabel="rows kept k", ylabel="relative error E / ||W||²", title=name)
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        fig.savefig(out / f"curve_{_safe(name)}.png", dpi=120)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, ratio in enumerate(ratios):
        pr = [r["prune"] for layer in report for r in layer["ratios"] if r["ratio"] == ratio]
        fk = [r["fold_k"] for layer in report for r in layer["ratios"] if r["ratio"] == ratio]
        ce = [r["certified"] for layer in report for r in layer["ratios"]
              if r["ratio"] == ratio and r["certified"] is not None]
        for vals, col, dx in ((pr, COLORS["prune"], -0.25), (fk, COLORS["fold"], 0.0),
                              (ce, COLORS["cert"], 0.25)):
            ax.scatter([i + dx] * len(vals), vals, s=10, color=col, alpha=0.7)
    ax.scatter([], [], color=COLORS["prune"], label="prune at k")
    ax.scatter([], [], color=COLORS["fold"], label="default fold at k")
    ax.scatter([], [], color=COLORS["cert"], label="certified fold at k+1")
    ax.set_xticks(range(len(ratios)), [f"{r:g}" for r in ratios])
    ax.set(xlabel="compression ratio 1 − k/n", ylabel="relative error E / ||W||² (per layer)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "summary.png", dpi=120)
    plt.close(fig)
