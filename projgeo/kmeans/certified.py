"""Certified folding: k+1 clusters never worse than magnitude pruning at k (C3, C4).

The rank-distance-one theorem (THEORY.md C4) reads
``OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k)``. Its proof is constructive: the
pruning-induced partition ``π_{S*}`` (every kept row alone, all pruned rows in one
cluster, C3) has ``E_fold(π_{S*}) = E_prune(S*) − (n−k)·||μ||² ≤ E_prune(S*)``, and any
refinement that never increases the inertia keeps that bound.

:func:`certified_fold` is one jitted program (``k`` traced, the capacity rule of
:func:`projgeo.fold`) with three routes, best first:

1. ``"default"``: the default fold at k+1 (its default seeding, Lloyd, Hartigan,
   split–merge), kept if its inertia is ≤ ``OPT_prune(k)`` as computed. On trained-like
   layers it usually is, and it is often below ``E_fold(π_{S*})``.
2. ``"warm_start"``: only otherwise (``lax.cond``), the same solver started at ``π_{S*}``;
   every phase keeps a step only if the recomputed inertia does not rise, so it ends at or
   below ``E_fold(π_{S*})``. The better of routes 1 and 2 is returned.
3. ``"c3_partition"``: should both still be above ``OPT_prune(k)`` as computed (only by
   rounding, when ``(n−k)·||μ||²`` is at the last bit of ``E_prune``), ``π_{S*}`` itself, its
   inertia given by the C3 identity ``fl(E_prune − (n−k)·||μ||²)``, which is ≤ ``E_prune``
   in floating point too.

Hence, bitwise as computed, ``result.inertia ≤ prune_error = OPT_prune(k)``. Everything is
computed on the copy ``w·2^−e`` (``2^e ≥ max|w|``; the folds also subtract the mean row), so
no square under- or overflows and the certificate holds for any finite weights; errors scale
back by ``4^e`` exactly. A heuristic k-means from its own initialisation gives no such
promise by itself (C4(iii)): route 1 is only kept where it is checked.

Reference: arXiv 2602.18116, Thm. 1 and its proof; THEORY.md C3, C4.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Scalar

from projgeo import _checks, _scale
from projgeo.kmeans import lloyd as kmeans
from projgeo.kmeans.lloyd import KMeansResult
from projgeo.projectors import FoldProjector, PruneProjector
from projgeo.pruning import _check_score, _row_order

K_EQUALS_N = (
    "certified_fold needs k < n: it folds into k+1 ≤ n clusters, starting from the partition "
    "π_S that puts the n−k pruned rows in one cluster; got k = {k}, n = {n}. At k = n both "
    "pruning and folding are exact (error 0); use projgeo.fold(w, n, ...) if you need labels."
)

#: Names of ``CertifiedFold.route``.
ROUTES = ("default", "warm_start", "c3_partition")


class CertifiedFold(NamedTuple):
    """Result of :func:`certified_fold` (C4(ii)).

    Attributes:
      result: the k-means result with ``k + 1`` clusters; ``result.inertia ≤ prune_error``
        bitwise.
      prune: ``S*``, magnitude pruning at rank k (the ``S*`` of
        :func:`projgeo.magnitude_prune`).
      prune_error: ``E_prune(S*) = OPT_prune(k)``, the bound being certified.
      start_error: ``E_fold(π_{S*})``, the inertia of the C3 partition (C3: ``≤ prune_error``
        up to rounding).
      refined_error: inertia of the fold warm-started at ``π_{S*}`` (``≤ start_error``: no
        phase raises the inertia); ``start_error`` where the default route made it unneeded.
      route: int32 index into :data:`ROUTES`: which route gave ``result``.
      fell_back: ``route == 2``: ``π_{S*}`` itself was returned.
    """

    result: KMeansResult
    prune: PruneProjector
    prune_error: Scalar
    start_error: Scalar
    refined_error: Scalar
    route: Int[Array, ""]
    fell_back: Bool[Array, ""]

    @property
    def margin(self) -> Scalar:
        """``OPT_prune(k) − E_fold``: how much the fold at k+1 beats pruning at k (≥ 0)."""
        return self.prune_error - self.result.inertia

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of the certified partition (rank k+1)."""
        return self.result.projector()


