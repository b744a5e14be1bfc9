"""The batched certified C4 check (THEORY.md C4(ii)), vmapped and sharded over devices.

For each matrix: magnitude pruning ``S*`` at k, the C3 partition ``π_{S*}`` (k+1 clusters),
and the certified fold: :func:`projgeo.fold` at k+1 started from ``π_{S*}``. Lloyd,
Hartigan and split–merge never increase the inertia, so the chain

    E_fold(result) ≤ E_fold(π_{S*}) ≤ E_prune(S*) = OPT_prune(k)

certifies ``OPT_fold(k+1) ≤ OPT_prune(k)`` on every instance. ``certified_fold`` is a
local stand-in for ``projgeo.certified_fold`` (written elsewhere) and can be swapped for it.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import projgeo
from projgeo import tolerance
from projgeo.kmeans import sharding


def certified_fold(w, k: int, **options):
    """Fold at k+1 started from the C3 partition of magnitude pruning at k."""
    p = projgeo.magnitude_prune(w, k)
    start = projgeo.pruning_partition(p)
    return projgeo.fold(w, k + 1, init=start.labels, **options), p, start


def c4_terms(w, k: int, **options) -> dict:
    """The quantities of the certified C4 chain for one matrix (vmap/shard this)."""
    res, p, start = certified_fold(w, k, **options)
    return {"e_fold": res.inertia, "e_fold_start": projgeo.fold_error(w, start),
            "e_prune": projgeo.prune_error(w, p), "w_sq": jnp.sum(w * w),
            "labels": res.labels, "iterations": res.iterations}


def verdict(terms: dict, n: int, d: int, dtype) -> np.ndarray:
    """Per instance: does the chain hold up to the tolerance rule of projgeo.tolerance?"""
    kw = dict(dtype=dtype, scale=terms["w_sq"], terms=n * d)
    return (tolerance.leq(terms["e_fold"], terms["e_fold_start"], **kw)
            & tolerance.leq(terms["e_fold_start"], terms["e_prune"], **kw))


def run(batch: int, n: int, d: int, k: int, *, seed: int = 0, family: str = "gaussian",
        **options) -> dict:
    """Time the certified C4 check on ``batch`` float64 matrices over all devices."""
    ws = projgeo.families.sample_batch(family, jax.random.key(seed), batch, n, d, jnp.float64)
    ws = jax.block_until_ready(ws)
    check = sharding.sharded_vmap(lambda w: c4_terms(w, k, **options))
    t0 = time.perf_counter()
    jax.block_until_ready(check(ws))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = sharding.to_host(jax.block_until_ready(check(ws)))
    seconds = time.perf_counter() - t0
    ok = verdict(out, n, d, np.float64)
    gain = (out["e_prune"] - out["e_fold"]) / np.maximum(out["w_sq"], 1e-300)
    return {"batch": batch, "n": n, "d": d, "k": k, "dtype": "float64", "family": family,
            "options": options, "devices": len(jax.devices()), "seconds": seconds,
            "first_call_seconds": first, "instances_per_second": batch / seconds,
            "certified": int(ok.sum()), "violations": int((~ok).sum()),
            "max_iterations": int(np.max(out["iterations"])),
            "mean_iterations": float(np.mean(out["iterations"])),
            "mean_relative_gain_over_pruning": float(gain.mean())}
