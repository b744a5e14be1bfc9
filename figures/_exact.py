"""Exact ``OPT_fold`` / ``OPT_prune`` paths on family matrices, shared by F3 and F7 (C4, C5)."""

from __future__ import annotations

import functools

import jax
import numpy as np

from projgeo import exact, families

N, D = 8, 4
#: Matrices per family and budget.
BATCH = {"quick": 48, "full": 256}


@functools.cache
def paths(budget: str, seed: int = 0):
    """``{family: (w (B,N,D), opt_fold (B,N), opt_prune (B,N), energy (B,))}``; entry
    ``[:, k − 1]`` is rank k."""
    out = {}
    for i, name in enumerate(families.FAMILIES):
        key = jax.random.fold_in(jax.random.key(seed), i)
        w = np.asarray(families.sample_batch(name, key, BATCH[budget], N, D))
        fold = np.asarray(exact.exact_fold_path(w).inertia)
        prune = np.asarray(exact.exact_prune_path(w))
        out[name] = (w, fold, prune, np.sum(w * w, axis=(1, 2)))
    return out