class _Certified(NamedTuple):
    """Everything :func:`certify` computes, on the scaled copy (multiply by ``4^e``)."""

    keep: jax.Array  # (n,) bool, 1_{S*}
    c3_labels: jax.Array  # (n,) int32, π_{S*}
    labels: jax.Array  # (n,) int32, the certified partition
    mu: jax.Array  # (cap, d) its means, centred and scaled
    prune: jax.Array  # E_prune(S*)
    c3: jax.Array  # E_fold(π_{S*}), from differences
    refined: jax.Array  # warm-start inertia (c3 where not run)
    default: jax.Array  # default fold's inertia at k+1
    inertia: jax.Array  # the certified inertia, ≤ prune bitwise
    route: jax.Array
    iterations: jax.Array
    converged: jax.Array


def pruning_labels(keep):
    """``π_S`` from ``1_S``: kept rows 0…k−1 in index order, pruned rows k (traced k)."""
    rank = jnp.cumsum(keep.astype(jnp.int32)) - 1
    return jnp.where(keep, rank, jnp.sum(keep, dtype=jnp.int32)).astype(jnp.int32)


class Prepared(NamedTuple):
    """``w`` on one power-of-two scale ``2^−e`` (``2^e ≥ max|w|`` and ``≥ max|w − m|``)."""

    ws: jax.Array  # (w − m)·2^−e: the folds (translation-invariant)
    wp: jax.Array  # w·2^−e: the pruning errors (not translation-invariant)
    shift: jax.Array  # m, the mean row
    e: jax.Array  # int32 exponent: errors scale back by 4^e


def prepare(w) -> Prepared:
    e = jnp.maximum(kmeans.normalise(w)[2], _scale.exponent(w))
    shift = jnp.mean(w, axis=0)
    return Prepared(kmeans.times_pow2(w - shift[None, :], -e), kmeans.times_pow2(w, -e),
                    shift, e)


def certify(p: Prepared, order, k, cap: int, opts, key, *, default=None,
            warm_ok=True) -> _Certified:
    """The certified fold at k+1 (unvalidated; traced ``k``, capacity ``cap``; scaled copy).

    ``order``: all rows ranked by the pruning score (:func:`projgeo.pruning._row_order`).
    ``default``: a precomputed default route ``(state, iterations, converged)`` at k+1 on
    ``p.ws``, or None to compute it here. ``warm_ok``: (traced) False skips the warm start
    (:func:`projgeo.rank_sweep` uses the default route alone where only the fold is wanted).
    """
    n = p.ws.shape[0]
    dtype = p.ws.dtype
    rank = jnp.zeros(n, jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32))
    keep = rank < k
    sq = jnp.sum(p.wp * p.wp, axis=1)
    prune = jnp.sum(jnp.where(keep, 0.0, sq))
    mu_p = jnp.sum(jnp.where(keep[:, None], 0.0, p.wp), axis=0) / (n - k).astype(dtype)
    c3_identity = prune - (n - k).astype(dtype) * jnp.sum(mu_p * mu_p)
    c3_labels = pruning_labels(keep)
    sq_w = jnp.sum(p.ws * p.ws, axis=1)
    start = kmeans.refine.make_state(p.ws, sq_w, c3_labels, cap, k + 1)

    if default is None:
        bar = jnp.where(warm_ok, prune, jnp.inf)
        st_d, it_d, done_d, st_w, it_w, done_w = _two_routes(p.ws, k + 1, cap, opts, key,
                                                             c3_labels, bar, start)
    else:
        st_d, it_d, done_d = default

        def warm(_):
            return kmeans.solve(p.ws, k + 1, cap, opts, init=c3_labels)

        def skip(_):
            return start, jnp.int32(0), jnp.bool_(True)

        st_w, it_w, done_w = jax.lax.cond(st_d.inertia > prune, warm, skip, None)
    use_d = (st_d.inertia <= prune) | (st_d.inertia <= st_w.inertia)
    best = jax.tree.map(lambda a, b: jnp.where(use_d, a, b), st_d, st_w)
    ok = best.inertia <= prune
    route = jnp.where(ok, jnp.where(use_d, 0, 1), 2).astype(jnp.int32)
    labels = jnp.where(ok, best.labels, c3_labels)
    mu = jnp.where(ok, best.mu, start.mu)
    inertia = jnp.where(ok, best.inertia, jnp.minimum(c3_identity, prune))
    return _Certified(keep, c3_labels, labels, mu, prune, start.inertia, st_w.inertia,
                      st_d.inertia, inertia, route, it_d + it_w,
                      jnp.where(use_d, done_d, done_w))


