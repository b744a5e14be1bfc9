"""Folding by k-means, in JAX and jit-compiled (C2, C4).

Folding replaces each row by its cluster mean, so the best folding at rank k is the
k-means partition of the rows: ``OPT_fold(k) = min_{|π|=k} Σ_j Σ_{i∈G_j} ||w_i − μ_j||²``.
k-means is NP-hard; :func:`fold` runs a fast heuristic with one extra promise:

* **seeding** (:mod:`projgeo.kmeans.seeding`): by default Ward-like bottom-up merges where
  clusters are small (``n ≤ 4·K``, K the capacity, and ``n ≤ 8192``; :func:`seeding_for`),
  else bisecting principal splits, ``O(n·d·log k)``; greedy k-means++ (``2 + ⌊ln k⌋``
  local trials, as scikit-learn) on request, ``O(trials·n·k·d)`` and serial in k;
* **Lloyd** iterations (assign to the nearest mean, recompute means);
* **Hartigan** refinement: single-row moves from cluster a to b, which change the inertia
  by exactly ``Δ = n_b/(n_b+1)·||x−μ_b||² − n_a/(n_a−1)·||x−μ_a||²``, made in parallel
  batches whose clusters are pairwise disjoint, so their Δ add up exactly;
* **split–merge** rounds: merge two mutually nearest clusters and split another along its
  principal direction when the split gains more than the merge costs (:mod:`projgeo.kmeans.refine`);
* **warm start** from a given partition (the certified fold of C4(ii) starts from ``π_{S*}``).

Monotonicity is enforced, not hoped for: every phase recomputes the inertia of its
candidate partition directly and keeps it only if it is not larger than the current
one. Started from a partition, the result's inertia never exceeds the start's (as
computed in the input dtype). Every returned partition has k non-empty clusters:
an empty cluster is filled by the row farthest from its mean among clusters with two or
more rows, which lowers the inertia by ``n_a/(n_a−1)·||x−μ_a||²``.

Distances go through matrix products, ``||x||² − 2 x·μ + ||μ||²``: memory
``O(n·k + n·d + k²)``, never an ``n×k×d`` intermediate; after a step only the distance
columns of clusters that changed are recomputed. Quantities that decide a move are
recomputed from differences, so cancellation in the matrix-product form cannot make a
move that increases the inertia. Performance is measured by ``python -m benchmarks``.

Reference: Lloyd (1982); Arthur & Vassilvitskii (2007), k-means++; Hartigan & Wong
(1979); Telgarsky & Vattani (2010), Hartigan's method; Savaresi & Boley (2004),
bisecting k-means; THEORY.md C2, C4.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike
from jaxtyping import Array, Bool, Float, Int, Scalar

from projgeo import _checks, _scale
from projgeo.kmeans import refine
from projgeo.kmeans._kernels import counts, fill_empty, inertia, means, sq_dists
from projgeo.kmeans.seeding import (
    AGGLOMERATE_MAX_N,
    agglomerate,
    bisect,
    kmeans_plusplus,
    nearest_centre,
)
from projgeo.projectors import FoldProjector


class KMeansResult(NamedTuple):
    """Result of :func:`fold`.

    Attributes:
      labels: (n,) int32 cluster of each row; all k clusters are non-empty.
      centroids: (k, d) cluster means, dtype of the weights.
      inertia: ``E_fold`` of ``labels``, computed from differences.
      iterations: Lloyd plus Hartigan iterations performed.
      converged: True if both phases stopped before their iteration caps.
    """

    labels: Int[Array, " n"]
    centroids: Float[Array, "k d"]
    inertia: Scalar
    iterations: Int[Array, ""]
    converged: Bool[Array, ""]

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of this partition."""
        return FoldProjector(self.labels, self.centroids.shape[-2])


# ---------------------------------------------------------------------------
# Kernels (unvalidated; static capacity, traced k; shapes fixed so they jit and vmap).

_counts, _means, _inertia, _sq_dists, _fill_empty = counts, means, inertia, sq_dists, fill_empty

SEEDINGS = ("bisect", "kmeans++", "ward")

#: Smallest capacity: every k ≤ CAPACITY_FLOOR shares one program (small k are cheap, and
#: a program per power of two below 16 would cost more compile time than it saves).
CAPACITY_FLOOR = 16


