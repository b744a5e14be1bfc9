"""Exact optima for small matrices: ``OPT_fold(k)`` by enumeration, ``OPT_prune(k)`` (C4, C5).

``OPT_fold(k) = min_{|π|=k} E_fold(π)`` is NP-hard in general, but for ``n ≤ MAX_N = 10``
rows every partition into exactly k blocks can be scored: there are ``S(n, k)``
(Stirling numbers of the second kind, at most ``S(10, 5) = 42525``; ``Bell(10) = 115975``
over all k). Each partition is a *restricted growth string* (RGS): labels with
``l_0 = 0`` and ``l_i ≤ 1 + max(l_0…l_{i−1})``, one string per partition. They are built
once per ``(n, k)`` on the host by the Stirling recurrence
``RGS(n, k) = RGS(n−1, k) × {0…k−1} ∪ RGS(n−1, k−1) × {k−1}``.

Scoring uses the Gram matrix ``G = W_c W_cᵀ`` of the column-centred rows (inertia is
translation invariant; centring removes a shared offset before any cancellation):

    E_fold(π) = tr G − Σ_{i,m} [l_i = l_m] / |G_{l_i}| · G_im,

so a chunk of partitions is one ``(chunk, n²) @ (n², batch)`` product, whatever d is. Rows
are padded to ``MAX_N``, partitions to ``CHUNK`` and batches to at most ``BATCH``
matrices, so one jitted kernel (three batch buckets) serves every ``(n, k)``, and the
memory stays ``O(CHUNK·(MAX_N² + BATCH))`` whatever the batch. The winning partition's inertia is
then recomputed from differences ``Σ ||w_i − μ_j||²``, so the reported optimum is
accurate relative to itself, not only to ``||W||²``.

Two independent exact methods for cross-checks live in :mod:`projgeo.exact.reference`.

``OPT_prune(k)`` needs no search: the ``n − k`` smallest row energies (C2).

Reference: THEORY.md C2, C4, C5; Knuth, TAOCP 4A §7.2.1.5 (restricted growth strings).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, Int8

from projgeo import _checks
from projgeo.projectors import FoldProjector

#: Largest n for which :func:`exact_fold` enumerates partitions.
MAX_N = 10
#: Partitions and matrices scored per kernel call (memory ``CHUNK·(MAX_N² + BATCH)`` floats).
CHUNK = 8192
BATCH = 256


class ExactFold(NamedTuple):
    """An optimal partition into k clusters and its inertia ``OPT_fold(k)``.

    Attributes:
      labels: (..., n) int32 labels in [0, k), every cluster non-empty.
      inertia: (...) ``E_fold(labels)`` computed from differences.
    """

    labels: Int[Array, "... n"]
    inertia: Float[Array, "..."]

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of the optimal partition (one matrix, not a batch)."""
        return _projector(self.labels)


def _projector(labels) -> FoldProjector:
    """``FoldProjector`` of one labelling whose k clusters are all non-empty (k = max + 1)."""
    if jnp.ndim(labels) != 1:
        raise ValueError(f"projector() needs the result of one matrix, labels of shape (n,); "
                         f"got {tuple(jnp.shape(labels))} (index the batch first)")
    return FoldProjector(labels, int(jnp.max(labels)) + 1)


class ExactPath(NamedTuple):
    """``OPT_fold(k)`` for every ``k = 1…n``. Entry ``[..., k − 1]`` belongs to rank k.

    Attributes:
      labels: (..., n, n) optimal labels; ``labels[..., k − 1, :]`` is a k-partition.
      inertia: (..., n) ``OPT_fold(k)``; ``inertia[..., n − 1] = 0``.
    """

    labels: Int[Array, "... n n"]
    inertia: Float[Array, "... n"]

    def at(self, k: int) -> ExactFold:
        """The optimum at rank k (1-based, as in the theory)."""
        n = self.inertia.shape[-1]
        k = _checks.check_k(k, n)
        return ExactFold(self.labels[..., k - 1, :], self.inertia[..., k - 1])


# ---------------------------------------------------------------------------
# Enumeration (host, cached).


