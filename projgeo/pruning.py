"""Magnitude pruning: keep the k rows of largest norm (C2).

``E_prune(S) = Σ_{i∉S} ||w_i||²`` is minimised over ``|S| = k`` by keeping the k rows of
largest L2 norm (THEORY.md C2). The L1 score is a common variant: it only changes
which rows are kept; the error is still Frobenius.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from projgeo import _checks, _scale
from projgeo.projectors import PruneProjector

#: Pruning scores: ``"l2"`` (``||w_i||_2``, optimal for the Frobenius error) or ``"l1"``.
#: (``norm=`` elsewhere in projgeo means a matrix norm, ``"spectral"``/``"frobenius"``.)
SCORES = ("l2", "l1")


def _check_score(score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}; got {score!r}.")
    return score


def keep_count(n: int, ratio: float) -> int:
    """Channels kept when a fraction ``ratio`` of ``n`` is removed: ``max(1, round((1−ratio)·n))``.

    The one ratio→k rule of the library, the checkpoint command and the C8 zoo (``round`` is
    Python's, half to even). ``n ≥ 1``, ``0 ≤ ratio < 1``.
    """
    n = _checks.check_count(n, "n")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ValueError(f"ratio must be a number in [0, 1) (the fraction of channels removed); "
                         f"got {ratio!r}.")
    return max(1, min(n, round((1.0 - ratio) * n)))


def row_scores(w: Float[Array, "n d"], *, score: str = "l2") -> Float[Array, " n"]:
    """Per-row pruning score: ``||w_i||_2²`` (``"l2"``, same order as the norm) or ``||w_i||_1``.

    Computed on a rescaled copy (:mod:`projgeo._scale`), so a score is correct whenever it is
    representable in the dtype of ``w``; scores below (above) its range are 0 (inf). Ranking
    (:func:`magnitude_prune`) does not go through these values and is exact for any finite rows.
    """
    _check_score(score)
    w = _checks.check_weights(w)
    big, f = _scale.row_norm_key(w, score)
    return jnp.ldexp(f, jnp.maximum(big, -(2**20))).astype(w.dtype)


@functools.partial(jax.jit, static_argnames=("k", "score"))
def _top_k_rows(w: Float[Array, "n d"], k: int, score: str):
    # Sort by (exponent, mantissa) of the score, descending, then by row index ascending:
    # ties go to the earlier row; no squared norm is formed, so none under- or overflows.
    return jnp.sort(_row_order(w, score)[:k])


def _row_order(w: Float[Array, "n d"], score: str = "l2"):
    """All n rows, largest score first, ties lower index first (unvalidated, jittable).

    ``magnitude_prune(w, k).keep == sort(_row_order(w)[:k])`` for every k: jitted callers
    with a traced k (:func:`projgeo.certified_fold`, :func:`projgeo.rank_sweep`) take S*
    from here, so it is exactly the ``S*`` of :func:`magnitude_prune`.
    """
    big, f = _scale.row_norm_key(w, score)
    idx = jnp.arange(w.shape[0], dtype=jnp.int32)
    _, _, order = jax.lax.sort((-big, -f, idx), num_keys=3)
    return order


_ranked_rows = jax.jit(_row_order, static_argnames="score")


def magnitude_prune(w: Float[Array, "n d"], k: int, *, score: str = "l2") -> PruneProjector:
    """Magnitude pruning ``S*``: keep the k rows of largest score (C2).

    Ties are broken deterministically in favour of the lower row index. Rows are ranked by
    the exponent and mantissa of their scores (:func:`projgeo._scale.row_norm_key`), so the
    ranking is exact for any finite rows: 1e-20 rows in float32, or float16 rows of 300 whose
    squares (9e4) would overflow.

    Args:
      w: (n, d) floating weights, one row per output channel.
      k: number of rows to keep, ``1 ≤ k ≤ n``.
      score: ``"l2"`` (default; optimal for the Frobenius error, C2) or ``"l1"``.

    Returns:
      The :class:`PruneProjector` of ``S*``.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k`` or ``score``.
    """
    w = _checks.check_weights(w)
    k = _checks.check_k(k, w.shape[0])
    score = _check_score(score)
    if _checks.is_concrete(w):
        # One compiled ranking per shape serves every k (a static k would compile per k).
        order = np.asarray(_ranked_rows(w, score))
        return PruneProjector(_checks.to_device(np.sort(order[:k])), w.shape[0])
    return PruneProjector(_top_k_rows(w, k, score), w.shape[0])
