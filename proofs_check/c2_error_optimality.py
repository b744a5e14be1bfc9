"""C2 checker: closed-form errors, optimality of magnitude pruning, cluster means.

For random matrices of every family:

* ``E_prune(S) = Σ_{i∉S}||w_i||²`` and the k-means inertia ``E_fold(π)`` equal
  ``||(I − P)W||_F²`` computed with the dense projector, as does the implicit
  ``projection_error``;
* magnitude pruning ``S*`` (L2) attains ``min_{|S|=k} E_prune(S)``: exactly, by
  enumerating every k-subset when there are at most ``MAX_SUBSETS`` of them, else against
  the sorted-energy closed form and random subsets; the L1 variant is never better;
* for a fixed partition, any cluster-constant ``C Y`` satisfies
  ``||W − C Y||² = E_fold(π) + Σ_j |G_j|·||y_j − μ_j||² ≥ E_fold(π)``.
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import (
    FoldProjector,
    PruneProjector,
    fold_error,
    magnitude_prune,
    projection_error,
    prune_error,
    pruning_partition,
)
from proofs_check import _instances
from proofs_check.frame import Claim, Context, Tally

CLAIM = Claim(
    "C2",
    "Error formulas and optimality",
    "E_prune(S) = sum over pruned rows ||w_i||^2 = ||(I - P_S) W||_F^2 and E_fold(pi) = sum_j"
    " sum_{i in G_j} ||w_i - mu_j||^2 = ||(I - P_pi) W||_F^2; S* (the k largest rows) "
    "minimises E_prune; P_pi W is the nearest matrix whose rows are constant on pi",
)
MAX_SUBSETS = 1000
RANDOM_SUBSETS = 64


def _subset_masks(n: int, k: int) -> np.ndarray:
    return np.array([[i in c for i in range(n)] for c in itertools.combinations(range(n), k)])


def _dense_error(w, p):
    r = w - p.matrix(w.dtype) @ w
    return jnp.sum(r * r)


@functools.partial(jax.jit, static_argnames="k")
def _batch(ws, keys, masks, k):
    def one(w, key):
        n = w.shape[0]
        k1, k2, k3 = jax.random.split(key, 3)
        energy = jnp.sum(w * w, axis=1)
        star = magnitude_prune(w, k)
        prunes = {"magnitude": star, "random": PruneProjector(_instances.random_keep(k1, n, k), n),
                  "l1": magnitude_prune(w, k, score="l1")}
        folds = {"random": FoldProjector(_instances.random_partition(k2, n, k), k)}
        if k < n:
            folds["pi_S*"] = pruning_partition(star)
        out = {f"prune_{name}": {"closed": prune_error(w, p), "dense": _dense_error(w, p),
                                 "implicit": projection_error(w, p)} for name, p in prunes.items()}
        out |= {f"fold_{name}": {"closed": fold_error(w, p), "dense": _dense_error(w, p),
                                 "implicit": projection_error(w, p)} for name, p in folds.items()}
        subset_errors = (1.0 - masks) @ energy
        out["subsets_min"] = jnp.min(subset_errors)
        out["sorted_bound"] = jnp.sum(jnp.sort(energy)[: n - k])
        # Cluster-constant competitors C Y with Y = means + perturbations of several sizes.
        p = folds["random"]
        mu = p.compress(w)
        t = jnp.logspace(-3, 1, 4, dtype=w.dtype)[:, None, None]
        ys = mu + t * jax.random.normal(k3, (4,) + mu.shape, w.dtype) * jnp.sqrt(
            jnp.mean(w * w) + 1e-300)
        comp = jax.vmap(lambda y: jnp.sum((w - y[p.labels]) ** 2))(ys)
        pyth = out["fold_random"]["closed"] + jax.vmap(
            lambda y: jnp.sum(p.counts()[:, None] * (y - mu) ** 2))(ys)
        out["competitor"], out["competitor_pyth"] = comp, pyth
        out["w_sq"], out["comp_scale"] = jnp.sum(w * w), jnp.max(comp)
        return out

    return jax.vmap(one)(ws, keys)


def check(ctx: Context) -> Tally:
    tally = Tally()
    shapes = _instances.shapes(ctx.scale)
    exact = 0
    for (n, d, k), ws, fam, keys in _instances.shape_batches(ctx, 2):
        enumerate_all = math.comb(n, k) <= MAX_SUBSETS
        if enumerate_all:
            masks = _subset_masks(n, k)
        else:
            rng = np.random.default_rng([ctx.seed, n, k])
            masks = np.array([np.isin(np.arange(n), rng.choice(n, k, replace=False))
                              for _ in range(RANDOM_SUBSETS)])
        q = jax.tree.map(np.asarray, _instances.run_fast(
            _batch, ws, keys, jnp.asarray(masks, ws.dtype), k=k))
        b = tally.batch(ws.shape[0], f"n={n} d={d} k={k}")
        dt, s, t = ws.dtype, q["w_sq"], n * d
        kw = dict(dtype=dt, scale=s, terms=t, family=fam)
        for name, x in q.items():
            if isinstance(x, dict):
                b.equal(f"{name}: closed form = ||(I-P)W||^2 (dense)", x["closed"], x["dense"],
                        **kw)
                b.equal(f"{name}: implicit ||W-PW||^2 = dense", x["implicit"], x["dense"], **kw)
        star = q["prune_magnitude"]["closed"]
        b.equal("E_prune(S*) = sum of the n-k smallest row energies", star, q["sorted_bound"], **kw)
        b.leq("E_prune(S*) <= E_prune(S) for every S tried", star, q["subsets_min"], **kw)
        if enumerate_all:
            b.equal("E_prune(S*) = min over all k-subsets", star, q["subsets_min"], **kw)
            exact += ws.shape[0]
        b.leq("E_prune(S*) <= E_prune(random S)", star, q["prune_random"]["closed"], **kw)
        b.leq("E_prune(S*_L2) <= E_prune(S_L1)", star, q["prune_l1"]["closed"], **kw)
        ckw = dict(dtype=dt, scale=q["comp_scale"][:, None], terms=t, family=fam)
        b.equal("||W - CY||^2 = E_fold + sum_j |G_j| ||y_j - mu_j||^2", q["competitor"],
                q["competitor_pyth"], **ckw)
        b.leq("E_fold(pi) <= ||W - CY||^2", q["fold_random"]["closed"][:, None],
              q["competitor"], **ckw)
        b.done()
    tally.details = {"families": list(_instances.NAMES), "shapes": [list(x) for x in shapes],
                     "exact_optimality_trials": exact,
                     "max_subsets_enumerated": MAX_SUBSETS}
    return tally
