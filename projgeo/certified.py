"""Certified folding: k+1 clusters never worse than magnitude pruning at k (C3, C4).

The rank-distance-one theorem (THEORY.md C4) reads
``OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k)``. Its proof is constructive: the
pruning-induced partition ``π_{S*}`` (every kept row alone, all pruned rows in one
cluster, C3) has ``E_fold(π_{S*}) = E_prune(S*) − (n−k)·||μ||² ≤ E_prune(S*)``. Any
refinement that never increases the inertia keeps that bound. :func:`certified_fold`
starts k-means at ``π_{S*}`` and refines with Lloyd and Hartigan steps, which
:func:`projgeo.fold` accepts only when they do not raise the inertia; a final guard
scores the refined partition with the same function as ``π_{S*}`` (:func:`fold_error`)
and returns ``π_{S*}`` itself should the refined one score higher: the k-means kernel's own
inertia can differ from ``fold_error`` in the last bit, and an equal-inertia Lloyd step
(a tie) can land one ulp above. Hence, bitwise as computed,

    result.inertia ≤ start_error,        start_error = E_prune(S*) − (n−k)·||μ||²,

and ``start_error ≤ prune_error = OPT_prune(k)`` holds exactly in real arithmetic (C3), in
floating point up to the tolerance rule of :mod:`projgeo.tolerance`. A heuristic k-means
from its own initialisation gives no such promise (C4(iii)).

Reference: arXiv 2602.18116, Thm. 1 and its proof; THEORY.md C3, C4.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Scalar

from projgeo import _checks
from projgeo.errors import fold_error, prune_error, pruning_partition
from projgeo.kmeans import KMeansResult, fold
from projgeo.projectors import FoldProjector, PruneProjector
from projgeo.pruning import magnitude_prune

K_EQUALS_N = (
    "certified_fold needs k < n: it folds into k+1 ≤ n clusters, starting from the partition "
    "π_S that puts the n−k pruned rows in one cluster; got k = {k}, n = {n}. At k = n both "
    "pruning and folding are exact (error 0); use projgeo.fold(w, n, ...) if you need labels."
)


class CertifiedFold(NamedTuple):
    """Result of :func:`certified_fold` (C4(ii)).

    Attributes:
      result: the k-means result with ``k + 1`` clusters; its ``inertia`` is
        ``fold_error`` of its labels, and ``result.inertia ≤ start_error`` bitwise.
      prune: ``S*``, magnitude pruning at rank k.
      prune_error: ``E_prune(S*) = OPT_prune(k)``, the bound being certified.
      start_error: ``E_fold(π_{S*})``, the inertia of the starting partition.
      refined_error: ``fold_error`` of the partition k-means returned, before the guard;
        ``≤ start_error`` up to rounding (the kernel never takes an increasing step).
      fell_back: True if the guard returned ``π_{S*}`` (``refined_error > start_error``,
        in practice only by a last-bit tie).
    """

    result: KMeansResult
    prune: PruneProjector
    prune_error: Scalar
    start_error: Scalar
    refined_error: Scalar
    fell_back: Bool[Array, ""]

    @property
    def margin(self) -> Scalar:
        """``OPT_prune(k) − E_fold``: how much the fold at k+1 beats pruning at k (≥ 0)."""
        return self.prune_error - self.result.inertia

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of the certified partition (rank k+1)."""
        return self.result.projector()


def certified_fold(
    w: Float[Array, "n d"],
    k: int,
    *,
    max_iter: int = 300,
    refine_iter: int = 1000,
) -> CertifiedFold:
    """Fold into ``k + 1`` clusters with error certified ≤ ``OPT_prune(k)`` (C4(ii)).

    ``π_{S*}`` (C3) is refined by :func:`projgeo.fold` warm-started at it (Lloyd, then
    Hartigan moves; each step kept only if the inertia does not rise), then guarded:
    if the refined partition's ``fold_error`` exceeds ``E_fold(π_{S*})``, ``π_{S*}`` is
    returned. Works under
    ``jax.jit`` and ``jax.vmap`` (``k`` static).

    Args:
      w: (n, d) floating weights, ``n ≥ 2``.
      k: pruning rank, ``1 ≤ k < n``; the fold has ``k + 1`` clusters.
      max_iter: cap on Lloyd iterations.
      refine_iter: cap on Hartigan batches (0: Lloyd only). The certificate holds for any
        caps, including ``max_iter = 1, refine_iter = 0``.

    Returns:
      A :class:`CertifiedFold`.

    Raises:
      TypeError, ValueError: on bad ``w`` or ``k``; ``ValueError`` if ``k = n`` (there is
        no rank k+1 fold; both errors are 0 there).
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    if k >= n:
        raise ValueError(K_EQUALS_N.format(k=k, n=n))
    star = magnitude_prune(w, k)
    start = pruning_partition(star)
    start_error = fold_error(w, start)
    res = fold(w, k + 1, init=start.labels, max_iter=max_iter, refine_iter=refine_iter)
    refined_error = fold_error(w, res.projector())
    worse = refined_error > start_error
    guarded = KMeansResult(
        labels=jnp.where(worse, start.labels, res.labels),
        centroids=jnp.where(worse, start.compress(w), res.centroids),
        inertia=jnp.where(worse, start_error, refined_error),
        iterations=res.iterations,
        converged=res.converged & ~worse,
    )
    return CertifiedFold(guarded, star, prune_error(w, star), start_error, refined_error, worse)
