"""Random instances shared by the checkers: matrices of every family, keep-sets, partitions.

Compilation dominates the quick budget on a CPU, so every shape is drawn for all
families at once (one compiled sampler per shape) and checked in one vmapped batch.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import families

#: (n, d, k) shapes of the quick budget; larger budgets add the ``EXTRA`` shapes.
SHAPES = ((6, 3, 2), (11, 5, 5))
EXTRA = ((16, 8, 3), (24, 12, 11), (48, 8, 20), (64, 16, 40))
NAMES = tuple(families.FAMILIES)


def shapes(scale: int):
    """Quick: SHAPES; standard (scale 4): two more; thorough (16): all of EXTRA."""
    return SHAPES + EXTRA[: min(len(EXTRA), scale // 2)]


def random_keep(key, n: int, k: int):
    """A uniformly random k-subset of range(n), sorted, int32."""
    return jnp.sort(jax.random.permutation(key, n)[:k]).astype(jnp.int32)


def random_partition(key, n: int, k: int):
    """Random labels in [0, k) with every cluster non-empty, int32."""
    k1, k2 = jax.random.split(key)
    base = jnp.concatenate([jnp.arange(k), jax.random.randint(k1, (n - k,), 0, k)])
    return jax.random.permutation(k2, base).astype(jnp.int32)


@functools.partial(jax.jit, static_argnames=("batch", "n", "d"))
def _all_families(key, batch: int, n: int, d: int):
    keys = jax.random.split(key, len(NAMES))
    return jnp.concatenate(
        [families.sample_batch(f, kk, batch, n, d) for f, kk in zip(NAMES, keys, strict=True)]
    )


@functools.lru_cache(maxsize=32)
def all_families(seed: int, batch: int, n: int, d: int):
    """``batch`` matrices of every family: (len(NAMES)·batch, n, d) and the family names.

    Cached, so that every checker of one run sees the same matrices and the sampler is
    compiled once per shape.
    """
    key = jax.random.fold_in(jax.random.key(seed), n * 10007 + d)
    return _all_families(key, batch, n, d), np.repeat(np.array(NAMES), batch)


def batch_size(scale: int) -> int:
    """Matrices per family and shape: 7 in the quick budget (8·2·7 = 112 trials)."""
    return 7 * scale


def shape_batches(ctx, salt: int, shape_list=None):
    """Yield ``((n, d, k), W[F·batch, n, d], family_names, keys)`` for each shape.

    The matrices depend on the seed only (shared by all claims); the per-trial ``keys``
    (for random keep-sets, partitions, k-means++) also depend on the claim's ``salt``.
    """
    shape_list = shapes(ctx.scale) if shape_list is None else shape_list
    for si, (n, d, k) in enumerate(shape_list):
        ws, names = all_families(ctx.seed, batch_size(ctx.scale), n, d)
        yield (n, d, k), ws, names, jax.random.split(ctx.key(salt, si), ws.shape[0])
