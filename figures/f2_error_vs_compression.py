"""F2: relative error ``E/||W||_F²`` against compression ratio (C2, C4).

Magnitude pruning at k, default folding at k (k-means++, :func:`projgeo.fold`) and
certified folding at k + 1 (:func:`projgeo.certified_fold`), averaged over random matrices
of each family (n = 16 rows, d = 8) and over the first hidden layer ``[W_1 b_1]`` of the
width-32 networks of the C8 zoo (n = 32). The ratio is ``1 − k/n`` of the pruned/folded
rank k; the certified fold spends one row more.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from figures import _zoo
from figures._style import CERT, FOLD, PRUNE, save
from projgeo import certified_fold, compress_network, exact, families, fold

N, D = 16, 8
#: Ranks k per budget (each k is one compilation of the two k-means kernels).
KS = {"quick": (2, 8, 12), "full": (2, 4, 8, 12, 14)}
BATCH = {"quick": 12, "full": 64}


@functools.partial(jax.jit, static_argnames=("k",))
def _folds(ws, keys, *, k: int):
    default = jax.vmap(lambda w, key: fold(w, k, key=key).inertia)(ws, keys)
    cert = jax.vmap(lambda w: certified_fold(w, k).result.inertia)(ws)
    return default, cert


def _curves(ws, ks, seed: int):
    energy = np.sum(np.asarray(ws, np.float64) ** 2, axis=(1, 2))
    prune = np.asarray(exact.exact_prune_path(ws))
    keys = jax.random.split(jax.random.key(seed), len(ws))
    out = {"ratio": [], "prune": [], "fold": [], "certified_k1": []}
    for k in ks:
        d, c = map(np.asarray, _folds(ws, keys, k=k))
        out["ratio"].append(1 - k / ws.shape[1])
        out["prune"].append(float(np.mean(prune[:, k - 1] / energy)))
        out["fold"].append(float(np.mean(d / energy)))
        out["certified_k1"].append(float(np.mean(c / energy)))
    return out


def make(out: Path, budget: str = "quick") -> list[Path]:
    panels = {}
    for i, name in enumerate(families.FAMILIES):
        ws = families.sample_batch(name, jax.random.fold_in(jax.random.key(2), i),
                                   BATCH[budget], N, D)
        panels[name] = _curves(ws, KS[budget], i)
    z = _zoo.get(budget)
    layers = [compress_network.layer_rows(p, 0) for p, c in zip(z.params, z.configs, strict=True)
              if c.width == 32][: 4 * BATCH[budget]]
    if layers:
        ws = jnp.stack(layers).astype(jnp.float64)
        n = ws.shape[1]
        ks = tuple(k * n // N for k in KS[budget])  # the same ratios as the families
        panels[f"trained layer 1 (zoo, n={n})"] = _curves(ws, ks, 99)
    fig, axes = plt.subplots(3, 3, figsize=(10, 8.5), sharex=True, sharey=True)
    rows = []
    for ax, (name, c) in zip(axes.ravel(), panels.items(), strict=False):
        x = 100 * np.asarray(c["ratio"])
        ax.plot(x, c["prune"], "o-", ms=3, color=PRUNE, label="magnitude prune, rank k")
        ax.plot(x, c["fold"], "s-", ms=3, color=FOLD, label="default fold, rank k")
        ax.plot(x, c["certified_k1"], "^--", ms=3, color=CERT, label="certified fold, rank k+1")
        ax.set_title(name)
        ax.set_ylim(0, 1)
        rows += [{"panel": name, "ratio": c["ratio"][j], "prune": c["prune"][j],
                  "fold": c["fold"][j], "certified_k1": c["certified_k1"][j]}
                 for j in range(len(x))]
    for ax in axes[-1]:
        ax.set_xlabel("compression ratio 1 − k/n (%)")
    for ax in axes[:, 0]:
        ax.set_ylabel("relative error $E/||W||_F^2$")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return save(fig, out, "f2_error_vs_compression", rows)
