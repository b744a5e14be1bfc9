"""Random instances shared by the checkers: matrices of every family, keep-sets, partitions.

Compilation dominates the quick budget on a CPU, so every shape is drawn for all
families at once (one compiled sampler per shape) and checked in one vmapped batch.
"""

from __future__ import annotations

import functools
import threading
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import (
    FoldProjector,
    certified_fold,
    certified_fold_batch,
    exact,
    families,
    fold,
    fold_error,
)

#: (n, d, k) shapes of the quick budget; larger budgets add the ``EXTRA`` shapes.
SHAPES = ((6, 3, 2), (11, 5, 5))
EXTRA = ((16, 8, 3), (24, 12, 11), (48, 8, 20), (64, 16, 40))
NAMES = tuple(families.FAMILIES)


def shapes(scale: int):
    """Quick: SHAPES; standard (scale 4): two more; thorough (16): all of EXTRA."""
    return SHAPES + EXTRA[: min(len(EXTRA), scale // 2)]


def random_keep(key, n: int, k: int):
    """A uniformly random k-subset of range(n), sorted, int32."""
    return jnp.sort(jax.random.permutation(key, n)[:k]).astype(jnp.int32)


def random_partition(key, n: int, k: int):
    """Random labels in [0, k) with every cluster non-empty, int32."""
    k1, k2 = jax.random.split(key)
    base = jnp.concatenate([jnp.arange(k), jax.random.randint(k1, (n - k,), 0, k)])
    return jax.random.permutation(k2, base).astype(jnp.int32)


def _draw(key, batch: int, n: int, d: int, names=NAMES):
    keys = jax.random.split(key, len(names))
    return jnp.concatenate(
        [families.sample_batch(f, kk, batch, n, d) for f, kk in zip(names, keys, strict=True)]
    )


def batch_size(scale: int) -> int:
    """Matrices per family and shape: 7 in the quick budget (8·2·7 = 112 trials)."""
    return 7 * scale


def shape_batches(ctx, salt: int, shape_list=None, *, extra_steps: int = 0,
                  announce: bool = True):
    """Yield ``((n, d, k), W[F·batch, n, d], family_names, keys)`` for each shape, announcing
    each as a step of ``ctx.progress`` (``extra_steps`` more follow in the caller).

    The matrices depend on the seed only (shared by all claims); the per-trial ``keys``
    (for random keep-sets, partitions, the default fold's seeding) also depend on the
    claim's ``salt``.
    """
    shape_list = shapes(ctx.scale) if shape_list is None else shape_list
    for si, (n, d, k) in enumerate(shape_list):
        if announce:
            ctx.progress.begin(si + 1, len(shape_list) + extra_steps,
                               f"n={n} d={d} k={k}: {batch_size(ctx.scale)} matrices x "
                               f"{len(NAMES)} families")
        ws, names = fast_families(ctx.seed, batch_size(ctx.scale), n, d)
        yield (n, d, k), jnp.asarray(ws), names, jax.random.split(ctx.key(salt, si), ws.shape[0])


class _Once:
    """Values made once per key for the run, safely across threads: claims run side by side
    (``python -m proofs_check --jobs``), and a thread asking for a value another thread is
    making waits for it instead of making it again."""

    _UNSET = object()

    def __init__(self):
        self._slots: dict = {}
        self._guard = threading.Lock()

    def get(self, key, make):
        with self._guard:
            slot = self._slots.setdefault(key, [threading.Lock(), self._UNSET])
        with slot[0]:
            if slot[1] is self._UNSET:
                slot[1] = make()
        return slot[1]


def shared(fn):
    """Memoise ``fn`` per (hashable) arguments for the run, through :class:`_Once`."""
    once = _Once()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return once.get((args, tuple(sorted(kwargs.items()))), lambda: fn(*args, **kwargs))

    return wrapper


_EXECUTABLES = _Once()


def run_fast(jitted, *args, **static):
    """Call ``jitted(*args, **static)`` through an executable compiled with ``FAST_COMPILE``.

    Small checker batches run in milliseconds, so compile time is what counts; the
    executables are made once per function, static arguments and argument shapes/dtypes
    (:class:`_Once`: thread-safe).
    """
    sig = tuple((x.shape, str(x.dtype)) for x in jax.tree.leaves(args))
    key = (jitted, tuple(sorted(static.items())), sig)

    def make():
        return jitted.lower(*args, **static).compile(compiler_options=FAST_COMPILE)

    return _EXECUTABLES.get(key, make)(*args)


# ---------------------------------------------------------------------------
# Samplers and compiled executables of every checker; exact optima and certified folds
# shared by the C4 and C5 checkers.
#
# Compiling dominates a cold quick run on a CPU, so the samplers and the small batches are
# compiled without LLVM optimisation (FAST_COMPILE). Measured with jax 0.10.2 on the
# 2-core CPU (load 0.4): the (7·9, 11, 5) sampler compiles in 2.5 s with it and 5.4 s
# without; the fold kernel of an 11×5 layer in 2.0 s against 3.5 s. The matrices are
# drawn with JAX's default threefry generator, which gives the same bits on every
# backend, so one --seed gives the same instances on CPU, GPU and TPU (the "rbg"
# generator compiled no faster at O0: 2.7 s for the same sampler).

IMPL = "threefry2x32"
FAST_COMPILE = {"xla_backend_optimization_level": 0}
#: Exact part: ((N, D), sub-shapes). Every sub-shape (n, d) is the leading n×d block of
#: the same (N, D) draws, so one sampler serves them: n ≤ 6 also gets the brute-force
#: cross-check, d = 1 the dynamic programme.
EXACT_DRAWS = (((10, 4), ((10, 4), (6, 4), (10, 1))),)
EXACT_EXTRA = (((8, 16), ((8, 16), (5, 2), (8, 1))), ((9, 3), ((9, 3), (4, 3), (7, 1))))
#: (n, d, k, default): certified fold at k+1, and the default fold (default seeding) if
#: ``default``.
#: (10, 4) shares its matrices with the exact part, so both get OPT_fold(k+1).
FOLD_SHAPES = ((10, 4, 4, True),)
FOLD_EXTRA = ((48, 8, 23, True), (64, 16, 47, True), (24, 12, 5, True), (128, 32, 63, True),
              (256, 16, 191, False))
#: (n, d, k): large layers, certified fold only, LARGE_FAMILIES each.
LARGE_SHAPES = ((512, 64, 127),)
LARGE_EXTRA = ((2048, 32, 511), (1024, 128, 255))
LARGE_FAMILIES = ("heavy_tailed", "clustered")


def _more(base, extra, scale: int):
    return base + extra[: {1: 0, 4: 1}.get(scale, len(extra))]


def exact_draws(scale: int):
    """Quick: EXACT_DRAWS; standard adds one of EXACT_EXTRA; thorough all."""
    return _more(EXACT_DRAWS, EXACT_EXTRA, scale)


def fold_shapes(scale: int):
    """Quick: FOLD_SHAPES; standard adds one of FOLD_EXTRA; thorough all."""
    return _more(FOLD_SHAPES, FOLD_EXTRA, scale)


def large_shapes(scale: int):
    """Quick: 512-row layers; standard adds 2048-row layers; thorough all of LARGE_EXTRA."""
    return _more(LARGE_SHAPES, LARGE_EXTRA, scale)


def exact_batch_size(scale: int) -> int:
    """Matrices per family and draw for the exact and fold parts: 32 in quick."""
    return 32 * scale


class FoldJob(NamedTuple):
    """One compiled batch of certified (and default) folds: shape, k, batch, families."""

    n: int
    d: int
    k: int
    default: bool
    batch: int
    families: tuple[str, ...]
    large: bool


def fold_jobs(scale: int) -> list[FoldJob]:
    """The fold batches of a budget. Up to n = 10 the batch equals the exact part's (same
    matrices, so OPT_fold(k+1) is known); beyond, about 4096/n matrices per family; large
    layers: ``max(1, scale // 2)`` per family of LARGE_FAMILIES."""
    b = exact_batch_size(scale)
    jobs = [FoldJob(n, d, k, dflt, b if n <= exact.MAX_N else min(b, max(4, 4096 // n)),
                    NAMES, False) for n, d, k, dflt in fold_shapes(scale)]
    return jobs + [FoldJob(n, d, k, False, max(1, scale // 2), LARGE_FAMILIES, True)
                   for n, d, k in large_shapes(scale)]


@shared
def fast_families(seed: int, batch: int, n: int, d: int, names: tuple[str, ...] = NAMES):
    """``batch`` matrices of each family in ``names``: ((len(names)·batch, n, d), names).

    Drawn with the ``IMPL`` PRNG, compiled with ``FAST_COMPILE`` (see above); cached.
    """
    key = jax.random.fold_in(jax.random.key(seed, impl=IMPL), n * 10007 + d)
    draw = jax.jit(_draw, static_argnums=(1, 2, 3, 4))
    sampler = draw.lower(key, batch, n, d, names).compile(compiler_options=FAST_COMPILE)
    return np.asarray(sampler(key)), np.repeat(np.array(names), batch)


class ExactInstances(NamedTuple):
    """Matrices of every family with ``OPT_fold(k)`` and ``OPT_prune(k)`` for all k.

    ``fold[b, k − 1] = OPT_fold(k)`` with optimal ``labels[b, k − 1]``;
    ``prune[b, k − 1] = OPT_prune(k)``.
    """

    ws: np.ndarray
    names: np.ndarray
    fold: np.ndarray
    labels: np.ndarray
    prune: np.ndarray


@shared
def exact_instances(seed: int, batch: int, draw: tuple[int, int], n: int, d: int):
    """Exact optima of the leading (n, d) blocks of ``fast_families(seed, batch, *draw)``."""
    ws, names = fast_families(seed, batch, *draw)
    ws = np.ascontiguousarray(ws[:, :n, :d])
    path = exact.exact_fold_path(ws)
    return ExactInstances(ws, names, np.asarray(path.inertia), np.asarray(path.labels),
                          np.asarray(exact.exact_prune_path(ws)))


def _nonempty(labels, m: int):
    return jnp.sum(jnp.zeros(m, jnp.int32).at[labels].add(1) > 0)


def _prune_next(w, k: int):
    """``OPT_prune(k + 1)``: the ``n − k − 1`` smallest row energies."""
    return jnp.sum(jnp.sort(jnp.sum(w * w, axis=1))[: w.shape[0] - k - 1])


#: Up to this many rows the certified folds of a batch run as one
#: :func:`projgeo.certified_fold_batch` (fixed trip counts: a batch costs its size times one
#: matrix); the large layers (a few matrices each) keep :func:`projgeo.certified_fold`.
BATCH_MAX_N = 256


def batch_steps(n: int) -> int:
    """Lloyd/Hartigan iterations of the batched certified fold: enough for Lloyd to settle
    and about two single-row Hartigan moves per row."""
    return 2 * n + 16


def _certified(ws, k: int):
    """Certified folds at k+1 of a (B, n, d) batch (C4(ii)) and their recomputed errors."""
    n = ws.shape[1]
    if n <= BATCH_MAX_N:
        c = certified_fold_batch(ws, k, steps=batch_steps(n))
    else:
        c = jax.vmap(lambda w: certified_fold(w, k))(ws)
    recomputed = jax.vmap(lambda w, lab: fold_error(w, FoldProjector(lab, k + 1)))(
        ws, c.result.labels)
    return c, recomputed


@functools.partial(jax.jit, static_argnames=("k", "default"))
def _folds(ws, keys, *, k: int, default: bool):
    c, recomputed = _certified(ws, k)
    out = {"certified": c.result.inertia, "start": c.start_error, "prune": c.prune_error,
           "refined": c.refined_error, "fell_back": c.fell_back,
           "certified_clusters": jax.vmap(lambda lab: _nonempty(lab, k + 1))(c.result.labels),
           "certified_recomputed": recomputed,
           "prune_next": jax.vmap(lambda w: _prune_next(w, k))(ws),
           "w_sq": jnp.sum(ws * ws, axis=(1, 2)),
           "certified_labels": c.result.labels, "certified_converged": c.result.converged}
    if default:
        r = jax.vmap(lambda w, key: fold(w, k + 1, key=key))(ws, keys)
        out |= {"default": r.inertia,
                "default_clusters": jax.vmap(lambda lab: _nonempty(lab, k + 1))(r.labels)}
    return out


@shared
def fold_instances(seed: int, batch: int, n: int, d: int, k: int, default: bool,
                   names: tuple[str, ...] = NAMES):
    """Certified (and default) folds at k+1 of ``fast_families`` matrices.

    Cached per arguments.

    Up to ``BATCH_MAX_N`` rows the certified folds are :func:`projgeo.certified_fold_batch`
    with ``batch_steps(n)`` iterations; larger layers use :func:`projgeo.certified_fold`.

    Returns ``(ws, names, results)``, ``results`` a dict of (B,) numpy arrays:
    ``certified`` (its inertia), ``start`` (``E_fold(π_{S*})``), ``prune``
    (``OPT_prune(k)``), ``prune_next`` (``OPT_prune(k+1)``), ``refined`` (before the
    guard), ``fell_back``, ``certified_clusters``, ``certified_recomputed``, ``w_sq``, and
    with ``default`` also ``default`` and ``default_clusters``.
    """
    ws, fam = fast_families(seed, batch, n, d, names)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(seed, impl=IMPL), 7 * n + k),
                            len(ws))
    folds = _folds.lower(ws, keys, k=k, default=default)
    # Small layers run in milliseconds, so compile them fast; large ones need the optimiser.
    folds = folds.compile(compiler_options=FAST_COMPILE if n <= exact.MAX_N else {})
    return ws, fam, jax.tree.map(np.asarray, folds(ws, keys))
