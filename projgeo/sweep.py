"""The error-versus-rank curve, certified at every k: :func:`rank_sweep` (C3, C4, C5).

For every rank k of a layer ``W`` (n rows): magnitude pruning at k, the C3 fold ``π_{S*}``
and the certified fold at k+1 (:func:`projgeo.certified_fold`), and the default fold at k
(:func:`projgeo.fold`): the curves of the paper's figures, with
``certified_error ≤ prune_error`` bitwise at every k.

One compiled program per capacity bucket (the rule of :func:`projgeo.fold`), holding one
copy of the solver: it scans over chunks of :data:`CHUNK` cluster counts ``j``, running the
default fold at j and, where rank ``k = j−1`` is wanted, the certified fold's warm start
(only if the default is above ``OPT_prune(k)``). An all-k sweep of one ``(n, d, dtype)``
compiles at most ``⌈log₂ n⌉ + 1`` programs. Work is shared along k: the default fold at
k+1 is both the fold of rank k+1 and the first route of the certified fold at k.

Reference: arXiv 2602.18116, Fig. 2–3; THEORY.md C3–C5.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from projgeo import _checks
from projgeo.exact import lower_bounds
from projgeo.kmeans import lloyd as kmeans
from projgeo.kmeans.certified import certify, prepare
from projgeo.pruning import _check_score, _row_order

#: Ranks per scanned chunk (a bucket's last chunk is padded, padding skipped by lax.cond).
CHUNK = 8


class RankSweep(NamedTuple):
    """Errors against rank (each (m,) in the order of ``k``; relative if asked).

    Attributes:
      k: (m,) int32 ranks.
      prune_error: ``OPT_prune(k)``, magnitude pruning at k.
      c3_error: ``E_fold(π_{S*})`` at k+1 (C3).
      certified_error: the certified fold at k+1, ``≤ prune_error`` bitwise (C4(ii)).
      fold_error: the default fold at k (compare with ``prune_error``: C5).
      lower_bound: a certified lower bound on ``OPT_fold(k)``, the spectral bound of
        :func:`projgeo.fold_lower_bound` (one SVD for every k), so that
        ``lower_bound ≤ OPT_fold(k) ≤ fold_error`` brackets the optimum.
    """

    k: Int[np.ndarray, " m"]
    prune_error: Float[np.ndarray, " m"]
    c3_error: Float[np.ndarray, " m"]
    certified_error: Float[np.ndarray, " m"]
    fold_error: Float[np.ndarray, " m"]
    lower_bound: Float[np.ndarray, " m"]

    @property
    def fold_gap(self) -> Float[np.ndarray, " m"]:
        """Certified relative optimality gap of the default fold, ``(fold − LB)/LB``.

        0 where both are 0; ``inf`` where only the bound is 0.
        """
        fold, lb = np.asarray(self.fold_error), np.asarray(self.lower_bound)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (fold - lb) / lb
        return np.where(lb > 0, gap, np.where(fold > 0, np.inf, 0.0))


@functools.partial(jax.jit, static_argnames=("cap", "score"))
def _sweep_chunk(w, js, certify_k, valid, opts, key, *, cap, score):
    """Scan over CHUNK cluster counts j of one capacity: the default fold at j and, where
    ``certify_k``, the certified fold of rank k = j−1 (one solver in the program); the
    padding of a last chunk (``~valid``) is skipped."""
    p = prepare(w)
    order = _row_order(w, score)
    zero = jnp.zeros((), w.dtype)

    def step(_, x):
        j, cert, ok = x

        def run(_):
            c = certify(p, order, j - 1, cap, opts, key, warm_ok=cert)
            return c.default, c.prune, c.c3, c.inertia

        return None, jax.lax.cond(ok, run, lambda _: (zero, zero, zero, zero), None)

    _, out = jax.lax.scan(step, None, (js, certify_k, valid))
    return out, jnp.sum(p.wp * p.wp), p.e


def rank_sweep(
    w: Float[Array, "n d"],
    ks=None,
    *,
    key: jax.Array,
    score: str = "l2",
    relative: bool = False,
    max_iter: int = 300,
    refine_iter: int = 1000,
    split_merge_iter: int = 16,
) -> RankSweep:
    """Prune, C3, certified and default-fold errors at every rank in ``ks`` (C3–C5).

    Args:
      w: (n, d) floating weights, ``n ≥ 2``.
      ks: ranks, integers in ``[1, n−1]`` (any order, repeats allowed); default all
        ``1…n−1``.
      key: ``jax.random`` key of the default folds' seeding (the same for every k).
      score: pruning score, ``"l2"`` or ``"l1"``.
      relative: divide every error (and the bound) by ``||W||_F²`` (computed on a rescaled
        copy, so finite for any finite ``w``, where the absolute errors may overflow).
      max_iter, refine_iter, split_merge_iter: caps of every fold, as in :func:`projgeo.fold`.

    Returns:
      A :class:`RankSweep` of numpy arrays.

    Raises:
      TypeError, ValueError: on bad ``w``, ``ks`` or options.
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    if n < 2:
        raise ValueError(f"rank_sweep needs n ≥ 2 rows (ranks 1…n−1); got shape {w.shape}.")
    _check_score(score)
    key = _checks.check_key(key)
    if ks is None:
        ks = list(range(1, n))
    ks = np.asarray([_checks.check_k(k, n - 1, "ks") for k in np.atleast_1d(
        np.asarray(ks, dtype=object)).tolist()], np.int64)
    if ks.size == 0:
        raise ValueError("ks must hold at least one rank in [1, n−1]; got none.")
    max_iter = _checks.check_count(max_iter, "max_iter")
    refine_iter = kmeans._check_count(refine_iter, "refine_iter")
    split_merge_iter = kmeans._check_count(split_merge_iter, "split_merge_iter")
    opts = kmeans.options(max_iter, refine_iter, split_merge_iter, 0.0, w.dtype)
    want = set(np.unique(ks).tolist())
    jobs = np.array(sorted(want | {k + 1 for k in want}))  # folds at k and at k+1
    fold_at, cert_at = {}, {}
    total: Any = None  # the squared norm and exponent of _sweep_chunk (set: ks is non-empty)
    e: Any = None
    caps = np.array([kmeans.capacity(n, int(j)) for j in jobs])
    for cap in np.unique(caps):
        mine = jobs[caps == cap]
        for start in range(0, mine.size, CHUNK):  # fixed-length chunks: one program per cap
            part = mine[start:start + CHUNK]
            js = np.full(CHUNK, part[-1], np.int32)
            js[: part.size] = part
            valid = np.arange(CHUNK) < part.size
            cert = np.isin(js, [k + 1 for k in want]) & valid
            out, total, e = _sweep_chunk(w, js, cert, valid, opts, key, cap=int(cap),
                                         score=score)
            out = np.asarray(jax.device_get(out))
            for i, j in enumerate(part.tolist()):
                fold_at[j] = out[0, i]
                if cert[i]:
                    cert_at[j - 1] = out[1:, i]
    table = np.stack([np.append(cert_at[k], fold_at[k]) for k in ks.tolist()])  # ×4^-e
    if relative:
        table = table / float(np.maximum(np.asarray(total), np.finfo(table.dtype).tiny))
    else:
        table = np.ldexp(table, 2 * int(e))  # exact; on the host: no program per shape
    path, unit, w_sq = (np.asarray(x) for x in lower_bounds._spectral_path(w))
    path = path / max(float(w_sq), np.finfo(path.dtype).tiny) if relative else path * unit
    return RankSweep(ks.astype(np.int32), table[:, 0], table[:, 1], table[:, 2], table[:, 3],
                     path[ks - 1])
