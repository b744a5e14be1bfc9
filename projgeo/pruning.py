"""Magnitude pruning: keep the k rows of largest norm (C2).

``E_prune(S) = Σ_{i∉S} ||w_i||²`` is minimised over ``|S| = k`` by keeping the k rows of
largest L2 norm (THEORY.md C2). The L1 score is a common variant: it only changes
which rows are kept; the error is still Frobenius.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from projgeo import _checks
from projgeo.projectors import PruneProjector

NORMS = ("l2", "l1")


def _check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}.")
    return norm


def row_scores(w: Float[Array, "n d"], *, norm: str = "l2") -> Float[Array, " n"]:
    """Per-row pruning score: ``||w_i||_2²`` (``"l2"``, same order as the norm) or ``||w_i||_1``."""
    _check_norm(norm)
    w = _checks.check_weights(w)
    return jnp.sum(w * w, axis=1) if norm == "l2" else jnp.sum(jnp.abs(w), axis=1)


@functools.partial(jax.jit, static_argnames=("k",))
def _top_k_rows(scores: Float[Array, " n"], k: int):
    # lax.top_k returns equal scores lower index first: ties go to the earlier row.
    _, idx = jax.lax.top_k(scores, k)
    return jnp.sort(idx).astype(jnp.int32)


def magnitude_prune(w: Float[Array, "n d"], k: int, *, norm: str = "l2") -> PruneProjector:
    """Magnitude pruning ``S*``: keep the k rows of largest score (C2).

    Ties are broken deterministically in favour of the lower row index.

    Args:
      w: (n, d) floating weights, one row per output channel.
      k: number of rows to keep, ``1 ≤ k ≤ n``.
      norm: ``"l2"`` (default; optimal for the Frobenius error, C2) or ``"l1"``.

    Returns:
      The :class:`PruneProjector` of ``S*``.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k`` or ``norm``.
    """
    w = _checks.check_weights(w)
    k = _checks.check_k(k, w.shape[0])
    return PruneProjector(_top_k_rows(row_scores(w, norm=norm), k), w.shape[0])
