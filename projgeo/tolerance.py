"""The one floating-point tolerance rule of projgeo (THEORY.md, Tolerances).

Every numerical comparison in the library, the checker and the tests goes through
this module, so that "holds up to rounding" means the same thing everywhere.

Rule. A quantity computed from ``terms`` floating-point summands whose magnitudes
add up to at most ``scale`` carries a rounding error of order ``eps·√terms·scale``
(random-walk accumulation; the worst case ``eps·terms·scale`` is never reached in
practice and would make float32 checks vacuous). Hence

    tol = FACTOR · eps(dtype) · √terms · scale,       FACTOR = 16,

and an inequality ``a ≤ b`` is taken to hold iff ``a ≤ b + tol``; an identity
``a = b`` iff ``|a − b| ≤ tol``. ``eps`` is the machine epsilon of the dtype the
quantities were computed in, so float32 paths get their own, larger tolerance
(eps = 1.19e-7 against 2.22e-16 for float64) from the same formula.

The *relative margin* of a check, reported by ``proofs_check`` as ``worst_margin``,
is ``(b − a) / scale`` for an inequality ``a ≤ b`` and ``−|a − b| / scale`` for an
identity: negative margins within ``−tol/scale`` are rounding, below that they are
violations.
"""

from __future__ import annotations

import math

import numpy as np
from jaxtyping import ArrayLike, Bool, DTypeLike, Float

FACTOR = 16.0


def eps(dtype: DTypeLike) -> float:
    """Machine epsilon of a floating dtype (float16, bfloat16, float32, float64)."""
    return float(np.finfo(np.dtype(dtype)).eps) if np.dtype(dtype).kind == "f" else float(
        np.finfo(np.float64).eps
    )


def tolerance(dtype: DTypeLike, *, scale: Float[ArrayLike, "..."],
              terms: int) -> float | Float[np.ndarray, "..."]:
    """Absolute tolerance ``FACTOR·eps(dtype)·√terms·scale`` (see the module docstring).

    Args:
      dtype: dtype the compared quantities were computed in.
      scale: magnitude of the largest quantity involved (e.g. ``||W||_F²``); scalar or array.
      terms: number of floating-point summands behind the quantities (e.g. ``n·d``).

    Returns:
      A float, or an array broadcast from ``scale``.
    """
    tol = FACTOR * eps(dtype) * math.sqrt(max(int(terms), 1)) * np.abs(np.asarray(scale, float))
    return float(tol) if tol.ndim == 0 else tol


def leq(a: Float[ArrayLike, "..."], b: Float[ArrayLike, "..."], *, dtype: DTypeLike,
        scale: Float[ArrayLike, "..."], terms: int) -> bool | Bool[np.ndarray, "..."]:
    """``a ≤ b`` up to the tolerance rule; elementwise for arrays."""
    ok = np.asarray(a, float) <= np.asarray(b, float) + tolerance(dtype, scale=scale, terms=terms)
    return bool(ok) if ok.ndim == 0 else ok


def close(a: Float[ArrayLike, "..."], b: Float[ArrayLike, "..."], *, dtype: DTypeLike,
          scale: Float[ArrayLike, "..."], terms: int) -> bool | Bool[np.ndarray, "..."]:
    """``a = b`` up to the tolerance rule; elementwise for arrays."""
    diff = np.abs(np.asarray(a, float) - np.asarray(b, float))
    ok = diff <= tolerance(dtype, scale=scale, terms=terms)
    return bool(ok) if ok.ndim == 0 else ok


def margin(a: Float[ArrayLike, "..."], b: Float[ArrayLike, "..."], *,
           scale: Float[ArrayLike, "..."],
           identity: bool = False) -> float | Float[np.ndarray, "..."]:
    """Relative margin of ``a ≤ b`` (or of ``a = b`` when ``identity``); see module docstring.

    A zero ``scale`` (e.g. an all-zero matrix) is replaced by 1, so margins stay finite.
    """
    s = np.abs(np.asarray(scale, float))
    s = np.where(s > 0, s, 1.0)
    a, b = np.asarray(a, float), np.asarray(b, float)
    m = -np.abs(a - b) / s if identity else (b - a) / s
    return float(m) if m.ndim == 0 else m
