"""Random weight-matrix families shared by tests, checks, figures and benchmarks.

Each family is a pure function ``(key, n, d, dtype) -> (n, d) array`` of the given dtype
(default: JAX's default float, float64 under ``jax_enable_x64``), deterministic in
``key``. They cover the regimes that matter for pruning versus folding (THEORY.md C5):

========================  ===================================================================
``gaussian``              i.i.d. N(0, 1/d) entries: no structure, comparable row norms.
``heavy_tailed``          gaussian rows scaled by log-normal(0, 1.5) norms: pruning's regime.
``low_rank``              rank-⌈min(n,d)/8⌉ product plus 5 % noise: correlated rows.
``clustered``             rows near one of ⌈n/4⌉ centres (noise 0.1): folding's regime.
``near_duplicate``        each row a copy of one of ⌈n/3⌉ base rows plus 1e-6 noise.
``sparse``                gaussian entries kept with probability 0.2 (rows may be all zero).
``zero_rows``             gaussian with about a quarter of the rows exactly zero.
``extreme_scales``        gaussian rows scaled by 10^u, u ~ U(−6, 6): spans 12 decades.
``shifted``               rows ``c·1 + N(0, 1)``, one offset ``c = 10^u``, u ~ U(0, 8): rows far
                          from the origin relative to their spread, where distances through
                          ``||x||² − 2xᵀc + ||c||²`` cancel (k-means' acceptance guards matter).
========================  ===================================================================
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, DTypeLike, Float, PRNGKeyArray

from projgeo import _checks

Family = Callable[..., Float[Array, "n d"]]


def _dtype(dtype):
    return jnp.zeros((), float).dtype if dtype is None else jnp.dtype(dtype)


def _normal(key, n, d, dtype):
    return jax.random.normal(key, (n, d), _dtype(dtype)) / math.sqrt(d)


def gaussian(key: PRNGKeyArray, n: int, d: int,
             dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """I.i.d. N(0, 1/d) entries."""
    return _normal(key, n, d, dtype)


def heavy_tailed(key: PRNGKeyArray, n: int, d: int,
                 dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Gaussian directions with log-normal(0, 1.5) row norms."""
    k1, k2 = jax.random.split(key)
    scale = jnp.exp(1.5 * jax.random.normal(k2, (n, 1), _dtype(dtype)))
    return _normal(k1, n, d, dtype) * scale