def _two_routes(ws, k1, cap, opts, key, c3_labels, prune, start):
    """Default fold at k1, then (only if it is above ``prune``) the warm start at ``π_{S*}``.

    One loop over the two routes around a single copy of the solver, so the program holds
    one Lloyd/Hartigan/split–merge, not two (compiling dominates on a CPU).
    """
    none = (start, jnp.int32(0), jnp.bool_(True))
    # Seeded once, outside the loop: under vmap the loop's branches both run, and the
    # Ward-like seeding holds an n×n matrix.
    seeded = kmeans.seed(ws, k1, cap, key)

    def cond(c):
        r, (st_d, _, _), _ = c
        return (r == 0) | ((r == 1) & (st_d.inertia > prune))

    def body(c):
        r, d, wm = c
        init = jnp.where(r == 0, seeded, c3_labels)
        out = kmeans.improve(ws, init, k1, cap, opts)
        d = jax.tree.map(lambda a, b: jnp.where(r == 0, a, b), out, d)
        wm = jax.tree.map(lambda a, b: jnp.where(r == 1, a, b), out, wm)
        return r + 1, d, wm

    _, d, wm = jax.lax.while_loop(cond, body, (jnp.int32(0), none, none))
    return (*d, *wm)


@functools.partial(jax.jit, static_argnames=("cap", "score"))
def _certified_kernel(w, k, opts, key, *, cap, score):
    p = prepare(w)
    c = certify(p, _row_order(w, score), k, cap, opts, key)
    up = functools.partial(kmeans.times_pow2, e=2 * p.e)
    res = KMeansResult(c.labels, kmeans.times_pow2(c.mu, p.e) + p.shift[None, :], up(c.inertia),
                       c.iterations, c.converged)
    keep = jnp.nonzero(c.keep, size=w.shape[0], fill_value=w.shape[0])[0].astype(jnp.int32)
    return res, keep, up(c.prune), up(c.c3), up(c.refined), c.route


def certified_fold(
    w: Float[Array, "n d"],
    k: int,
    *,
    key: jax.Array | None = None,
    score: str = "l2",
    max_iter: int = 300,
    refine_iter: int = 1000,
    split_merge_iter: int = 16,
) -> CertifiedFold:
    """Fold into ``k + 1`` clusters with error certified ≤ ``OPT_prune(k)`` (C4(ii)).

    The better of the default fold at k+1 and the fold warm-started at ``π_{S*}`` (run only
    when the default does not already beat ``OPT_prune(k)``); see the module docstring.
    One compiled program per capacity bucket of :func:`projgeo.fold` (``k`` and the caps
    are traced); ``w`` is validated once, here. Works under ``jax.jit`` and ``jax.vmap``
    (``k`` static there; under ``vmap`` both routes run for every matrix).

    Args:
      w: (n, d) floating weights, ``n ≥ 2``.
      k: pruning rank, ``1 ≤ k < n``; the fold has ``k + 1`` clusters.
      key: ``jax.random`` key of the default route's seeding (default ``key(0)``; only the
        bisecting seeding uses it, when ``d > SKETCH_DIM``).
      score: pruning score, ``"l2"`` (default, ``S*`` optimal) or ``"l1"``.
      max_iter, refine_iter, split_merge_iter: caps as in :func:`projgeo.fold`. The
        certificate holds for any caps, including ``max_iter = 1, refine_iter = 0``.

    Returns:
      A :class:`CertifiedFold`; ``route`` says which route won.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k`` or options; ``ValueError`` if ``k = n``
        (there is no rank k+1 fold; both errors are 0 there).
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    if k >= n:
        raise ValueError(K_EQUALS_N.format(k=k, n=n))
    _check_score(score)
    max_iter = _checks.check_count(max_iter, "max_iter")
    refine_iter = kmeans._check_count(refine_iter, "refine_iter")
    split_merge_iter = kmeans._check_count(split_merge_iter, "split_merge_iter")
    key = jax.random.key(0) if key is None else _checks.check_key(key)
    opts = kmeans.options(max_iter, refine_iter, split_merge_iter, 0.0, w.dtype)
    res, keep, prune, start, refined, route = _certified_kernel(
        w, np.int32(k), opts, key, cap=kmeans.capacity(n, k + 1), score=score)
    res = kmeans.trim(res, k + 1)
    if _checks.is_concrete(keep):
        keep = jax.device_put(np.asarray(keep)[:k])
    else:
        keep = keep[:k]
    return CertifiedFold(res, PruneProjector(keep, n), prune, start, refined, route,
                         route == 2)
