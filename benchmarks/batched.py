"""The batched certified C4 check (THEORY.md C4(ii)), and its naive baseline in the same run.

For each matrix of a float64 batch, :func:`projgeo.certified_fold_batch`: magnitude pruning
``S*`` at k, then ``steps`` Lloyd steps from the C3 partition ``π_{S*}`` (``hartigan=False``:
lock step, monotone acceptance), then the bitwise guard, so that

    E_fold(result) ≤ OPT_prune(k)

holds on every instance as computed. The baseline (issue 14) is a naive ``jax.vmap`` of
``steps`` plain :func:`projgeo.kmeans.lloyd_step` s from ``π_{S*}`` (no acceptance, no
guard, no certificate), timed on the same matrices right after, so that the ratio of the two
does not depend on the load of the machine. Both are steady state (second call). The default
``hartigan=True`` (single-row moves after Lloyd's fixed point) is timed too (``with_hartigan``),
and so is the certified kernel with every chunk running all ``steps`` iterations
(``fixed_trip``; by default a chunk stops once none of its matrices has anything left to do,
with bitwise the same results): the strict equal-work comparison with the naive loop.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import projgeo
from projgeo import tolerance
from projgeo.kmeans import lloyd_step
from projgeo.kmeans.batched import _batch_kernel as batched_kernel


def _naive(ws, k: int, steps: int):
    """``steps`` plain Lloyd steps from ``π_{S*}`` per matrix, vmapped: (B,) inertias."""
    m = k + 1

    def one(w):
        keep = projgeo.magnitude_prune(w, k).keep
        labels = jnp.full(w.shape[0], k, jnp.int32).at[keep].set(jnp.arange(k, dtype=jnp.int32))
        labels = jax.lax.fori_loop(0, steps, lambda _, lab: lloyd_step(w, lab, m), labels)
        return projgeo.fold_error(w, projgeo.FoldProjector(labels, m))

    return jax.vmap(one)(ws)


_naive_jit = jax.jit(_naive, static_argnames=("k", "steps"))


def _steady(fn, reps: int = 3):
    """(first-call seconds, best of ``reps`` later calls, last output)."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return first, best, out


def run(batch: int, n: int, d: int, k: int, *, steps: int = 10, seed: int = 0,
        family: str = "gaussian") -> dict:
    """Time the batched certified fold and the naive vmapped Lloyd on ``batch`` matrices."""
    ws = projgeo.families.sample_batch(family, jax.random.key(seed), batch, n, d, jnp.float64)
    ws = jax.block_until_ready(ws)
    first, seconds, c = _steady(
        lambda: projgeo.certified_fold_batch(ws, k, steps=steps, hartigan=False))
    _, naive_seconds, naive = _steady(lambda: _naive_jit(ws, k=k, steps=steps))
    # The same kernel with every chunk running all ``steps`` iterations (no chunk-level exit
    # once all its matrices are done): bitwise the same results, the strict equal-work
    # comparison with the naive loop.
    _, fixed_seconds, fixed = _steady(lambda: batched_kernel(
        ws, np.int32(steps), k=k, score="l2", hartigan=False, early_exit=False))
    same = all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in
               zip(jax.tree.leaves(fixed[0]), jax.tree.leaves(c.result), strict=True))
    _, h_seconds, h = _steady(lambda: projgeo.certified_fold_batch(ws, k, steps=steps))
    inertia, prune = np.asarray(c.result.inertia), np.asarray(c.prune_error)
    w_sq = np.sum(np.asarray(ws) ** 2, axis=(1, 2))
    recomputed = np.asarray(jax.vmap(
        lambda w, lab: projgeo.fold_error(w, projgeo.FoldProjector(lab, k + 1)))(
            ws, c.result.labels))
    consistent = tolerance.close(inertia, recomputed, dtype=np.float64, scale=w_sq, terms=n * d)
    ok = (inertia <= prune) & consistent
    gain = (prune - inertia) / np.maximum(w_sq, 1e-300)
    return {"batch": batch, "n": n, "d": d, "k": k, "steps": steps, "dtype": "float64",
            "family": family, "devices": len(jax.devices()), "seconds": seconds,
            "first_call_seconds": first, "instances_per_second": batch / seconds,
            "naive_lloyd_seconds": naive_seconds,
            "naive_lloyd_instances_per_second": batch / naive_seconds,
            "speed_ratio_to_naive": naive_seconds / seconds,
            "fixed_trip": {"instances_per_second": batch / fixed_seconds,
                           "speed_ratio_to_naive": naive_seconds / fixed_seconds,
                           "bitwise_equal_to_default": bool(same)},
            "certified": int(ok.sum()), "violations": int((~ok).sum()),
            "fell_back": int(np.sum(np.asarray(c.fell_back))),
            "mean_inertia": float(inertia.mean()),
            "naive_mean_inertia": float(np.mean(np.asarray(naive))),
            "mean_accepted_iterations": float(np.mean(np.asarray(c.result.iterations))),
            "with_hartigan": {"instances_per_second": batch / h_seconds,
                              "speed_ratio_to_naive": naive_seconds / h_seconds,
                              "violations": int(np.sum(np.asarray(h.result.inertia)
                                                       > np.asarray(h.prune_error))),
                              "mean_inertia": float(np.mean(np.asarray(h.result.inertia)))},
            "mean_relative_gain_over_pruning": float(gain.mean())}
