"""Exact power-of-two rescaling, so squared norms neither underflow nor overflow.

A squared norm of a float32 row of entries 1e-20 is 1e-40, below float32's normal range
(XLA:CPU flushes it to 0); of entries 1e25 it is 1e50, above it (inf). Dividing the matrix
by ``2^e``, with ``e`` the binary exponent of its largest entry, is exact (only the exponent
changes) and puts every entry in ``[−1, 1)``; sums of squares of the scaled copy lie in
``[0, n·d]``, and results scale back exactly (``ldexp``): a norm by ``2^e``, a squared norm by
``2^{2e}``. Entries more than ~2^126 (float32) below the largest may still flush to zero; they
change a sum of squares by less than its rounding error.

Ranking rows by norm needs more: rows of very different magnitude must all keep their order.
:func:`row_norm_key` returns, per row, the exponent and the mantissa of its norm, each row
scaled by its own largest entry, so any finite rows compare correctly.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def exponent(w: Float[Array, "..."]) -> Int[Array, ""]:
    """``e`` with ``max |w| · 2^{-e} ∈ [1/2, 1)`` (0 for an all-zero or empty ``w``)."""
    m = jnp.max(jnp.abs(w)) if w.size else jnp.zeros((), w.dtype)
    _, e = jnp.frexp(m)
    return jnp.where(m > 0, e, 0).astype(jnp.int32)


def scaled(w: Float[Array, "..."]) -> tuple[Float[Array, "..."], Int[Array, ""]]:
    """``(w · 2^{-e}, e)``: an exact rescaled copy with largest entry in ``[1/2, 1)``."""
    e = exponent(w)
    return jnp.ldexp(w, -e), e


def unscale(x, e, power: int = 1):
    """``x · 2^{power·e}``: undo :func:`scaled` for a quantity homogeneous of degree ``power``."""
    return jnp.ldexp(x, (power * e).astype(jnp.int32))


def compute_dtype(dtype):
    """float32 for float16/bfloat16 (no LAPACK kernels, 65504 overflow), else ``dtype``."""
    return jnp.float32 if jnp.finfo(dtype).bits < 32 else jnp.dtype(dtype)


def row_norm_key(w: Float[Array, "n d"], norm: str = "l2"):
    """Per row ``(E_i, f_i)`` with score ``s_i = f_i · 2^{E_i}``, ``f_i ∈ [1/2, 1)``.

    ``s_i = ||w_i||_2²`` (``"l2"``) or ``||w_i||_1`` (``"l1"``). Lexicographic order of
    ``(E, f)`` is the order of the scores for any finite rows, whatever their magnitudes (each
    row is scaled by a power of two of its own, so ``f`` carries exactly the rounding of an
    unscaled sum); a zero row gets ``E = −2^30``, ``f = 0``. Computed in :func:`compute_dtype`
    (float32 for half precision).
    """
    w = w.astype(compute_dtype(w.dtype))
    rmax = jnp.max(jnp.abs(w), axis=1, keepdims=True)
    _, er = jnp.frexp(rmax)
    er = jnp.where(rmax > 0, er, 0)
    ws = jnp.ldexp(w, -er)                       # every row's largest entry in [1/2, 1)
    m = jnp.sum(ws * ws, axis=1) if norm == "l2" else jnp.sum(jnp.abs(ws), axis=1)
    f, em = jnp.frexp(m)                          # m ∈ [1/4, d]: no under/overflow
    zero = rmax[:, 0] == 0
    big = jnp.where(zero, -(2**30), (2 if norm == "l2" else 1) * er[:, 0] + em)
    big = big.astype(jnp.int32)
    return big, jnp.where(zero, jnp.zeros((), f.dtype), f)
