"""F6: accuracy versus compression on the trained zoo (C8, empirical).

(a) Test accuracy (median and interquartile band over the zoo) after compressing every
hidden layer at ratio r by magnitude pruning and by folding, same parameter count, no
retraining. (b) Fraction of networks where folding is at least as accurate, with 95 %
Wilson intervals. (c) Mean gap (fold − prune) at ratios ≥ 50 % by training setting, with
95 % intervals (mean ± 1.96 standard errors over networks); settings with one level in
the zoo are left out.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import FOLD, OKABE_ITO, PRUNE, letter, pct, save
from projgeo.experiments import zoo as zoo_mod

Z95 = 1.959963984540054


def wilson(p: float, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``p`` observed on ``n`` samples."""
    if n == 0:
        return 0.0, 1.0
    den = 1 + Z95**2 / n
    mid = (p + Z95**2 / (2 * n)) / den
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return float(mid - half), float(mid + half)


def _accuracy_panel(ax, z, what: str) -> None:
    r = 100 * z.ratios
    for name, table, col in (("magnitude pruning", z.prune_accuracy, PRUNE),
                             ("folding (k-means)", z.fold_accuracy, FOLD)):
        q1, med, q3 = np.percentile(100 * table, [25, 50, 75], axis=0)
        ax.plot(r, med, "o-", ms=3, color=col, label=f"{name}, median")
        ax.fill_between(r, q1, q3, color=col, alpha=0.15, lw=0)
    ax.axhline(100 * np.median(z.accuracy), color="0.3", ls="--", lw=0.8,
               label="uncompressed, median")
    ax.axhline(10, color="0.6", ls=":", lw=0.8, label="chance (10 classes)")
    ax.set_ylim(0, 100)
    ax.set_xlabel(f"compression ratio: % of {what} removed")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(loc="lower left", title="band: 25–75 %")


def make(out: Path, budget: str = "quick") -> list[Path]:
    z = _zoo.get(budget)
    n_net = len(z.configs)
    r = 100 * z.ratios
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained",
                             gridspec_kw={"width_ratios": [1.1, 1, 1.2]})
    _accuracy_panel(axes[0], z, "hidden channels")
    axes[0].set_title(f"{n_net} MLPs on digits (test set {len(zoo_mod.load_data(0)[3])} images)")
    letter(axes[0], 0)

    rows = zoo_mod.per_ratio(z)
    for row in rows:
        row["ci95"] = wilson(row["fold_at_least_prune"], n_net)
    ax = axes[1]
    frac = np.array([100 * x["fold_at_least_prune"] for x in rows])
    ci = 100 * np.array([x["ci95"] for x in rows]).T
    ax.bar(r, frac, width=7, color=FOLD, alpha=0.85)
    ax.errorbar(r, frac, yerr=[frac - ci[0], ci[1] - frac], fmt="none", ecolor="0.2", capsize=3,
                lw=0.9, label="95 % Wilson interval")
    ax.axhline(50, color="0.3", ls="--", lw=0.8, label="half of the networks")
    ax.set_ylim(0, 105)
    ax.set_xlabel("compression ratio (%)")
    ax.set_ylabel("networks with fold ≥ prune accuracy (%)")
    ax.set_title(f"fold at least as accurate as prune (n = {n_net})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    letter(ax, 1)

    ax = axes[2]
    settings = _settings(z)
    groups = [s["setting"] for s in settings]
    colors = {g: OKABE_ITO[i % len(OKABE_ITO)] for i, g in enumerate(dict.fromkeys(groups))}
    y = np.arange(len(settings))
    mean = np.array([100 * s["mean_gap"] for s in settings])
    half = np.array([100 * s["ci95_half"] for s in settings])
    ax.barh(y, mean, color=[colors[g] for g in groups], alpha=0.85)
    ax.errorbar(mean, y, xerr=half, fmt="none", ecolor="0.2", capsize=2, lw=0.8)
    ax.set_yticks(y, [f"{_fmt(s)} (n = {s['networks']})" for s in settings], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("mean accuracy gap fold − prune (points), ratios ≥ 50 %; 95 % interval")
    ax.set_title("gap by training setting" if settings else
                 "gap by training setting: every setting has one level in this zoo")
    letter(ax, 2)
    fig.suptitle(f"F6 · C8 (empirical): test accuracy of folding vs magnitude pruning at the same "
                 f"parameter count ({n_net} trained MLPs, no retraining)",
                 fontsize=10)
    data = {"networks": n_net, "per_ratio": rows, "by_setting": settings,
            "train_seconds": z.train_seconds, "eval_seconds": z.eval_seconds,
            "uncompressed_accuracy": z.accuracy.tolist()}
    pcts = [int(round(100 * q)) for q in z.ratios]
    nets = [{**c._asdict(), "accuracy": float(a),
             **{f"prune_{q}": float(x) for q, x in zip(pcts, pa, strict=True)},
             **{f"fold_{q}": float(x) for q, x in zip(pcts, fa, strict=True)}}
            for c, a, pa, fa in zip(z.configs, z.accuracy, z.prune_accuracy, z.fold_accuracy,
                                    strict=True)]
    wins = [x["fold_at_least_prune"] for x in rows]
    caption = (
        "F6 accuracy versus compression (C8, empirical)",
        f"{n_net} MLPs trained on scikit-learn's digits (median uncompressed test accuracy "
        f"{pct(float(np.median(z.accuracy)))}), every hidden layer compressed at ratios "
        f"{pct(z.ratios[0], 0)}–{pct(z.ratios[-1], 0)} by magnitude pruning and by folding at "
        f"the same parameter count, no retraining. Folding is at least as accurate as pruning "
        f"in {pct(min(wins))} to {pct(max(wins))} of the networks per ratio "
        f"({pct(wins[0])} at {pct(z.ratios[0], 0)}, {pct(wins[-1])} at "
        f"{pct(z.ratios[-1], 0)}); the median accuracy at {pct(z.ratios[-1], 0)} is "
        f"{pct(float(np.median(z.fold_accuracy[:, -1])))} folded and "
        f"{pct(float(np.median(z.prune_accuracy[:, -1])))} pruned. Per-network numbers: "
        "`out/f6_c8_networks.csv`.",
    )
    return save(fig, out, "f6_c8_accuracy", data, caption) + _table(out, nets)


def _settings(z) -> list[dict]:
    """:func:`projgeo.experiments.zoo.by_setting` with a 95 % interval of each mean gap,
    without the settings that have a single level in this zoo."""
    rows = zoo_mod.by_setting(z)
    levels: dict[str, int] = {}
    for s in rows:
        levels[s["setting"]] = levels.get(s["setting"], 0) + 1
    cols = z.ratios >= 0.5 - 1e-9
    gap = (z.fold_accuracy - z.prune_accuracy)[:, cols].mean(axis=1)
    out = []
    for s in rows:
        if levels[s["setting"]] < 2:
            continue
        sel = np.array([getattr(c, s["setting"]) == s["value"] for c in z.configs])
        sd = float(gap[sel].std(ddof=1)) if sel.sum() > 1 else 0.0
        out.append({**s, "ci95_half": Z95 * sd / np.sqrt(sel.sum())})
    return out


def _fmt(s) -> str:
    v = s["value"]
    return f"{s['setting']} = {v}" if isinstance(v, str) else f"{s['setting']} = {v:g}"


def _table(out: Path, nets) -> list[Path]:
    """Per-network table: training setting, uncompressed and compressed accuracies."""
    import csv

    p = out / "f6_c8_networks.csv"
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(nets[0]))
        w.writeheader()
        w.writerows(nets)
    return [p]