def capacity(n: int, k: int) -> int:
    """Static cluster capacity of a fold of n rows into k clusters.

    ``K = min(n, max(2^⌈log₂ k⌉, CAPACITY_FLOOR))``: the kernels compile for ``K`` and mask
    the clusters ``k…K−1``. A sweep over every k = 1…n therefore compiles at most
    ``⌈log₂ n⌉ + 1`` programs per (n, d, dtype), and a new k whose capacity was already
    compiled compiles nothing.
    """
    return min(n, max(1 << max(k - 1, 0).bit_length(), CAPACITY_FLOOR))


def refresh_columns(k: int) -> int:
    """Distance columns recomputed in place after a step (more changed: full product)."""
    return k if k <= 64 else max(64, k // 8)


#: Bisecting seeding runs on the rows projected to this many random directions when d is
#: larger: distances are kept up to a few percent (Johnson–Lindenstrauss), a pass costs
#: O(n·SKETCH_DIM) instead of O(n·d); Lloyd, Hartigan and split–merge use the full rows.
#: (Split–merge proposals on the sketch were tried: faster, but lost to Ward on clustered
#: rows, so they stay in full dimension.)
SKETCH_DIM = 256


def _sketch(w, key):
    d = w.shape[1]
    if d <= SKETCH_DIM:
        return w
    g = jax.random.normal(key, (d, SKETCH_DIM), w.dtype) / math.sqrt(SKETCH_DIM)
    return w @ g


def lloyd_step(w, labels, k: int):
    """One plain Lloyd step: new labels ``argmin_j ||μ_j||² − 2 w_i·μ_j`` (one product).

    ``||w_i||²`` is the same for every j, so the nearest mean needs only the ``n×k``
    product and the means' norms. The step whose throughput the benchmarks compare with a
    bare matrix product of the same shape.
    """
    # The barrier keeps XLA from fusing the means into the product's operand, which on
    # CPU swaps the library GEMM for a slower generated loop (measured: 38 ms vs 33 ms).
    mu = jax.lax.optimization_barrier(means(w, labels, k))
    scores = jnp.sum(mu * mu, axis=1)[None, :] - 2.0 * (w @ mu.T)
    return jnp.argmin(scores, axis=1).astype(jnp.int32)


def times_pow2(x, e):
    """``x·2^e`` for an integer (traced) ``e``, exact unless the result leaves the range.

    Four factors ``2^(e/4)`` keep every factor representable (float64 ``e`` down to
    −2·1074); a product of powers of two rounds only when it under- or overflows.
    """
    e = jnp.asarray(e, jnp.int32)
    parts = [e // 4] * 3
    parts.append(e - 3 * (e // 4))
    one = jnp.ones((), x.dtype)
    for p in parts:
        x = x * jnp.ldexp(one, p)
    return x


def normalise(w):
    """``((w − m)·2^−e, m, e)``: the rows centred on their mean and scaled into [−1, 1].

    k-means is translation- and scale-equivariant: the partition of the copy is the
    partition of ``w``, its inertia times ``4^e`` is the inertia of ``w`` (exactly: a power
    of two), and neither distances nor their squares can over- or underflow on the copy,
    whatever the magnitude of ``w`` or its distance from the origin (rows ``10⁸ + N(0,1)``).
    """
    m = jnp.mean(w, axis=0)
    c = w - m[None, :]
    e = _scale.exponent(c)
    return times_pow2(c, -e), m, e


class Options(NamedTuple):
    """Iteration caps and the Lloyd tolerance: traced, so a new value compiles nothing."""

    max_iter: ArrayLike
    refine_iter: ArrayLike
    split_merge_iter: ArrayLike
    tol: ArrayLike


def options(max_iter=300, refine_iter=1000, split_merge_iter=16, tol=0.0,
            dtype: DTypeLike = float) -> Options:
    """:class:`Options` as host scalars (numpy: building them compiles nothing)."""
    return Options(np.int32(max_iter), np.int32(refine_iter), np.int32(split_merge_iter),
                   np.asarray(tol, dtype))


def seed(ws, k, cap: int, key, *, seeding: str | None = None, n_local_trials: int = 2):
    """Starting labels (n,) for k ≤ cap clusters (traced k): Ward-like merges, bisecting or
    k-means++; ``seeding=None`` is the default rule, :func:`seeding_for` ``(n, cap)``."""
    if seeding is None:
        seeding = seeding_for(ws.shape[0], cap)
    if seeding == "kmeans++":
        centres = kmeans_plusplus(ws, cap, key, n_local_trials, k)
        return nearest_centre(ws, jnp.sum(ws * ws, axis=1), centres, k)
    if seeding == "ward":
        return agglomerate(ws, k)
    return bisect(_sketch(ws, key), cap, k)


def improve(ws, labels, k, cap: int, opts: Options):
    """Lloyd, Hartigan, split–merge from ``labels``: (final State, iterations, converged)."""
    sq_w = jnp.sum(ws * ws, axis=1)
    cols = refresh_columns(cap)
    st = refine.make_state(ws, sq_w, fill_empty(ws, labels, cap, k), cap, k)
    st, it1, done1 = refine.lloyd(ws, sq_w, st, k, opts.max_iter, opts.tol, cols)
    st, it2, done2 = refine.hartigan(ws, sq_w, st, k, opts.refine_iter, cols)
    st, it3 = refine.split_merge(ws, sq_w, st, k, opts.split_merge_iter, opts.refine_iter, cols)
    return st, it1 + it2 + it3, done1 & done2


def solve(ws, k, cap: int, opts: Options, *, init=None, key=None, seeding: str | None = None,
          n_local_trials: int = 2):
    """The k-means solver on a normalised copy ``ws`` (unvalidated, traced ``k ≤ cap``).

    Seeds (or starts from ``init``), then Lloyd, Hartigan, split–merge; returns the final
    :class:`projgeo.kmeans.refine.State` (capacity ``cap``), the iteration count and convergence.
    """
    if init is None:
        init = seed(ws, k, cap, key, seeding=seeding, n_local_trials=n_local_trials)
    return improve(ws, init, k, cap, opts)


def scaled_back(st, shift, e, iterations, converged) -> KMeansResult:
    """The :class:`KMeansResult` of ``w`` from the solver's state on its normalised copy."""
    return KMeansResult(st.labels, times_pow2(st.mu, e) + shift[None, :],
                        times_pow2(st.inertia, 2 * e), iterations, converged)


@functools.partial(jax.jit, static_argnames=("cap", "n_local_trials", "seeding", "warm"))
def _fold_kernel(w, init_labels, key, k, opts, *, cap, n_local_trials, seeding, warm):
    ws, shift, e = normalise(w)
    st, it, done = solve(ws, k, cap, opts, init=init_labels if warm else None, key=key,
                         seeding=seeding, n_local_trials=n_local_trials)
    return scaled_back(st, shift, e, it, done)


#: ``effort=`` presets of :func:`fold`: (max_iter, refine_iter, split_merge_iter). Measured
#: (float32, steady state, best of 2, 2 shared cores, load ≈ 3.5), 512×4608 → 256 low-rank:
#: fast 0.33 s / inertia 164.269, default 0.67 s / 163.796; 2048×768 → 1024 gaussian: fast
#: 0.89 s / 901.719, default 1.62 s / 901.145 (both from the bisecting seeding; the
#: seeding is no longer part of the preset, see :func:`seeding_for`).
EFFORTS = {"fast": (10, 20, 0), "default": (300, 1000, 16), "best": (1000, 10000, 64)}

#: Every effort seeds by :func:`projgeo.kmeans.seeding.agglomerate` where
#: ``n ≤ WARD_SEED_CAP_RATIO · K`` (K the capacity, :func:`capacity`) and
#: ``n ≤ AGGLOMERATE_MAX_N``: there clusters have a few rows each, a top-down seeding
#: leaves Lloyd little to move, and a bottom-up one is what Ward's lower inertia comes
#: from. The rule reads the capacity, not k, so every k of a bucket runs one program.
WARD_SEED_CAP_RATIO = 4


def seeding_for(n: int, cap: int) -> str:
    """The default seeding of n rows at capacity ``cap``: ``"ward"`` where
    ``n ≤ WARD_SEED_CAP_RATIO·cap`` and ``n ≤ AGGLOMERATE_MAX_N``, else ``"bisect"``."""
    if n <= AGGLOMERATE_MAX_N and n <= WARD_SEED_CAP_RATIO * cap:
        return "ward"
    return "bisect"


def effort_seeding(effort: str, n: int, k: int) -> str:
    """The seeding :func:`fold` picks for n rows into k clusters at ``effort`` (every
    preset follows :func:`seeding_for`)."""
    if effort not in EFFORTS:
        raise ValueError(f"effort must be one of {tuple(EFFORTS)}; got {effort!r}.")
    return seeding_for(n, capacity(n, k))


def default_trials(cap: int) -> int:
    """k-means++ candidates per centre by default: ``2 + ⌊ln K⌋`` for the capacity K, the
    same for every k of a bucket."""
    return 2 + int(math.log(cap))


def effort_caps(effort: str, max_iter=None, refine_iter=None, split_merge_iter=None):
    """The iteration caps of an ``effort`` preset; caps given explicitly take precedence."""
    if effort not in EFFORTS:
        raise ValueError(f"effort must be one of {tuple(EFFORTS)}; got {effort!r}.")
    given = (max_iter, refine_iter, split_merge_iter)
    return tuple(p if g is None else g for p, g in zip(EFFORTS[effort], given, strict=True))


def trim(res: KMeansResult, k: int) -> KMeansResult:
    """``res`` with its ``(cap, d)`` centroids cut to ``(k, d)``.

    On concrete arrays the cut is made on the host: a device slice (or ``jnp.asarray`` of
    a host array) would compile one small program per k, which the capacity rule avoids.
    """
    c = res.centroids
    if c.shape[0] == k:
        return res
    if _checks.is_concrete(c):
        c = jax.device_put(np.asarray(c)[:k])
    else:
        c = c[:k]
    return res._replace(centroids=c)


def fold(
    w: Float[Array, "n d"],
    k: int,
    *,
    key: jax.Array | None = None,
    init: Int[Array, " n"] | None = None,
    effort: str = "default",
    max_iter: int | None = None,
    refine_iter: int | None = None,
    split_merge_iter: int | None = None,
    tol: float = 0.0,
    seeding: str | None = None,
    n_local_trials: int | None = None,
) -> KMeansResult:
    """Fold the rows of ``w`` into ``k`` clusters by k-means (C2, C4).

    Either ``key`` (seeding) or ``init`` (warm start from a partition) is given. Then
    Lloyd iterations run until the labels stop changing, the relative decrease of the
    inertia is ≤ ``tol``, or ``max_iter``; then Hartigan refinement for at most
    ``refine_iter`` batches (0 disables it); then at most ``split_merge_iter`` rounds of
    split–merge, each followed by Hartigan (0 disables them; see :mod:`projgeo.kmeans.refine`).
    From a warm start the returned inertia is never above the inertia of ``init``.

    **Compilation.** ``k`` and the iteration caps are traced; the kernels compile for the
    static capacity ``K = min(n, max(2^⌈log₂ k⌉, 16))`` (:func:`capacity`) and mask the
    clusters ``k…K−1``. A sweep over every ``k = 1…n`` on one ``(n, d, dtype)`` compiles at
    most ``⌈log₂ n⌉ + 1`` programs, and a new ``k`` (or cap) in an already-compiled bucket
    compiles nothing (pinned in ``tests/test_compile_counts.py``).

    **Scale.** k-means runs on ``(w − m)·2^−e`` (``m`` the mean row, ``2^e ≥ max|w − m|``,
    :func:`normalise`): the partition does not depend on the magnitude of ``w`` or on its
    distance from the origin, and the inertia scales back by ``4^e`` exactly. It is ``inf``
    only when the true value exceeds the dtype's range (float32 rows of 10²⁵).

    Args:
      w: (n, d) floating weights.
      k: number of clusters, ``1 ≤ k ≤ n``.
      key: a ``jax.random`` key for the seeding: the random projection bisecting works on
        (when ``d > SKETCH_DIM``), or k-means++'s draws (Ward-like merges use none). Not
        used with ``init``.
      init: (n,) integer labels in [0, k) of a starting partition; empty clusters are
        filled first (which never increases the inertia).
      effort: preset of the three caps below (:data:`EFFORTS`): ``"fast"`` (10, 20, 0),
        ``"default"`` (300, 1000, 16) or ``"best"`` (1000, 10000, 64). A cap given
        explicitly overrides the preset's.
      max_iter: cap on Lloyd iterations (default: the preset's).
      refine_iter: cap on Hartigan batches per phase (default: the preset's).
      split_merge_iter: cap on split–merge rounds (default: the preset's).
      tol: relative inertia decrease under which Lloyd stops.
      seeding: ``None`` (default: ``"ward"`` where ``n ≤ 4·K`` and ``n ≤ 8192``, else
        ``"bisect"``; :func:`seeding_for`, one rule per bucket, for every effort),
        ``"ward"`` (bottom-up merges of reciprocal nearest clusters,
        :func:`projgeo.kmeans.seeding.agglomerate`; ``O(n²·d + rounds·n²)`` time and an n×n
        matrix, so ``n ≤ 8192``; best where n/k is small), ``"bisect"`` (top-down principal
        splits, ``O(n·d·log k)``) or ``"kmeans++"`` (greedy, as scikit-learn;
        ``O(trials·n·k·d)``, serial in k).
      n_local_trials: k-means++ candidates per centre (default ``2 + ⌊ln K⌋``, K the
        capacity, so that it is the same for every k of a bucket).

    Returns:
      A :class:`KMeansResult`; ``iterations`` counts Lloyd steps and Hartigan batches,
      ``converged`` says whether the Lloyd and first Hartigan phase stopped before their caps.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k``, ``init`` or options, or if neither
        ``key`` nor ``init`` is given.
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    max_iter, refine_iter, split_merge_iter = effort_caps(effort, max_iter, refine_iter,
                                                          split_merge_iter)
    max_iter = _checks.check_count(max_iter, "max_iter")
    refine_iter = _check_count(refine_iter, "refine_iter")
    split_merge_iter = _check_count(split_merge_iter, "split_merge_iter")
    if not (isinstance(tol, int | float) and 0.0 <= tol < 1.0):
        raise ValueError(f"tol must be a float in [0, 1); got {tol!r}.")
    if seeding is None:
        seeding = effort_seeding(effort, n, k)
    if seeding not in SEEDINGS:
        raise ValueError(f"seeding must be one of {SEEDINGS}; got {seeding!r}.")
    if seeding == "ward" and n > AGGLOMERATE_MAX_N:
        raise ValueError(f"seeding='ward' holds an n×n matrix: expected n ≤ {AGGLOMERATE_MAX_N}, "
                         f"got n = {n}; use seeding='bisect'.")
    cap = capacity(n, k)
    if n_local_trials is None:
        n_local_trials = default_trials(cap)
    n_local_trials = _checks.check_k(n_local_trials, 1 << 20, "n_local_trials")
    if key is not None:
        key = _checks.check_key(key)
    if init is None:
        if key is None:
            raise ValueError("fold needs key= (a jax.random key for seeding) or init= labels.")
        init_labels = np.zeros(n, np.int32)
    else:
        init_labels = _checks.check_labels(init, n, k, allow_empty=True, name="init")
        key = jax.random.key(0) if key is None else key
    opts = options(max_iter, refine_iter, split_merge_iter, tol, w.dtype)
    res = _fold_kernel(w, init_labels, key, np.int32(k), opts, cap=cap,
                       n_local_trials=n_local_trials, seeding=seeding, warm=init is not None)
    return trim(res, k)


def fold_at_capacity(w: Float[Array, "n d"], k, key, *, cap: int) -> KMeansResult:
    """:func:`fold` at the default effort and seeding, for a ``k`` that may be traced (under
    ``jit``/``vmap``): the program depends on the static capacity ``cap ≥ k`` only
    (:func:`capacity`), so one compile serves every k of a bucket.

    Unvalidated (for callers inside ``jit``, which validate first); the centroids keep their
    ``(cap, d)`` shape, clusters ``k…cap−1`` empty. The labels and inertia are those of
    ``fold(w, k, key=key)``.
    """
    max_iter, refine_iter, split_merge_iter = EFFORTS["default"]
    opts = options(max_iter, refine_iter, split_merge_iter, 0.0, w.dtype)
    return _fold_kernel(w, jnp.zeros(w.shape[0], jnp.int32), key, k, opts, cap=cap,
                        n_local_trials=default_trials(cap),
                        seeding=seeding_for(w.shape[0], cap),
                        warm=False)


def _check_count(x, name: str) -> int:
    return _checks.check_count(x, name, minimum=0)
