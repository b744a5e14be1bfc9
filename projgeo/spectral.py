"""Spectral norms with a certified upper bound (C7).

The bounds of C7 multiply spectral norms ``||A||_2 = σ_1(A)``, so they need numbers that
are *at least* ``σ_1``. :func:`spectral_norm` returns a :class:`SpectralNorm` with

* ``upper ≥ ||A||_2`` (certified, up to rounding) and
* ``lower ≤ ||A||_2`` (certified, up to rounding): ``||A v||`` for a unit vector ``v``.

**Small matrices** (``min(n, d) ≤ exact_max``): the SVD gives ``σ_1`` to backward-stable
accuracy, ``|σ̂_1 − σ_1| ≲ eps·σ_1``; ``upper = σ̂_1·(1 + ρ)`` and ``lower = σ̂_1·(1 − ρ)``
with ``ρ = FACTOR·eps·√(n·d)`` (the tolerance rule of :mod:`projgeo.tolerance`).

**Large matrices**: power iteration on ``AᵀA`` gives ``lower = ||A v||`` and an estimate, but
no upper bound: a small residual ``||AᵀA v − θ v||`` proves only that *some* eigenvalue lies
near ``θ``, not the largest one, so "the estimate plus its residual" is not a certificate.
The certified upper bound is the minimum of three guaranteed ones:

1. ``||A||_F = (Σ σ_i²)^{1/2} ≥ σ_1``;
2. ``(||A||_1 ||A||_∞)^{1/2} ≥ σ_1`` (max column and row absolute sums; Hölder);
3. the Schatten norm ``||A||_{S_{4q}}`` with ``q = 2^m``: for the Gram matrix ``G`` of the
   smaller side (eigenvalues ``σ_i²``), ``||G^q||_F = (Σ σ_i^{4q})^{1/2} ≥ σ_1^{2q}``, so
   ``σ_1 ≤ ||G^q||_F^{1/(2q)}``, computed by ``m`` normalised squarings of ``G``
   (``log ||G^{2^i}||_F`` accumulated in logs, no overflow). It exceeds ``σ_1`` by at most the
   factor ``r^{1/(4q)}`` (``r = rank ≤ min(n, d)``): with the default ``m = 5``,
   ``r^{1/128}``, i.e. ≤ 7 % for ``r ≤ 4096``.

All three are inflated by ``(1 + (m + 1)·ρ)`` for rounding. They cost ``O(n·d)``, ``O(n·d)`` and
``O(n·d·r + m·r³)``; the SVD path is exact and used whenever affordable.

Reference: Golub & Van Loan, *Matrix Computations* (matrix-norm inequalities; the power
method); THEORY.md C7.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Scalar

from projgeo import _checks, _linalg, _scale
from projgeo.tolerance import FACTOR

#: ``min(n, d)`` at or below which the SVD gives the spectral norm exactly.
EXACT_MAX = 512
#: Largest Gram side ``r`` for the Schatten certificate on the power-iteration path.
GRAM_MAX = 4096


class SpectralNorm(NamedTuple):
    """Certified bracket ``lower ≤ ||A||_2 ≤ upper`` (up to rounding).

    Attributes:
      upper: certified upper bound; the value every C7 bound uses.
      lower: ``||A v||`` for a unit vector ``v`` (``σ_1`` itself on the exact path).
    """

    upper: Scalar
    lower: Scalar


def _rho(a) -> float:
    n, d = a.shape
    return FACTOR * float(jnp.finfo(a.dtype).eps) * math.sqrt(n * d)


def _power_lower(a, iters: int):
    d = a.shape[1]
    # A fixed, generic start (not orthogonal to any coordinate axis).
    v = 1.0 + jnp.arange(d, dtype=a.dtype) / (2.0 * d)

    def body(_, v):
        u = a.T @ (a @ v)
        nu = jnp.linalg.norm(u)
        return jnp.where(nu > 0, u / jnp.where(nu > 0, nu, 1.0), v)

    v = jax.lax.fori_loop(0, iters, body, v / jnp.linalg.norm(v))
    return jnp.linalg.norm(a @ v) / jnp.linalg.norm(v)


def schatten_upper(a: Float[Array, "n d"], squarings: int = 5) -> Scalar:
    """``||G^q||_F^{1/(2q)} ≥ ||A||_2`` with ``q = 2^squarings`` (see the module docstring).

    ``A`` is first divided by its largest entry, so that forming ``G`` can neither
    underflow to 0 nor overflow to inf at extreme scales (1e-244 or 1e200 entries).
    """
    amax = jnp.max(jnp.abs(a))
    m = jnp.where(amax > 0, amax, 1.0)
    a = a / m
    g = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    s0 = jnp.linalg.norm(g)
    safe = jnp.where(s0 > 0, s0, 1.0)
    b, logc = g / safe, jnp.log(safe)
    for _ in range(squarings):
        b = b @ b
        s = jnp.linalg.norm(b)
        # b is PSD with ||b||_F = 1, so b² ≠ 0 unless b = 0 (then A = 0, handled below).
        s = jnp.where(s > 0, s, 1.0)
        b, logc = b / s, 2.0 * logc + jnp.log(s)
    return jnp.where(s0 > 0, m * jnp.exp(logc / 2.0 ** (squarings + 1)), 0.0)


def guaranteed_upper(a: Float[Array, "n d"], squarings: int = 5, *,
                     rho: float | None = None) -> Scalar:
    """``min(||A||_F, (||A||_1 ||A||_∞)^{1/2}, ||A||_{S_{4q}})``, inflated for rounding.

    ``rho`` (default: from ``a``'s shape and dtype) is the relative rounding unit ``ρ``.
    """
    a, e = _scale.scaled(a)
    rho = _rho(a) if rho is None else rho
    fro = jnp.linalg.norm(a)
    holder = jnp.sqrt(jnp.max(jnp.sum(jnp.abs(a), axis=0)) * jnp.max(jnp.sum(jnp.abs(a), axis=1)))
    up = jnp.minimum(fro, holder)
    if min(a.shape) <= GRAM_MAX:
        up = jnp.minimum(up, schatten_upper(a, squarings))
    return _scale.unscale(up * (1.0 + (squarings + 1) * rho), e)


def _round_out(x, dtype, direction):
    """``x`` cast to ``dtype``, rounded towards ``direction`` (±inf) so a bound stays a bound."""
    y = x.astype(dtype)
    off = y.astype(x.dtype) < x if direction > 0 else y.astype(x.dtype) > x
    return jnp.where(off, jnp.nextafter(y, jnp.asarray(direction * jnp.inf, dtype)), y)


@functools.partial(jax.jit, static_argnames=("exact_max", "iters", "squarings"))
def _spectral(a, *, exact_max, iters, squarings):
    dtype = a.dtype
    # Half precision has no LAPACK kernels and overflows at 65504: compute in float32 (exact
    # upcast), then round the bracket outwards. Every path works on a copy scaled by a power
    # of two (exact), so Gram matrices, squared sums and power iterates neither underflow
    # (1e-20 entries in float32) nor overflow (1e9 entries of a 600×600 float32 matrix).
    a_s, e = _scale.scaled(a.astype(_scale.compute_dtype(dtype)))
    rho = _rho(a_s)  # float32 arithmetic on the exact upcast of half-precision input
    if min(a.shape) <= exact_max:
        s = _linalg.norm2(a_s)
        upper, lower = s * (1.0 + rho), s * (1.0 - rho)
    else:
        upper = guaranteed_upper(a_s, squarings, rho=rho)
        lower = jnp.minimum(_power_lower(a_s, iters) * (1.0 - rho), upper)
    upper, lower = _scale.unscale(upper, e), _scale.unscale(lower, e)
    if upper.dtype != dtype:
        upper, lower = _round_out(upper, dtype, 1), _round_out(lower, dtype, -1)
    return SpectralNorm(upper, lower)


def spectral_norm(a: Float[Array, "n d"], *, exact_max: int = EXACT_MAX, iters: int = 64,
                  squarings: int = 5) -> SpectralNorm:
    """Certified bracket of ``||A||_2`` (C7): SVD if small, else power iteration + certificate.

    Args:
      a: (n, d) floating matrix.
      exact_max: use the SVD when ``min(n, d) ≤ exact_max`` (0 forces the large path).
      iters: power iterations on ``AᵀA`` (large path; they improve ``lower`` only).
      squarings: ``m`` of the Schatten certificate (large path).

    Returns:
      A :class:`SpectralNorm` ``(upper, lower)``, dtype of ``a``. Computed on a copy of ``a``
      scaled by a power of two (exact), so the bracket is right at any finite scale;
      float16/bfloat16 input is computed in float32 and the bracket rounded outwards.

    Raises:
      TypeError, ValueError: if ``a`` is not a finite 2-D float array, or options are negative.
    """
    a = _checks.check_weights(a, "a")
    for name, v in (("exact_max", exact_max), ("iters", iters), ("squarings", squarings)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} must be an int ≥ 0; got {v!r}.")
    return _spectral(a, exact_max=exact_max, iters=iters, squarings=squarings)
