"""Pruning and folding as orthogonal projectors (C1, C6).

Both compress an ``(n, d)`` weight matrix ``W`` (one row per output channel) to rank
``k`` by ``W ↦ P W`` with an ``n×n`` orthogonal projector ``P``:

* pruning keeps a row set ``S``: ``P_S = diag(1_S)``;
* folding takes a partition with assignment matrix ``C ∈ {0,1}^{n×k}``:
  ``P_π = C (CᵀC)⁻¹ Cᵀ``, so ``(P_π W)_i`` is the mean of row i's cluster.

The projectors are pytrees (``jax.tree_util.register_dataclass``) holding only the
index data (``keep`` or ``labels``), with the sizes as static metadata, so they pass
through ``jit`` and ``vmap``. ``apply`` works implicitly in ``O(n·d)`` (gather / segment
mean); ``matrix`` materialises ``P`` for small ``n`` only. ``compress``/``expand`` are the
physical maps of C6: ``S_selᵀ`` / ``S_sel`` for pruning, ``M = (CᵀC)⁻¹Cᵀ`` / ``C`` for folding,
with ``expand(compress(W)) = P W``.

Reference: "Cut Less, Fold More", arXiv 2602.18116, Sec. 3; THEORY.md C1, C6.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, DTypeLike, Float, Int

from projgeo import _checks

#: Largest ``n`` for which ``matrix()`` materialises an ``n×n`` array.
MAX_DENSE_N = 8192


def _check_rows(x, n: int, name: str = "w") -> jax.Array:
    x = _checks.to_device(x)
    if x.ndim < 1:
        raise ValueError(f"{name} must have a leading axis of size n = {n}; got a scalar.")
    _checks.check_same_rows(x, n, name)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{name} must be floating point; got dtype {x.dtype}.")
    return x


def _check_dense(n: int) -> None:
    if n > MAX_DENSE_N:
        raise ValueError(
            f"matrix() materialises an n×n array; n = {n} exceeds MAX_DENSE_N = {MAX_DENSE_N}. "
            "Use apply() instead."
        )


@functools.partial(jax.tree_util.register_dataclass, data_fields=["keep"], meta_fields=["n"])
@dataclasses.dataclass(frozen=True)
class PruneProjector:
    """Axis-aligned projector ``P_S = diag(1_S)`` keeping rows ``S = keep`` (C1).

    Attributes:
      keep: (k,) int32, the kept row indices in increasing order.
      n: number of rows the projector acts on (static).
    """

    keep: Int[Array, " k"]
    n: int

    @property
    def rank(self) -> int:
        """``k = |S| = trace(P_S) = rank(P_S)``."""
        return self.keep.shape[-1]

    def mask(self) -> Bool[Array, " n"]:
        """``1_S`` as a boolean vector."""
        return _prune_mask(self)

    def apply(self, w: Float[Array, "n ..."]) -> Float[Array, "n ..."]:
        """``P_S W``: the kept rows of ``w``, zeros elsewhere. O(n·d)."""
        return _prune_apply(self, _check_rows(w, self.n))

    def matrix(self, dtype: DTypeLike = float) -> Float[Array, "n n"]:
        """``P_S = diag(1_S)`` as a dense ``n×n`` array (small ``n`` only)."""
        _check_dense(self.n)
        return _prune_matrix(self, dtype)

    def selection(self, dtype: DTypeLike = float) -> Float[Array, "n k"]:
        """``S_sel ∈ {0,1}^{n×k}``, column j the indicator of ``keep[j]``.

        ``P_S = S_sel S_selᵀ``.
        """
        return _prune_selection(self, dtype)

    def compress(self, w: Float[Array, "n ..."]) -> Float[Array, "k ..."]:
        """``S_selᵀ W``: the k kept rows (the physically smaller layer, C6)."""
        return _take(_check_rows(w, self.n), self.keep)

    def expand(self, z: Float[Array, "k ..."]) -> Float[Array, "n ..."]:
        """``S_sel Z``: put k rows back at their indices, zeros elsewhere."""
        return _prune_expand(self, _check_rows(z, self.rank, "z"))


@functools.partial(jax.tree_util.register_dataclass, data_fields=["labels"], meta_fields=["k"])
@dataclasses.dataclass(frozen=True)
class FoldProjector:
    """Cluster-mean projector ``P_π = C (CᵀC)⁻¹ Cᵀ`` of a partition into k clusters (C1).

    Attributes:
      labels: (n,) int32, the cluster of each row, in [0, k).
      k: number of clusters (static). Built by :func:`fold_projector`, every cluster is
        non-empty, so ``rank = k``. Should a cluster be empty anyway, it contributes a
        zero mean that no row reads, and the rank is the number of non-empty clusters.
    """

    labels: Int[Array, " n"]
    k: int

    @property
    def n(self) -> int:
        return self.labels.shape[-1]

    @property
    def rank(self) -> int:
        """``k = trace(P_π) = rank(P_π)`` for a partition with k non-empty clusters."""
        return self.k

    def assignment(self, dtype: DTypeLike = float) -> Float[Array, "n k"]:
        """``C ∈ {0,1}^{n×k}``, ``C_ij = 1`` iff row i is in cluster j (the unmerge map)."""
        return _fold_assignment(self, dtype)

    def counts(self) -> Int[Array, " k"]:
        """Cluster sizes ``diag(CᵀC)``."""
        return _fold_counts(self)

    def merge(self, dtype: DTypeLike = float) -> Float[Array, "k n"]:
        """``M = (CᵀC)⁻¹ Cᵀ``: row j averages the rows of cluster j."""
        return _fold_merge(self, dtype)

    def compress(self, w: Float[Array, "n ..."]) -> Float[Array, "k ..."]:
        """``M W``: the k cluster means, by a segment mean in O(n·d)."""
        return _fold_compress(self, _check_rows(w, self.n))

    def expand(self, z: Float[Array, "k ..."]) -> Float[Array, "n ..."]:
        """``C Z``: every row receives its cluster's row of ``z`` (a gather)."""
        return _take(_check_rows(z, self.k, "z"), self.labels)

    def apply(self, w: Float[Array, "n ..."]) -> Float[Array, "n ..."]:
        """``P_π W``: each row replaced by its cluster mean. O(n·d), no n×n matrix."""
        return _fold_apply(self, _check_rows(w, self.n))

    def matrix(self, dtype: DTypeLike = float) -> Float[Array, "n n"]:
        """``P_π`` dense: ``P_ij = [l_i = l_j] / |G_{l_i}|`` (small ``n`` only)."""
        _check_dense(self.n)
        return _fold_matrix(self, dtype)