@functools.cache
def _rgs(n: int, k: int) -> np.ndarray:
    if k < 1 or k > n:
        return np.zeros((0, n), np.int8)
    if k == 1:
        out = np.zeros((1, n), np.int8)
    elif k == n:
        out = np.arange(n, dtype=np.int8)[None, :]
    else:
        a = _rgs(n - 1, k)  # the last row joins one of the k blocks
        b = _rgs(n - 1, k - 1)  # the last row opens block k − 1
        last = np.tile(np.arange(k, dtype=np.int8), len(a))[:, None]
        grow = np.concatenate([np.repeat(a, k, axis=0), last], axis=1)
        opened = np.concatenate([b, np.full((len(b), 1), k - 1, np.int8)], axis=1)
        out = np.concatenate([grow, opened])
    out.setflags(write=False)
    return out


def set_partitions(n: int, k: int) -> Int8[np.ndarray, "s n"]:
    """All partitions of ``range(n)`` into exactly k blocks, as restricted growth strings.

    Args:
      n: number of rows, ``1 ≤ n ≤ MAX_N``.
      k: number of blocks, ``1 ≤ k ≤ n``.

    Returns:
      A read-only ``(S(n, k), n)`` int8 array; row p is the labels of partition p.

    Raises:
      ValueError: if ``n`` or ``k`` is out of range.
    """
    n = _check_n(n)
    return _rgs(n, _checks.check_k(k, n))


def _check_n(n: int, limit: int = MAX_N, what: str = "exact_fold") -> int:
    n = _checks.check_count(n, "n")
    if n > limit:
        raise ValueError(
            f"{what} enumerates partitions and needs n ≤ {limit}; got n = {n} rows. "
            "For larger n use projgeo.certified_fold (an upper bound certified against pruning)."
        )
    return n


@functools.lru_cache(maxsize=2 * MAX_N)
def _padded(n: int, ks: tuple[int, ...]):
    """RGS of ``range(n)`` for the ranks ``ks``, padded to (CHUNK-multiple, MAX_N).

    Padded rows get label −1 (in no cluster); padded partitions get rank 0 (ignored).
    """
    parts = [_rgs(n, k) for k in ks]
    rank = np.concatenate([np.full(len(p), k, np.int32) for p, k in zip(parts, ks, strict=True)])
    labels = np.concatenate(parts)
    total = -(-len(labels) // CHUNK) * CHUNK
    lab = np.full((total, MAX_N), -1, np.int8)
    lab[: len(labels), :n] = labels
    rk = np.zeros(total, np.int32)
    rk[: len(labels)] = rank
    return lab, rk, labels


# ---------------------------------------------------------------------------
# Scoring kernel: one compile for every (n, k) with n ≤ MAX_N.


@jax.jit
def _chunk_min(labels, rank, grams):
    """Min inertia per rank over one chunk, and the chunk index attaining it.

    labels: (C, N) int8, −1 = padded row. rank: (C,) int32, 0 = padding.
    grams: (B, N, N). Returns (N+1, B) minima and (N+1, B) int32 indices (C if none).
    """
    c, nmax = labels.shape
    lab = labels.astype(jnp.int32)
    same = (lab[:, :, None] == lab[:, None, :]) & (lab[:, :, None] >= 0)
    size = jnp.maximum(jnp.sum(same, axis=2), 1).astype(grams.dtype)
    wt = same.astype(grams.dtype) / size[:, :, None]
    fit = wt.reshape(c, nmax * nmax) @ grams.reshape(grams.shape[0], nmax * nmax).T
    trace = jnp.trace(grams, axis1=1, axis2=2)
    inertia = trace[None, :] - fit  # (C, B)
    best = jax.ops.segment_min(inertia, rank, num_segments=nmax + 1)
    idx = jnp.arange(c, dtype=jnp.int32)[:, None]
    hit = jnp.where(inertia == best[rank], idx, c)
    return best, jax.ops.segment_min(hit, rank, num_segments=nmax + 1)


def _bucket(b: int) -> int:
    """Padded batch size: 1, 16 or BATCH (three compiles of the kernel at most)."""
    return 1 if b == 1 else 16 if b <= 16 else BATCH


def _as_batch(w, name: str = "w") -> tuple[np.ndarray, tuple[int, ...]]:
    """(…, n, d) floating, finite → (B, n, d) numpy, and the leading shape."""
    if not _checks.is_concrete(w):
        raise TypeError(f"{name}: the exact solvers run on the host and cannot be traced "
                        "under jit/vmap/grad; call them on concrete arrays.")
    try:
        arr = np.asarray(w)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be a floating (n, d) or (batch, n, d) array; got "
                        f"{type(w).__name__}.") from e
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating (n, d) or (batch, n, d) array; got dtype "
                        f"{arr.dtype}. Convert explicitly, e.g. {name}.astype(float).")
    if arr.ndim not in (2, 3) or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty (n, d) or (batch, n, d) array; got shape "
                         f"{arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf.")
    lead = arr.shape[:-2]
    return arr.reshape((-1,) + arr.shape[-2:]), lead


