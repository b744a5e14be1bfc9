"""F6: accuracy versus compression on the trained zoos (C8, empirical).

(a) MLPs, (b) CNNs: test accuracy (median and interquartile band over the zoo) after
compressing every hidden (conv) layer at ratio r by magnitude pruning and by folding, same
parameter count, no retraining. (c) Fraction of networks where folding is at least as
accurate, with 95 % Wilson intervals, both zoos. (d) MLPs: mean gap (fold − prune) at
ratios ≥ 50 % by training setting, with 95 % intervals (mean ± 1.96 standard errors over
networks); settings with one level in the zoo are left out.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import CERT, FOLD, OKABE_ITO, PRUNE, letter, pct, save
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


def _wins_panel(ax, zoos) -> None:
    """Share of networks with fold ≥ prune accuracy per ratio, one bar per zoo, 95 % Wilson
    intervals."""
    width = 7 / len(zoos)
    for i, (label, z, col, hatch) in enumerate(zoos):
        rows = zoo_mod.per_ratio(z)
        x = 100 * z.ratios + (i - (len(zoos) - 1) / 2) * width
        frac = np.array([100 * r["fold_at_least_prune"] for r in rows])
        ci = 100 * np.array([wilson(r["fold_at_least_prune"], len(z.configs)) for r in rows]).T
        ax.bar(x, frac, width=width * 0.95, color=col, alpha=0.85, hatch=hatch,
               edgecolor="white", label=f"{label} (n = {len(z.configs)})")
        ax.errorbar(x, frac, yerr=[frac - ci[0], ci[1] - frac], fmt="none", ecolor="0.2",
                    capsize=2, lw=0.8)
    ax.axhline(50, color="0.3", ls="--", lw=0.8, label="half of the networks")
    ax.set_ylim(0, 105)
    ax.set_xlabel("compression ratio (%)")
    ax.set_ylabel("networks with fold ≥ prune accuracy (%)")
    ax.set_title("fold at least as accurate as prune; 95 % Wilson intervals")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3)


def make(out: Path, budget: str = "quick") -> list[Path]:
    z = _zoo.get(budget)
    c = _zoo.get_cnn(budget)
    n_net, n_cnn = len(z.configs), len(c.configs)
    n_test = len(zoo_mod.load_data(0)[3])
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6), layout="constrained")
    ax = axes[0, 0]
    _accuracy_panel(ax, z, "hidden channels (every hidden layer)")
    ax.set_title(f"{n_net} MLPs on digits (test set {n_test} images)")
    letter(ax, 0)
    ax = axes[0, 1]
    _accuracy_panel(ax, c, "channels (both conv layers)")
    ax.set_title(f"{n_cnn} CNNs, two 3×3 conv layers + dense head (test set {n_test})")
    letter(ax, 1)
    ax = axes[1, 0]
    _wins_panel(ax, [("MLPs", z, FOLD, None), ("CNNs", c, CERT, "//")])
    letter(ax, 2)

    ax = axes[1, 1]
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
    ax.set_xlabel("MLPs: mean accuracy gap fold − prune (points), ratios ≥ 50 %; 95 % interval")
    ax.set_title("MLP gap by training setting" if settings else
                 "gap by training setting: every setting has one level in this zoo")
    letter(ax, 3)
    fig.suptitle(f"F6 · C8 (empirical): test accuracy of folding vs magnitude pruning at the "
                 f"same parameter count ({n_net} MLPs, {n_cnn} CNNs, no retraining)",
                 fontsize=10)
    rows = zoo_mod.per_ratio(z)
    cnn_rows = zoo_mod.per_ratio(c)
    for row, zz in [(r, z) for r in rows] + [(r, c) for r in cnn_rows]:
        row["ci95"] = wilson(row["fold_at_least_prune"], len(zz.configs))
    data = {"networks": n_net, "per_ratio": rows, "by_setting": settings,
            "train_seconds": z.train_seconds, "eval_seconds": z.eval_seconds,
            "uncompressed_accuracy": z.accuracy.tolist(),
            "cnn": {"networks": n_cnn, "per_ratio": cnn_rows,
                    "train_seconds": c.train_seconds, "eval_seconds": c.eval_seconds,
                    "uncompressed_accuracy": c.accuracy.tolist()}}
    caption = ("F6 accuracy versus compression (C8, empirical)",
               _describe(z, rows, "MLPs", "every hidden layer") + " "
               + _describe(c, cnn_rows, "CNNs (two 3×3 conv layers and a dense head)",
                           "both conv layers, channel-wise")
               + " Same parameter count for both methods, no retraining. Per-network numbers: "
               "`out/f6_c8_networks.csv`, `out/f6_c8_cnn_networks.csv`.")
    return (save(fig, out, "f6_c8_accuracy", data, caption) + _table(out, z, "f6_c8_networks")
            + _table(out, c, "f6_c8_cnn_networks"))


def _describe(z, rows, what: str, where: str) -> str:
    """One caption sentence of a zoo's numbers."""
    wins = [x["fold_at_least_prune"] for x in rows]
    return (f"{len(z.configs)} {what} trained on scikit-learn's digits (median uncompressed "
            f"test accuracy {pct(float(np.median(z.accuracy)))}), {where} compressed at ratios "
            f"{pct(z.ratios[0], 0)}–{pct(z.ratios[-1], 0)}: folding is at least as accurate as "
            f"magnitude pruning in {pct(min(wins))} to {pct(max(wins))} of the networks per "
            f"ratio ({pct(wins[0])} at {pct(z.ratios[0], 0)}, {pct(wins[-1])} at "
            f"{pct(z.ratios[-1], 0)}); median accuracy at {pct(z.ratios[-1], 0)}: "
            f"{pct(float(np.median(z.fold_accuracy[:, -1])))} folded, "
            f"{pct(float(np.median(z.prune_accuracy[:, -1])))} pruned.")


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


def _table(out: Path, z, name: str) -> list[Path]:
    """Per-network table: training setting, uncompressed and compressed accuracies."""
    import csv

    pcts = [int(round(100 * q)) for q in z.ratios]
    nets = [{**c._asdict(), "accuracy": float(a),
             **{f"prune_{q}": float(x) for q, x in zip(pcts, pa, strict=True)},
             **{f"fold_{q}": float(x) for q, x in zip(pcts, fa, strict=True)}}
            for c, a, pa, fa in zip(z.configs, z.accuracy, z.prune_accuracy, z.fold_accuracy,
                                    strict=True)]
    p = out / f"{name}.csv"
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(nets[0]))
        w.writeheader()
        w.writerows(nets)
    return [p]