# The projectors' maps, one jitted program each per shape and dtype (run eagerly, each of
# their few operations would compile a program of its own for every new shape). Inputs are
# validated by the methods above; these are also what a caller's jit traces through.
_static_dtype = functools.partial(jax.jit, static_argnames="dtype")


@jax.jit
def _take(x, idx):
    return x[idx]


@jax.jit
def _prune_mask(p: PruneProjector):
    return jnp.zeros(p.n, bool).at[p.keep].set(True)


@jax.jit
def _prune_apply(p: PruneProjector, w):
    m = _prune_mask(p).reshape((p.n,) + (1,) * (w.ndim - 1))
    return jnp.where(m, w, jnp.zeros((), w.dtype))


@_static_dtype
def _prune_matrix(p: PruneProjector, dtype):
    return jnp.diag(_prune_mask(p).astype(dtype))


@_static_dtype
def _prune_selection(p: PruneProjector, dtype):
    return (jnp.arange(p.n)[:, None] == p.keep[None, :]).astype(dtype)


@jax.jit
def _prune_expand(p: PruneProjector, z):
    return jnp.zeros((p.n,) + z.shape[1:], z.dtype).at[p.keep].set(z)


@_static_dtype
def _fold_assignment(p: FoldProjector, dtype):
    return jax.nn.one_hot(p.labels, p.k, dtype=dtype)


@jax.jit
def _fold_counts(p: FoldProjector):
    return jnp.zeros(p.k, jnp.int32).at[p.labels].add(1)


@_static_dtype
def _fold_merge(p: FoldProjector, dtype):
    return _fold_assignment(p, dtype).T / jnp.maximum(_fold_counts(p), 1).astype(dtype)[:, None]


@jax.jit
def _fold_compress(p: FoldProjector, w):
    sums = jax.ops.segment_sum(w, p.labels, num_segments=p.k)
    counts = jnp.maximum(_fold_counts(p), 1).astype(w.dtype)
    return sums / counts.reshape((p.k,) + (1,) * (w.ndim - 1))


@jax.jit
def _fold_apply(p: FoldProjector, w):
    return _fold_compress(p, w)[p.labels]


@_static_dtype
def _fold_matrix(p: FoldProjector, dtype):
    same = (p.labels[:, None] == p.labels[None, :]).astype(dtype)
    size = jnp.maximum(_fold_counts(p), 1).astype(dtype)[p.labels]
    return same / size[:, None]


def prune_projector(keep: Int[ArrayLike, " k"], n: int) -> PruneProjector:
    """Validated :class:`PruneProjector` keeping rows ``keep`` out of ``n`` (sorted for you).

    Raises:
      TypeError, ValueError: if ``keep`` is not distinct integer indices in [0, n).
    """
    n = _checks.check_k(n, 1 << 62, "n")
    return PruneProjector(_checks.check_keep(keep, n), n)


def fold_projector(labels: Int[ArrayLike, " n"], k: int) -> FoldProjector:
    """Validated :class:`FoldProjector` of a partition into ``k`` non-empty clusters.

    Raises:
      TypeError, ValueError: if ``labels`` is not integer of shape (n,) with values in
        [0, k), or leaves a cluster empty.
    """
    shape = np.shape(labels)
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"labels must be {_checks.LABELS_FORM} with n ≥ 1; got shape {shape}.")
    k = _checks.check_k(k, shape[0], "k")
    return FoldProjector(_checks.check_labels(labels, shape[0], k), k)
