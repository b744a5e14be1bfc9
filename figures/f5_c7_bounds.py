"""F5: functional perturbation against its Lipschitz bound (C7(c)), on the trained zoo.

For depth-2 ReLU networks of the C8 zoo (float64 copies), every hidden layer compressed by
magnitude pruning or by folding at several ratios: the measured ``||f(x) − f̂(x)||`` on
test inputs against the bound ``L_σ^{L−1} ||x̃|| Π_j ||W̃_j||_2 Σ_l ||ΔW̃_l||_2 / ||W̃_l||_2``
(:func:`projgeo.bounds.mlp_bound`, biases folded in). Every point lies below the
diagonal; right, the slack bound / measured.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import FOLD, PRUNE, save
from projgeo import bounds, compress_network, networks
from projgeo.experiments import zoo

RATIOS = (0.3, 0.6, 0.9)
INPUTS = 32
NETS = {"quick": 8, "full": 48}


@functools.partial(jax.jit, static_argnames=("method", "ratio"))
def _measure(params, x, key, *, method: str, ratio: float):
    ps = zoo.projectors(params, method, ratio, key=key)
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
                m, b = map(np.asarray, _measure(params, x, jax.random.key(i), method=method,
                                                ratio=ratio))
                rows += [{"network": i, "method": method, "ratio": ratio, "measured": mm,
                          "bound": bb} for mm, bb in zip(m, b, strict=True)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    worst = np.inf
    for method, col in (("prune", PRUNE), ("fold", FOLD)):
        sel = [r for r in rows if r["method"] == method]
        m = np.array([r["measured"] for r in sel])
        b = np.array([r["bound"] for r in sel])
        pos = m > 0
        worst = min(worst, float(np.min(b - m)))
        label = "magnitude pruning" if method == "prune" else "folding (k-means)"
        axes[0].scatter(b[pos], m[pos], s=4, alpha=0.4, color=col, label=label)
        axes[1].hist(np.log10(b[pos] / m[pos]), bins=40, alpha=0.6, color=col, label=label)
    lo = min(r["measured"] for r in rows if r["measured"] > 0)
    hi = max(r["bound"] for r in rows)
    axes[0].plot([lo, hi], [lo, hi], "--", color="0.3", lw=0.8, label="measured = bound")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("bound C7(c) on $||f(x) - \\hat f(x)||$ (logit units)")
    axes[0].set_ylabel("measured $||f(x) - \\hat f(x)||$ (logit units)")
    axes[0].set_title(f"{len(nets)} trained MLPs × {len(RATIOS)} ratios × {INPUTS} inputs; "
                      f"min(bound − measured) = {worst:.2g}", fontsize=8)
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("slack $\\log_{10}$(bound / measured)")
    axes[1].set_ylabel("count (network, ratio, input)")
    axes[1].set_title("slack of the bound")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return save(fig, out, "f5_c7_bounds", rows)
