"""F6: accuracy versus compression on the trained zoo (C8, empirical).

Left: test accuracy (median and interquartile band over the zoo) after compressing every
hidden layer at ratio r by magnitude pruning and by folding, same parameter count, no
retraining. Middle: fraction of networks where folding is at least as accurate. Right:
mean gap (fold − prune) at ratios ≥ 50 % by training setting.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import FOLD, OKABE_ITO, PRUNE, save
from projgeo.experiments import zoo as zoo_mod


def make(out: Path, budget: str = "quick") -> list[Path]:
    z = _zoo.get(budget)
    r = 100 * z.ratios
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1.1, 1, 1.2]})
    ax = axes[0]
    for name, table, col in (("magnitude pruning", z.prune_accuracy, PRUNE),
                             ("folding (k-means)", z.fold_accuracy, FOLD)):
        q1, med, q3 = np.percentile(100 * table, [25, 50, 75], axis=0)
        ax.plot(r, med, "o-", ms=3, color=col, label=f"{name} (median)")
        ax.fill_between(r, q1, q3, color=col, alpha=0.2, lw=0)
    ax.axhline(100 * np.median(z.accuracy), color="0.3", ls="--", lw=0.8,
               label="uncompressed (median)")
    ax.set_xlabel("compression ratio: % of hidden channels removed (same for both)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{len(z.configs)} MLPs on digits; band: 25–75 %")
    ax.legend(fontsize=7, loc="lower left")

    rows = zoo_mod.per_ratio(z)
    ax = axes[1]
    ax.bar(r, [100 * x["fold_at_least_prune"] for x in rows], width=7, color=FOLD)
    ax.axhline(50, color="0.3", ls="--", lw=0.8)
    ax.set_ylim(0, 100)
    ax.set_xlabel("compression ratio (%)")
    ax.set_ylabel("networks with fold ≥ prune accuracy (%)")
    ax.set_title("how often folding keeps at least as much accuracy")

    ax = axes[2]
    settings = zoo_mod.by_setting(z)
    labels = [f"{s['setting']}={s['value']:g}" if not isinstance(s["value"], str)
              else f"{s['setting']}={s['value']}" for s in settings]
    groups = [s["setting"] for s in settings]
    colors = {g: OKABE_ITO[i % len(OKABE_ITO)] for i, g in enumerate(dict.fromkeys(groups))}
    y = np.arange(len(settings))
    ax.barh(y, [100 * s["mean_gap"] for s in settings], color=[colors[g] for g in groups])
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("mean accuracy gap fold − prune (points), ratios ≥ 50 %")
    ax.set_title("gap by training setting")
    fig.tight_layout()
    data = {"networks": len(z.configs), "per_ratio": rows, "by_setting": settings,
            "train_seconds": z.train_seconds, "eval_seconds": z.eval_seconds,
            "uncompressed_accuracy": z.accuracy.tolist()}
    pct = [int(round(100 * q)) for q in z.ratios]
    nets = [{**c._asdict(), "accuracy": float(a),
             **{f"prune_{q}": float(x) for q, x in zip(pct, pa, strict=True)},
             **{f"fold_{q}": float(x) for q, x in zip(pct, fa, strict=True)}}
            for c, a, pa, fa in zip(z.configs, z.accuracy, z.prune_accuracy, z.fold_accuracy,
                                    strict=True)]
    return save(fig, out, "f6_c8_accuracy", data) + _table(out, nets)


def _table(out: Path, nets) -> list[Path]:
    """Per-network table: training setting, uncompressed and compressed accuracies."""
    import csv

    p = out / "f6_c8_networks.csv"
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(nets[0]))
        w.writeheader()
        w.writerows(nets)
    return [p]