def inertia_of(w: Float[np.ndarray, "b n d"],
               labels: Int[np.ndarray, "b K n"] | Int[np.ndarray, "K n"]
               ) -> Float[np.ndarray, "b K"]:
    """``E_fold`` of labelings from differences ``Σ ||w_i − μ_{l_i}||²`` (host-side numpy).

    Args:
      w: (B, n, d) weights.
      labels: (B, K, n) labelings per matrix, or (K, n) shared by all B matrices.

    Returns:
      (B, K) inertias.
    """
    m = int(labels.max()) + 1 if labels.size else 1
    # Inertia is translation invariant: measure from the first row, so identical rows give
    # exactly 0 (a mean of copies of x need not round to x) and offsets do not cancel.
    w = w - w[:, :1]
    lab = labels if labels.ndim == 3 else labels[None]
    onehot = (lab[..., None] == np.arange(m)).astype(w.dtype)  # (B|1, K, n, m)
    counts = np.maximum(onehot.sum(axis=2), 1)
    means = np.swapaxes(onehot, -1, -2) @ w[:, None] / counts[..., None]  # (B, K, m, d)
    idx = np.broadcast_to(lab, means.shape[:2] + lab.shape[-1:])[..., None].astype(np.intp)
    r = w[:, None] - np.take_along_axis(means, idx, axis=2)
    return np.sum(r * r, axis=(2, 3))


def _best_indices(grams: np.ndarray, lab, rank) -> np.ndarray:
    """For each rank and matrix, the index of a partition of least inertia: (MAX_N+1, B)."""
    nb = len(grams)
    padded = np.zeros((_bucket(nb), MAX_N, MAX_N), grams.dtype)
    padded[:nb] = grams
    padded = jnp.asarray(padded)
    best = np.full((MAX_N + 1, nb), np.inf)
    arg = np.zeros((MAX_N + 1, nb), np.int64)
    for start in range(0, len(lab), CHUNK):
        m, i = _chunk_min(lab[start:start + CHUNK], rank[start:start + CHUNK], padded)
        m, i = np.asarray(m)[:, :nb], np.asarray(i)[:, :nb]
        better = m < best  # ties keep the earlier partition
        best = np.where(better, m, best)
        arg = np.where(better, start + i, arg)
    return arg


def _pow2_scaled(ws: np.ndarray):
    """Each matrix of ``ws`` divided by the power of two of its largest entry (exact), and
    the exponents: Gram entries and squared sums then neither under- nor overflow."""
    big = np.max(np.abs(ws), axis=(1, 2))
    e = np.where(big > 0, np.frexp(big)[1], 0)
    return np.ldexp(ws, -e[:, None, None]).astype(ws.dtype), e


def _unscale_sq(x: np.ndarray, e: np.ndarray, dtype) -> np.ndarray:
    """``x · 2^{2e}`` (a squared quantity of the scaled copy back to the input's scale);
    inf where the true value exceeds ``dtype``'s range."""
    with np.errstate(over="ignore"):
        return np.ldexp(x, 2 * e).astype(dtype)


