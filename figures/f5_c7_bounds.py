"""F5: functional perturbation against its Lipschitz bound (C7(c)), on the trained zoo.

For depth-2 ReLU networks of the C8 zoo (float64 copies), every hidden layer compressed by
magnitude pruning or by folding at several ratios: the measured ``||f(x) − f̂(x)||`` on
test inputs against the bound ``L_σ^{L−1} ||x̃|| Π_j ||W̃_j||_2 Σ_l ||ΔW̃_l||_2 / ||W̃_l||_2``
(:func:`projgeo.bounds.mlp_bound`, biases folded in). (a) Every point lies below the
diagonal; (b) step histograms of the slack bound / measured.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import FOLD, PRUNE, letter, save
from projgeo import bounds, compress_network, networks
from projgeo.experiments import zoo

RATIOS = (0.3, 0.6, 0.9)
INPUTS = 32
NETS = {"quick": 8, "full": 48}


@jax.jit
def _measure(params, ps, x):
    """Measured ``||f(x) − f̂(x)||`` and the C7(c) bound per input, for projectors ``ps``
    (computed outside: the folds reuse their compiled capacity buckets across ratios)."""
    small = compress_network.project(params, ps)
    f = jax.vmap(lambda xi: networks.mlp(params, xi, jax.nn.relu))(x)
    g = jax.vmap(lambda xi: networks.mlp(small, xi, jax.nn.relu))(x)
    measured = jnp.linalg.norm(f - g, axis=1)
    bound = jax.vmap(lambda xn: bounds.mlp_bound(params, ps, xn, 1.0).all_layers)(
        jnp.linalg.norm(x, axis=1))
    return measured, bound


def make(out: Path, budget: str = "quick") -> list[Path]:
    z = _zoo.get(budget)
    x = jnp.asarray(zoo.load_data(0)[2][:INPUTS], jnp.float64)
    nets = [i for i, c in enumerate(z.configs) if c.depth == 2][: NETS[budget]]
    if not nets:  # the quick zoo has depth 1 only
        nets = list(range(min(NETS[budget], len(z.configs))))
    rows = []
    for i in nets:
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), z.params[i])
        for ratio in RATIOS:
            for method in ("prune", "fold"):
                ps = zoo.projectors(params, method, ratio, key=jax.random.key(i))
                m, b = map(np.asarray, _measure(params, ps, x))
                rows += [{"network": i, "method": method, "ratio": ratio, "measured": mm,
                          "bound": bb} for mm, bb in zip(m, b, strict=True)]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    m_all = np.array([r["measured"] for r in rows])
    b_all = np.array([r["bound"] for r in rows])
    below = int(np.sum(m_all <= b_all))
    pos_all = m_all > 0
    slack = b_all[pos_all] / m_all[pos_all]
    bins = np.linspace(0, np.log10(slack.max()) * 1.02 + 1e-9, 40)
    for method, col in (("prune", PRUNE), ("fold", FOLD)):
        sel = [r for r in rows if r["method"] == method]
        m = np.array([r["measured"] for r in sel])
        b = np.array([r["bound"] for r in sel])
        pos = m > 0
        label = "magnitude pruning" if method == "prune" else "folding (k-means)"
        axes[0].scatter(b[pos], m[pos], s=4, alpha=0.4, color=col, label=label)
        axes[1].hist(np.log10(b[pos] / m[pos]), bins=bins, histtype="step", lw=1.4, color=col,
                     label=f"{label} ({int(pos.sum())} points)")
    lo = float(m_all[pos_all].min())
    hi = float(b_all.max())
    axes[0].plot([lo, hi], [lo, hi], "--", color="0.3", lw=0.8, label="measured = bound")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("bound C7(c) on $||f(x) - \\hat f(x)||$ (logit units)")
    axes[0].set_ylabel("measured $||f(x) - \\hat f(x)||$ (logit units)")
    axes[0].set_title(f"{below} of {len(rows)} points on or below the diagonal")
    axes[0].legend(loc="upper left", markerscale=3)
    letter(axes[0], 0)
    axes[1].set_xlabel("slack $\\log_{10}$(bound / measured)")
    axes[1].set_ylabel("count of (network, ratio, input)")
    axes[1].set_title(f"slack: min {slack.min():.1f}×, median {np.median(slack):.0f}×, "
                      f"max {slack.max():.0f}×")
    axes[1].legend(loc="upper right")
    letter(axes[1], 1)
    depth = z.configs[nets[0]].depth
    fig.suptitle(f"F5 · C7(c): the measured output change stays below the Lipschitz bound "
                 f"({len(nets)} trained MLPs of depth {depth}, ratios "
                 f"{', '.join(f'{100 * r:.0f} %' for r in RATIOS)}, {INPUTS} test inputs)",
                 fontsize=10)
    caption = (
        "F5 functional bounds (C7)",
        f"{len(nets)} trained zoo MLPs (depth {depth}), every hidden layer compressed by "
        f"magnitude pruning and by folding at ratios "
        f"{', '.join(f'{100 * r:.0f} %' for r in RATIOS)}, on {INPUTS} test inputs: "
        f"{len(rows)} points. The measured output change ||f(x) − f̂(x)|| is at or below "
        f"the network bound C7(c) at {below} of {len(rows)}; the bound is "
        f"{slack.min():.1f}× to {slack.max():.0f}× the measured change "
        f"(median {np.median(slack):.0f}×, over the {int(pos_all.sum())} points with a "
        "nonzero change).",
    )
    return save(fig, out, "f5_c7_bounds", rows, caption)