def low_rank(key: PRNGKeyArray, n: int, d: int,
             dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Rank ⌈min(n, d)/8⌉ product plus 5 % gaussian noise."""
    r = max(1, math.ceil(min(n, d) / 8))
    k1, k2, k3 = jax.random.split(key, 3)
    a = jax.random.normal(k1, (n, r), _dtype(dtype)) / math.sqrt(r)
    b = _normal(k2, r, d, dtype)
    return a @ b + 0.05 * _normal(k3, n, d, dtype)


def clustered(key: PRNGKeyArray, n: int, d: int,
              dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Mixture: each row is one of ⌈n/4⌉ gaussian centres plus N(0, 0.1²/d) noise."""
    m = max(1, math.ceil(n / 4))
    k1, k2, k3 = jax.random.split(key, 3)
    centres = _normal(k1, m, d, dtype)
    which = jax.random.randint(k2, (n,), 0, m)
    return centres[which] + 0.1 * _normal(k3, n, d, dtype)


def near_duplicate(key: PRNGKeyArray, n: int, d: int,
                   dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Each row a copy of one of ⌈n/3⌉ base rows plus 1e-6 relative noise."""
    m = max(1, math.ceil(n / 3))
    k1, k2, k3 = jax.random.split(key, 3)
    base = _normal(k1, m, d, dtype)
    which = jax.random.randint(k2, (n,), 0, m)
    return base[which] + 1e-6 * _normal(k3, n, d, dtype)


def sparse(key: PRNGKeyArray, n: int, d: int,
           dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Gaussian entries, each kept with probability 0.2."""
    k1, k2 = jax.random.split(key)
    keep = jax.random.bernoulli(k2, 0.2, (n, d))
    return jnp.where(keep, _normal(k1, n, d, dtype), 0.0).astype(_dtype(dtype))


def zero_rows(key: PRNGKeyArray, n: int, d: int,
              dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Gaussian with each row zeroed with probability 1/4."""
    k1, k2 = jax.random.split(key)
    alive = jax.random.bernoulli(k2, 0.75, (n, 1))
    return jnp.where(alive, _normal(k1, n, d, dtype), 0.0).astype(_dtype(dtype))


def extreme_scales(key: PRNGKeyArray, n: int, d: int,
                   dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Gaussian rows scaled by 10^u with u ~ U(−6, 6)."""
    k1, k2 = jax.random.split(key)
    u = jax.random.uniform(k2, (n, 1), _dtype(dtype), -6.0, 6.0)
    return _normal(k1, n, d, dtype) * 10.0**u


def shifted(key: PRNGKeyArray, n: int, d: int,
            dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Rows ``c·1 + N(0, 1)`` with one offset ``c = 10^u``, u ~ U(0, 8) (up to 1e8)."""
    k1, k2 = jax.random.split(key)
    c = 10.0 ** jax.random.uniform(k2, (), _dtype(dtype), 0.0, 8.0)
    return c + jax.random.normal(k1, (n, d), _dtype(dtype))


FAMILIES: dict[str, Family] = {
    f.__name__: f
    for f in (
        gaussian, heavy_tailed, low_rank, clustered,
        near_duplicate, sparse, zero_rows, extreme_scales, shifted,
    )
}


def _check_family(family, n, d) -> None:
    if not isinstance(family, str) or family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}; got {family!r}.")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (n, d)):
        raise ValueError(f"n and d must be positive ints; got n={n!r}, d={d!r}.")


#: Drawing takes microseconds and compiling the generator takes most of a second, so the
#: samplers compile with LLVM's optimisation off: measured on the 2-core CPU (load ≈ 2), 18
#: samplers (9 families × 2 shapes) took 7.7 s this way against 15.6 s with default options
#: and 14.9 s as eager calls.
_FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _draw_traced(key, *, family: str, batch: int | None, n: int, d: int, dtype):
    if batch is None:
        return FAMILIES[family](key, n, d, dtype)
    keys = jax.random.split(key, batch)
    return jax.vmap(lambda kk: FAMILIES[family](kk, n, d, dtype))(keys)


_draw_compiled = functools.partial(jax.jit, static_argnames=("family", "batch", "n", "d", "dtype"),
                                   compiler_options=_FAST_COMPILE)(_draw_traced)


# Small matrices: one compiled program per family, dtype, column count and size bucket, for
# every row count.
#
# ``jax.random`` draws (threefry, partitionable) have the prefix property: the draw of shape
# (n, d) is, row-major, the first n·d entries of the draw of shape (B,) for any B ≥ n·d with
# the same key, and a per-row draw of shape (n, 1) the first n entries. A family written on a
# flat buffer of B entries, with n and d as traced values, therefore computes exactly (bit for
# bit) the entries of the family at (n, d); the caller keeps the first n·d. d stays static
# (``/ math.sqrt(d)`` must stay a constant for XLA to round as it does at (n, d)); the
# cluster count ``⌈n/4⌉`` is computed on the host and passed in. ``low_rank`` (a matrix
# product whose inner size depends on the shape), ``heavy_tailed`` and ``extreme_scales``
# (XLA rounds their row-scaled products apart from the per-shape programs, at the last bit)
# keep their program per shape. Tested bit for bit against the per-shape programs
# (tests/test_families.py).

#: Largest n·d drawn through the flat programs; larger shapes compile per shape.
FLAT_MAX = 1 << 14


def _bucket(size: int) -> int:
    return max(64, 1 << (size - 1).bit_length())


def _flat_normal(key, size, dtype, d):
    return jax.random.normal(key, (size,), dtype) / math.sqrt(d)


def _flat_family(family: str, key, size: int, dtype, d: int, m):
    """The entries of ``FAMILIES[family](key, n, d, dtype)`` in row-major order, in the first
    n·d of ``size``; ``m = ⌈n/4⌉`` or ``⌈n/3⌉`` traced int32 (n itself is not needed)."""
    f = jnp.arange(size, dtype=jnp.int32)
    row = f // d
    if family == "gaussian":
        return _flat_normal(key, size, dtype, d)
    if family in ("clustered", "near_duplicate"):
        k1, k2, k3 = jax.random.split(key, 3)
        centres = _flat_normal(k1, size, dtype, d)
        which = jax.random.randint(k2, (size,), 0, m)
        noise = 0.1 if family == "clustered" else 1e-6
        return centres[which[row] * d + f % d] + noise * _flat_normal(k3, size, dtype, d)
    if family == "sparse":
        k1, k2 = jax.random.split(key)
        keep = jax.random.bernoulli(k2, 0.2, (size,))
        return jnp.where(keep, _flat_normal(k1, size, dtype, d), 0.0).astype(dtype)
    if family == "zero_rows":
        k1, k2 = jax.random.split(key)
        alive = jax.random.bernoulli(k2, 0.75, (size,))
        return jnp.where(alive[row], _flat_normal(k1, size, dtype, d), 0.0).astype(dtype)
    if family == "shifted":
        k1, k2 = jax.random.split(key)
        c = 10.0 ** jax.random.uniform(k2, (), dtype, 0.0, 8.0)
        return c + jax.random.normal(k1, (size,), dtype)
    raise AssertionError(family)


_FLAT_FAMILIES = frozenset(FAMILIES) - {"low_rank", "heavy_tailed", "extreme_scales"}
_CLUSTERS = {"clustered": 4, "near_duplicate": 3}


@functools.partial(jax.jit, static_argnames=("family", "batch", "size", "d", "dtype"),
                   compiler_options=_FAST_COMPILE)
def _draw_flat(key, m, *, family: str, batch: int | None, size: int, d: int, dtype):
    if batch is None:
        return _flat_family(family, key, size, dtype, d, m)
    keys = jax.random.split(key, batch)
    return jax.vmap(lambda kk: _flat_family(family, kk, size, dtype, d, m))(keys)


def _draw(key, *, family: str, batch: int | None, n: int, d: int, dtype):
    """The compiled sampler at top level (flat, per size bucket, for small shapes); inside a
    caller's jit/vmap (where compiler options cannot be set) the traced function, compiled as
    part of the caller's program."""
    if not (_checks.is_concrete(key) and _checks.is_concrete(jnp.zeros((), jnp.int32))):
        return _draw_traced(key, family=family, batch=batch, n=n, d=d, dtype=dtype)
    if family not in _FLAT_FAMILIES or n * d > FLAT_MAX:
        return _draw_compiled(key, family=family, batch=batch, n=n, d=d, dtype=dtype)
    m = max(1, math.ceil(n / _CLUSTERS.get(family, 1)))
    flat = _draw_flat(key, np.int32(m), family=family, batch=batch, size=_bucket(n * d), d=d,
                      dtype=dtype)
    host = np.asarray(flat)[..., : n * d]
    return _checks.to_device(host.reshape(host.shape[:-1] + (n, d)))


def sample(family: str, key: PRNGKeyArray, n: int, d: int,
           dtype: DTypeLike | None = None) -> Float[Array, "n d"]:
    """Draw one ``(n, d)`` matrix of a named family (one compiled sampler per family, shape
    and dtype).

    Raises:
      ValueError: on an unknown family name or non-positive sizes.
      TypeError: if ``key`` is not a jax.random key.
    """
    _check_family(family, n, d)
    return _draw(_checks.check_key(key), family=family, batch=None, n=n, d=d,
                 dtype=_dtype(dtype))


def sample_batch(family: str, key: PRNGKeyArray, batch: int, n: int, d: int,
                 dtype: DTypeLike | None = None) -> Float[Array, "batch n d"]:
    """``batch`` independent matrices of one family, shape (batch, n, d), via ``vmap``."""
    _check_family(family, n, d)
    batch = _checks.check_k(batch, 1 << 40, "batch")
    return _draw(_checks.check_key(key), family=family, batch=batch, n=n, d=d,
                 dtype=_dtype(dtype))
