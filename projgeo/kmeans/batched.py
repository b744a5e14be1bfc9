"""Certified folds of many small matrices at once, in lock step (C4(ii)).

:func:`projgeo.certified_fold` is built for one matrix: its phases are ``while_loop`` s
that stop when nothing moves. Under ``jax.vmap`` a batched ``while_loop`` runs until the
slowest instance stops, and every step costs the whole batch. :func:`certified_fold_batch`
is written for the batch instead: the batch runs in chunks of ``CHUNK`` matrices, each
matrix does at most ``steps`` iterations, a mask where an instance has nothing left to do;
a chunk stops after ``steps`` iterations or as soon as none of its matrices has anything
left to do (a masked iteration is a no-op, so the results are bitwise those of ``steps``
iterations for every matrix). A batch costs its size times one instance at most.

Each matrix starts from ``π_{S*}``, the pruning partition of magnitude pruning at ``k``
(kept rows alone, the ``n − k`` pruned rows in one cluster; C3), and each iteration is

* a **Lloyd step** (every row to its nearest mean, means recomputed), or (unless
  ``hartigan=False``), once Lloyd has reached a fixed point, one **Hartigan move**: the row
  and target ``b`` with the most negative
  ``Δ = n_b/(n_b+1)·||x−μ_b||² − n_a/(n_a−1)·||x−μ_a||²`` over all rows (the exact change of
  the inertia when ``x`` moves from ``a`` to ``b``);
* **accepted** only if its inertia (``Σ||w_i||² − Σ_j n_j·||μ_j||²``, from the step's own
  means) is not larger than the accepted one and all ``k + 1`` clusters stay non-empty; an
  instance whose step is refused stops there (its remaining iterations are masked no-ops).
  Iteration ``t`` evaluates the proposal of iteration ``t − 1`` with the two products of a
  plain Lloyd step; the last proposal is evaluated by the guard's inertia from differences
  and taken if it leaves no cluster empty (a Lloyd step or a move with ``Δ < 0`` does not
  raise the inertia in exact arithmetic; the guard bounds the rounding), so ``steps``
  iterations cost ``steps`` Lloyd steps.

After the loop one **guard**, bitwise as computed, keeps the certificate of C4(ii)
``E_fold ≤ E_fold(π_{S*}) ≤ OPT_prune(k)``: the final inertia is recomputed from
differences ``w_i − μ_{l_i}``; the refined partition is kept if that is ≤ both
``E_fold(π_{S*})`` (from differences) and ``OPT_prune(k)``; else ``π_{S*}`` if its inertia
is ≤ ``OPT_prune(k)``; else (a last-bit tie) ``π_{S*}`` with the C3 identity
``fl(E_prune − (n−k)·||μ||²) ≤ E_prune``. Hence ``result.inertia ≤ prune_error`` for every
instance, for any ``steps`` (``steps = 0`` returns ``π_{S*}``).

As in :func:`projgeo.certified_fold`, everything runs on the exact copy ``w·2^−e`` (the folds
on the centred copy), so squares neither under- nor overflow; errors scale back by ``4^e``.

Reference: arXiv 2602.18116, Thm. 1 and its proof; Lloyd (1982); Hartigan & Wong (1979);
THEORY.md C3, C4.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from projgeo import _checks, _scale
from projgeo.kmeans import lloyd as kmeans
from projgeo.kmeans.certified import K_EQUALS_N, CertifiedFold, Prepared, pruning_labels
from projgeo.kmeans.lloyd import KMeansResult
from projgeo.projectors import PruneProjector
from projgeo.pruning import _check_score, _row_order

BATCH_FORM = "a 3-D floating-point array of shape (b, n, d) with b, n, d ≥ 1"

#: Default number of Lloyd/Hartigan iterations per matrix.
STEPS = 16


def _pow2(x, e):
    """``x·2^e`` in two exact factors (``|e|`` up to 2·1074 would need four: the errors)."""
    h = e // 2
    one = jnp.ones((), x.dtype)
    return x * jnp.ldexp(one, h) * jnp.ldexp(one, e - h)


def _start(w):
    """Per matrix: scaled copies, the row order, ``π_{S*}``, ``OPT_prune(k)``, C3 identity."""
    shift = jnp.mean(w, axis=0)
    e = jnp.maximum(_scale.exponent(w - shift[None, :]), _scale.exponent(w))
    p = Prepared(_pow2(w - shift[None, :], -e), _pow2(w, -e), shift, e)
    sq = jnp.sum(p.wp * p.wp, axis=1)
    return p, sq


def _prune_terms(p, sq, keep, k: int):
    n, dtype = p.wp.shape[0], p.wp.dtype
    prune = jnp.sum(jnp.where(keep, 0.0, sq))
    mu_p = jnp.sum(jnp.where(keep[:, None], 0.0, p.wp), axis=0) / dtype.type(n - k)
    c3_identity = prune - dtype.type(n - k) * jnp.sum(mu_p * mu_p)
    labels = pruning_labels(keep)
    # The kept rows in index order: row i is the j-th kept one iff labels[i] = j < k.
    hit = labels[None, :] == jnp.arange(k, dtype=labels.dtype)[:, None]
    kept = jnp.sum(jnp.where(hit, jnp.arange(n, dtype=jnp.int32)[None, :], 0), axis=1)
    return kept.astype(jnp.int32), prune, c3_identity, labels


def _top_k(score, k: int):
    """(n,) bool: the k largest of ``score``, ties to the lower index, by counting: row i's
    rank is the number of rows that beat it (n² comparisons; a batched sort of a few
    dozen keys is far slower on XLA:CPU)."""
    n = score.shape[0]
    idx = jnp.arange(n)
    beats = (score[None, :] > score[:, None]) | ((score[None, :] == score[:, None])
                                                  & (idx[None, :] < idx[:, None]))
    return jnp.sum(beats, axis=1) < k


def _keep(w, p, sq, score: str, k: int):
    """(b, n) bool ``1_{S*}``: exactly ``magnitude_prune``'s k rows (ties to the lower index).

    On the scaled copy ``w·2^−e`` the squared norms are ``4^−e`` times those of ``w``, rounding
    included, unless a square is subnormal; then (and for ``score="l1"``) the batch ranks by
    :func:`projgeo.pruning._row_order`, which scales every row by its own power of two.
    """
    n = w.shape[1]
    tiny = jnp.finfo(p.wp.dtype).tiny

    def fast(_):
        return jax.vmap(lambda s: _top_k(s, k))(sq)

    def exact(_):
        order = jax.vmap(lambda x: _row_order(x, score))(w)
        first = order[:, None, :k] == jnp.arange(n, dtype=order.dtype)[None, :, None]
        return jnp.any(first, axis=2)

    if score != "l2":
        return exact(None)
    a = jnp.abs(p.wp)
    safe = jnp.all((a == 0) | (a * a >= tiny))
    return jax.lax.cond(safe, fast, exact, None)


#: The steps' products run on ``k + 1`` clusters padded to a multiple of this (empty columns
#: that no row can join): 13 → 16 columns ran 15–30 % faster per Lloyd step on XLA:CPU
#: (32×16 matrices, float64, chunks of 500–2000, 2 shared cores).
COLUMNS = 8


def _padded(m: int) -> int:
    return -(-m // COLUMNS) * COLUMNS


def _one_hot(labels, m: int, dtype):
    return (labels[:, None] == jnp.arange(m, dtype=labels.dtype)[None, :]).astype(dtype)


def _refine_one(w, labels0, m: int, steps, hartigan: bool, early_exit: bool = True):
    """``steps`` accepted-or-masked Lloyd/Hartigan iterations on one scaled copy ``w``.

    Written per matrix and vmapped: a ``while_loop`` on ``t < steps`` and "live", which
    under vmap runs while any matrix of the chunk is live (``early_exit=False``: a
    ``fori_loop`` over all ``steps``), so the batch runs in lock step. Iteration ``t`` evaluates
    the current labels (their means and the scores ``||μ_j||² − 2 w_i·μ_j``: the two
    products of :func:`projgeo.kmeans.lloyd_step`, nothing more per element), accepts them or
    stops, and proposes the next labels. The last proposal is left to :func:`_chunk`, which
    evaluates it from differences (the guard's product), so ``steps`` iterations cost
    ``steps`` Lloyd steps. Returns the accepted labels (n,), the last proposal (n,), whether
    it is still live, the number of accepted proposals and whether the iterations ended at a
    Lloyd fixed point with no improving single-row move.
    """
    sq_w = jnp.sum(w * w, axis=1)
    cols = _padded(m)
    valid = jnp.arange(cols) < m

    def body(_, c):
        acc, e_acc, cur, live, it, conv = c
        hit = cur[:, None] == jnp.arange(cols, dtype=cur.dtype)[None, :]
        a = hit.astype(w.dtype)
        sizes = jnp.sum(a, axis=0)
        # The barrier keeps the means out of the product's operand (see lloyd_step).
        mu = jax.lax.optimization_barrier((a.T @ w) / jnp.maximum(sizes, 1.0)[:, None])
        norms = jnp.sum(mu * mu, axis=1)
        # Padding columns (always empty) score +inf: no row ever moves there.
        scores = jnp.where(valid, norms, jnp.inf)[None, :] - 2.0 * (w @ mu.T)
        # E(cur) − Σ_i ||w_i||² = −Σ_j n_j·||μ_j||²: the inertia up to a constant of the
        # matrix, from the (m,) norms (a rounded acceptance test; the guard certifies).
        e = -jnp.sum(sizes * norms)
        ok = live & (e <= e_acc) & jnp.all((sizes > 0) | ~valid)
        acc = jnp.where(ok, cur, acc)
        e_acc = jnp.where(ok, e, e_acc)
        it = it + ok.astype(jnp.int32)
        lloyd = jnp.argmin(scores, axis=1).astype(cur.dtype)
        fixed = jnp.all(lloyd == cur)
        if not hartigan:
            live = ok & ~fixed
            return acc, e_acc, jnp.where(live, lloyd, acc), live, it, jnp.where(ok, fixed, conv)
        # Hartigan: moving x from a to b changes E by n_b/(n_b+1)·d_b − n_a/(n_a−1)·d_a,
        # d_j = ||x − μ_j||² = ||x||² + scores_j (clipped at 0).
        own = jnp.sum(jnp.where(hit, scores, 0.0), axis=1)
        d_own = jnp.maximum(sq_w + own, 0.0)
        n_own = jnp.sum(jnp.where(hit, sizes[None, :], 0.0), axis=1)
        lose = jnp.where(n_own > 1.0, n_own / jnp.maximum(n_own - 1.0, 1.0) * d_own, -jnp.inf)
        gain = (sizes / (sizes + 1.0))[None, :] * jnp.maximum(sq_w[:, None] + scores, 0.0)
        delta = jnp.where(hit | ~valid[None, :], jnp.inf, gain - lose[:, None])
        # The first (row, column) of the smallest Δ in row-major order, in two small
        # reductions (one flat argmin over n·m entries is several times slower on XLA:CPU).
        to = jnp.argmin(delta, axis=1).astype(cur.dtype)
        best = jnp.min(delta, axis=1)
        row = jnp.argmin(best)
        at_row = jnp.arange(w.shape[0]) == row
        col = jnp.sum(jnp.where(at_row, to, 0)).astype(cur.dtype)
        moved = jnp.where(at_row, col, cur)
        done = fixed & ~(jnp.min(best) < 0.0)
        nxt = jnp.where(fixed, moved, lloyd)
        live = ok & ~done
        return acc, e_acc, jnp.where(live, nxt, acc), live, it, jnp.where(ok, done, conv)

    init = (labels0, jnp.asarray(jnp.inf, w.dtype), labels0, jnp.bool_(True), jnp.int32(-1),
            jnp.bool_(False))
    if early_exit:
        # Under vmap a while_loop runs while any matrix of the chunk is live and masks the
        # others; a matrix that is not live is a fixed point of ``body``, so the result is
        # bitwise that of ``steps`` iterations.
        _, (acc, _, cur, live, it, conv) = jax.lax.while_loop(
            lambda c: (c[0] < steps) & c[1][3], lambda c: (c[0] + 1, body(None, c[1])),
            (jnp.zeros((), jnp.asarray(steps).dtype), init))
    else:
        acc, _, cur, live, it, conv = jax.lax.fori_loop(0, steps, body, init)
    return acc, cur, live, it, conv


def _refine(ws, labels0, m: int, steps, hartigan: bool, early_exit: bool = True):
    return jax.vmap(lambda w, lab: _refine_one(w, lab, m, steps, hartigan, early_exit))(
        ws, labels0)


def _cost_one(w, labels, m: int):
    a = _one_hot(labels, m, w.dtype)
    mu = (a.T @ w) / jnp.maximum(jnp.sum(a, axis=0), 1.0)[:, None]
    r = w - a @ mu
    return jnp.sum(r * r), mu


def _start_cost(w, kept, labels, k: int):
    """``E_fold(π_{S*})`` from differences and its (k+1, d) means, without a product: the
    kept rows are their own means (cost exactly 0), the pruned rows share one mean."""
    n = w.shape[0]
    pruned = (labels == k)[:, None]
    mu_p = jnp.sum(jnp.where(pruned, w, 0.0), axis=0) / w.dtype.type(n - k)
    r = jnp.where(pruned, w - mu_p[None, :], 0.0)
    return jnp.sum(r * r), jnp.concatenate([w[kept], mu_p[None, :]])


def _cost(ws, labels, m: int):
    """(b,) ``E_fold`` from differences, and the (b, m, d) means."""
    return jax.vmap(lambda w, lab: _cost_one(w, lab, m))(ws, labels)


def _chunk(w, steps, k: int, score: str, hartigan: bool, early_exit: bool = True):
    """The whole certified fold of one chunk of the batch (unscaled outputs as in the API)."""
    m = k + 1
    p, sq = jax.vmap(_start)(w)
    keep = _keep(w, p, sq, score, k)
    kept, prune, c3_identity, c3_labels = jax.vmap(
        lambda p1, s1, k1: _prune_terms(p1, s1, k1, k))(p, sq, keep)
    start, mu_start = jax.vmap(lambda x, kp, lab: _start_cost(x, kp, lab, k))(p.ws, kept,
                                                                               c3_labels)
    acc, cur, live, it, done = _refine(p.ws, c3_labels, m, steps, hartigan, early_exit)
    # The last proposal (a Lloyd step or a Hartigan move from the accepted labels, neither of
    # which raises the inertia in exact arithmetic) is taken if it leaves no cluster empty;
    # its inertia is computed from differences below, and the guard bounds it bitwise.
    full = jnp.all(jnp.any(cur[:, :, None] == jnp.arange(m, dtype=cur.dtype)[None, None, :],
                           axis=1), axis=1)
    take = live & full
    labels = jnp.where(take[:, None], cur, acc)
    it = jnp.maximum(it + take.astype(jnp.int32), 0)
    refined, mu = _cost(p.ws, labels, m)
    use = (refined <= start) & (refined <= prune)
    start_ok = start <= prune
    route = jnp.where(use, 1, 2).astype(jnp.int32)
    labels = jnp.where(use[:, None], labels, c3_labels)
    mu = jnp.where(use[:, None, None], mu, mu_start)
    inertia = jnp.where(use, refined,
                        jnp.where(start_ok, start, jnp.minimum(c3_identity, prune)))

    def up(x, power):
        return jax.vmap(lambda v, e: kmeans.times_pow2(v, power * e))(x, p.e)

    centroids = up(mu, 1) + p.shift[:, None, :]
    res = KMeansResult(labels, centroids, up(inertia, 2), jnp.where(use, it, 0), use & done)
    return res, kept, up(prune, 2), up(start, 2), up(refined, 2), route


#: Matrices per chunk: the batch runs as ``lax.map`` over chunks of this many, so that the
#: (chunk, n, k+1) arrays of a step stay in cache. Measured on 20,000 matrices 32×16,
#: k = 12, 10 Lloyd steps, 2 shared CPU cores (load ≈ 5.7), time of the naive vmapped Lloyd
#: ÷ this path's (every chunk running all steps), best of 5, same run: chunks of 250: 1.59,
#: 500: 1.67, 1000: 1.30, 2000: 1.15 (with Hartigan moves: 0.90, 0.99, 1.02). The ratio swings
#: by ±30 % between runs with the load of other processes.
CHUNK = 500


@functools.partial(jax.jit, static_argnames=("k", "score", "hartigan", "chunk", "early_exit"))
def _batch_kernel(w, steps, *, k: int, score: str, hartigan: bool = True, chunk: int = CHUNK,
                  early_exit: bool = True):
    """``early_exit=False`` runs every chunk for all ``steps`` iterations (same results)."""
    b = w.shape[0]
    groups = -(-b // min(b, chunk))
    c = -(-b // groups)  # equal chunks of at most ``chunk``: fewer than ``groups`` pad rows
    pad = groups * c - b
    if pad:
        w = jnp.concatenate([w, jnp.broadcast_to(w[:1], (pad, *w.shape[1:]))])
    out = jax.lax.map(lambda x: _chunk(x, steps, k, score, hartigan, early_exit),
                      w.reshape(groups, c, *w.shape[1:]))
    return jax.tree.map(lambda x: x.reshape(groups * c, *x.shape[2:])[:b], out)


def certified_fold_batch(
    ws: Float[Array, "b n d"],
    k: int,
    *,
    steps: int = STEPS,
    hartigan: bool = True,
    score: str = "l2",
) -> CertifiedFold:
    """Certified folds at ``k + 1`` of a batch of matrices, in lock step (C4(ii)).

    For every matrix ``w_b``: ``S*`` = magnitude pruning at rank ``k``, then ``steps``
    Lloyd/Hartigan iterations from ``π_{S*}`` with monotone acceptance, then the guard of
    the module docstring. Bitwise as computed, ``result.inertia[b] ≤ prune_error[b] =
    OPT_prune(k)`` for every ``b``: the fold at rank ``k + 1`` is never worse than pruning at
    rank ``k`` (THEORY.md C4(ii)); ``result.inertia`` is ``E_fold(result.labels)`` from
    differences. Weaker per instance than :func:`projgeo.certified_fold` (no default route,
    no split–merge; Hartigan one move per iteration), but the batch runs in lock step (a
    chunk of matrices stops when all of them are done or after ``steps`` iterations): one
    compiled program per ``(b, n, d, dtype, k, score)``; ``steps`` is traced.

    Args:
      ws: (b, n, d) floating weights, ``n ≥ 2``, finite.
      k: pruning rank, ``1 ≤ k < n``; the folds have ``k + 1`` clusters.
      steps: Lloyd/Hartigan iterations per matrix, ``≥ 0`` (0 returns ``π_{S*}``).
      hartigan: after Lloyd's fixed point, one best single-row move per iteration (default);
        False: plain Lloyd steps only (about 25 % cheaper per iteration, higher inertia).
      score: pruning score, ``"l2"`` (default) or ``"l1"``.

    Returns:
      A :class:`projgeo.CertifiedFold` whose fields carry a leading batch axis ``b``:
      ``result.labels`` (b, n), ``result.centroids`` (b, k+1, d), ``prune.keep`` (b, k)
      and (b,) errors; ``route`` is 1 (refined) or 2 (``π_{S*}`` kept); ``result.converged``
      says the refined partition is a Lloyd fixed point with no improving single-row move
      (with ``hartigan=False``: a Lloyd fixed point);
      ``result.iterations`` counts accepted iterations.

    Raises:
      TypeError: if ``ws`` is not floating point, or ``k``/``steps`` are not integers.
      ValueError: if ``ws`` is not (b, n, d), is empty or not finite; if ``k`` is not in
        ``[1, n)``; if ``steps < 0``; on an unknown ``score``.
    """
    dtype = _checks._dtype_of(ws, "ws")
    if not _checks.is_float(dtype):
        raise TypeError(f"ws must be {BATCH_FORM}; got dtype {dtype}.")
    ws = _checks.as_float_array(ws, "ws")
    if ws.ndim != 3 or 0 in ws.shape:
        raise ValueError(f"ws must be {BATCH_FORM}; got shape {tuple(ws.shape)}.")
    if _checks.is_concrete(ws) and not _checks.all_finite(ws):
        raise ValueError("ws must be finite; it contains NaN or Inf.")
    n = ws.shape[1]
    k = _checks.check_k(k, n)
    if k >= n:
        raise ValueError(K_EQUALS_N.format(k=k, n=n))
    steps = _checks.check_count(steps, "steps", minimum=0)
    if not isinstance(hartigan, bool):
        raise TypeError(f"hartigan must be a bool; got {hartigan!r}.")
    _check_score(score)
    res, kept, prune, start, refined, route = _batch_kernel(ws, np.int32(steps), k=k,
                                                            score=score, hartigan=hartigan)
    return CertifiedFold(res, PruneProjector(kept, n), prune, start, refined, route,
                         route == 2)