def _exact(ws, lead, ks: tuple[int, ...]):
    nb, n, _ = ws.shape
    lab, rank, plain = _padded(n, ks)
    raw = ws
    ws, e = _pow2_scaled(ws)
    wc = ws - ws.mean(axis=1, keepdims=True)
    grams = np.zeros((nb, MAX_N, MAX_N), ws.dtype)
    grams[:, :n, :n] = wc @ np.swapaxes(wc, 1, 2)
    arg = np.concatenate([_best_indices(grams[b:b + BATCH], lab, rank)
                          for b in range(0, nb, BATCH)], axis=1)
    sel = arg[list(ks)].T  # (B, len(ks)) indices into the padded list = into ``plain``
    labels = plain[sel].astype(np.int32)  # (B, len(ks), n)
    inertia = _unscale_sq(inertia_of(ws, labels), e[:, None], raw.dtype)
    return labels, inertia, lead


def exact_fold(w: Float[Array, "... n d"], k: int) -> ExactFold:
    """``OPT_fold(k)`` and an optimal partition, by enumerating all k-block partitions (C4).

    Host-side driver over one jitted kernel (not traceable under ``jit``/``vmap``).

    Args:
      w: (n, d) or (batch, n, d) floating weights, ``n ≤ MAX_N``.
      k: number of clusters, ``1 ≤ k ≤ n``.

    Returns:
      :class:`ExactFold` with labels (..., n) and inertia (...), dtype of ``w``.

    Raises:
      TypeError, ValueError: on bad ``w`` or ``k``, or ``n > MAX_N``.
    """
    ws, lead = _as_batch(w)
    n = _check_n(ws.shape[1])
    labels, inertia, lead = _exact(ws, lead, (_checks.check_k(k, n),))
    return ExactFold(jnp.asarray(labels[:, 0].reshape(lead + (n,))),
                     jnp.asarray(inertia[:, 0].reshape(lead)))


def exact_fold_path(w: Float[Array, "... n d"]) -> ExactPath:
    """``OPT_fold(k)`` for every ``k = 1…n`` at once (all ``Bell(n)`` partitions) (C4, C5).

    Args:
      w: (n, d) or (batch, n, d) floating weights, ``n ≤ MAX_N``.

    Returns:
      :class:`ExactPath`; ``inertia[..., k − 1] = OPT_fold(k)``.

    Raises:
      TypeError, ValueError: on bad ``w`` or ``n > MAX_N``.
    """
    ws, lead = _as_batch(w)
    n = _check_n(ws.shape[1])
    labels, inertia, lead = _exact(ws, lead, tuple(range(1, n + 1)))
    return ExactPath(jnp.asarray(labels.reshape(lead + (n, n))),
                     jnp.asarray(inertia.reshape(lead + (n,))))


# ---------------------------------------------------------------------------
# Pruning.


def exact_prune_path(w: Float[Array, "... n d"]) -> Float[Array, "... n"]:
    """``OPT_prune(k) = E_prune(S*)`` for ``k = 1…n``: the ``n − k`` smallest energies (C2).

    Args:
      w: (…, n, d) floating weights (any n).

    Returns:
      (…, n) array; entry ``[..., k − 1] = Σ`` of the ``n − k`` smallest ``||w_i||²``, so the
      last entry (k = n) is 0.
    """
    ws, lead = _as_batch(w)
    dtype = ws.dtype
    ws, e = _pow2_scaled(ws)
    energy = np.sort(np.sum(ws * ws, axis=2), axis=1)  # ascending
    n = ws.shape[1]
    csum = np.concatenate([np.zeros((len(ws), 1), ws.dtype), np.cumsum(energy, axis=1)], axis=1)
    path = _unscale_sq(csum[:, n - np.arange(1, n + 1)], e[:, None], dtype)
    return jnp.asarray(path.reshape(lead + (n,)))


def exact_prune(w: Float[Array, "... n d"], k: int) -> Float[Array, "..."]:
    """``OPT_prune(k)``, the energy of the ``n − k`` smallest rows (C2).

    Raises:
      TypeError, ValueError: on bad ``w`` or ``k``.
    """
    k = _checks.check_k(k, _as_batch(w)[0].shape[1])
    return exact_prune_path(w)[..., k - 1]
