"""Reconstruction errors and the pruning-induced partition (C2, C3).

``E(P) = ||(I − P) W||_F²`` for any projector; its closed forms

* pruning: ``E_prune(S) = Σ_{i∉S} ||w_i||²``;
* folding: ``E_fold(π) = Σ_j Σ_{i∈G_j} ||w_i − μ_j||²`` (the k-means inertia);

and the C3 construction: for ``|S| = k < n``, ``π_S = {{i} : i ∈ S} ∪ {S^c}`` has k+1
clusters and ``E_fold(π_S) = E_prune(S) − (n−k)·||μ||²`` with ``μ`` the mean of the
pruned rows. Reference: arXiv 2602.18116, Sec. 4; THEORY.md C2, C3.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Scalar

from projgeo import _checks, _scale
from projgeo.projectors import FoldProjector, PruneProjector


def _check_projector(p, cls, fn: str) -> None:
    if not isinstance(p, cls):
        hint = {"prune_error": " (for a FoldProjector use fold_error)",
                "fold_error": " (for a PruneProjector use prune_error)"}.get(fn, "")
        raise TypeError(f"{fn}: p must be a {cls.__name__}{hint}; got {type(p).__name__}.")


def _weights_for(w, p) -> Array:
    if not isinstance(p, PruneProjector | FoldProjector):
        raise TypeError(f"p must be a PruneProjector or FoldProjector; got {type(p).__name__}.")
    w = _checks.check_weights(w)
    _checks.check_same_rows(w, p.n)
    return w


def _sq_sum(r, e) -> Scalar:
    """``||r||_F² · 2^{2e}`` for a residual ``r`` of the copy scaled by ``2^{-e}``."""
    return _scale.unscale(jnp.sum(r * r), e, 2)


# Each error is one jitted program per (shape, dtype, projector structure): run eagerly, the
# half-dozen operations below would each compile a program of their own for every new shape.
@jax.jit
def _projection_error(w, p) -> Scalar:
    w, e = _scale.scaled(w)
    return _sq_sum(w - p.apply(w), e)


@jax.jit
def _prune_error(w, p) -> Scalar:
    w, e = _scale.scaled(w)
    return _sq_sum(jnp.where(p.mask()[:, None], jnp.zeros((), w.dtype), w), e)


@jax.jit
def _fold_error(w, p) -> Scalar:
    w, e = _scale.scaled(w)
    return _sq_sum(w - p.compress(w)[p.labels], e)


def projection_error(w: Float[Array, "n d"], p: PruneProjector | FoldProjector) -> Scalar:
    """Generic ``||(I − P) W||_F² = ||W − P W||_F²`` through ``p.apply`` (C2)."""
    return _projection_error(_weights_for(w, p), p)


def prune_error(w: Float[Array, "n d"], p: PruneProjector) -> Scalar:
    """``E_prune(S) = Σ_{i∉S} ||w_i||²``: the energy of the pruned rows (C2)."""
    _check_projector(p, PruneProjector, "prune_error")
    return _prune_error(_weights_for(w, p), p)


def fold_error(w: Float[Array, "n d"], p: FoldProjector) -> Scalar:
    """``E_fold(π) = Σ_j Σ_{i∈G_j} ||w_i − μ_j||²``, the k-means inertia of ``π`` (C2)."""
    _check_projector(p, FoldProjector, "fold_error")
    return _fold_error(_weights_for(w, p), p)


def pruning_partition(p: PruneProjector) -> FoldProjector:
    """The partition ``π_S`` of C3: every kept row alone, all pruned rows in one cluster.

    Kept row ``keep[j]`` gets label ``j``; every pruned row gets label ``k``.

    Raises:
      ValueError: if ``k = n`` (no pruned row, so ``π_S`` would have an empty cluster).
    """
    _check_pruned(p, "pruning_partition")
    return FoldProjector(_pruning_labels(p), p.rank + 1)


@jax.jit
def _pruning_labels(p) -> Array:
    k = p.rank
    return jnp.full(p.n, k, jnp.int32).at[p.keep].set(jnp.arange(k, dtype=jnp.int32))


def _check_pruned(p, fn: str) -> None:
    _check_projector(p, PruneProjector, fn)
    if p.rank >= p.n:
        raise ValueError(f"{fn} needs k < n; got k = {p.rank}, n = {p.n}.")


def pruned_mean(w: Float[Array, "n d"], p: PruneProjector) -> Float[Array, " d"]:
    """``μ``: the mean of the pruned rows (requires ``k < n``)."""
    _check_pruned(p, "pruned_mean")
    return _pruned_mean(_weights_for(w, p), p)


@jax.jit
def _pruned_mean(w, p) -> Array:
    keep = p.mask()[:, None]
    return jnp.sum(jnp.where(keep, jnp.zeros((), w.dtype), w), axis=0) / (p.n - p.rank)


@jax.jit
def _c3_gain(w, p) -> Scalar:
    mu, e = _scale.scaled(_pruned_mean(w, p))
    return (p.n - p.rank) * _sq_sum(mu, e)


def c3_gain(w: Float[Array, "n d"], p: PruneProjector) -> Scalar:
    """``(n − k)·||μ||²``, the amount by which ``π_S`` beats pruning (C3)."""
    _check_pruned(p, "c3_gain")
    return _c3_gain(_weights_for(w, p), p)
