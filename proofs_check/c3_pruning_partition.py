"""C3 checker: the pruning-induced partition and its exact identity.

For ``|S| = k < n`` and ``π_S = {{i} : i ∈ S} ∪ {S^c}``:
``E_fold(π_S) = E_prune(S) − (n−k)·||μ||²`` (μ the mean of the pruned rows), hence
``E_fold(π_S) ≤ E_prune(S)`` with equality iff the pruned rows sum to zero.

Checked three ways:

* float64 on random matrices of every family, for magnitude pruning ``S*`` and a random
  ``S``, and on the same matrices with the pruned rows re-centred (so that they sum to
  zero and equality must hold);
* equality ⇔ zero sum, in both directions, on generic and centred instances;
* exactly, in rational arithmetic (``fractions.Fraction``), on integer matrices, and the
  library's float64 values against the exact ones.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import (
    PruneProjector,
    c3_gain,
    fold_error,
    magnitude_prune,
    prune_error,
    pruning_partition,
)
from projgeo.exact.reference import rational_c3_terms
from projgeo.tolerance import tolerance
from proofs_check import _instances, _selfcheck
from proofs_check.frame import Claim, Context, Tally, work_dtype

CLAIM = Claim(
    "C3",
    "Pruning-induced partition",
    "pi_S = every kept row alone plus one cluster of the n - k pruned rows: E_fold(pi_S) = "
    "E_prune(S) - (n - k) ||mu||^2, mu the mean of the pruned rows; equality iff they sum to "
    "zero",
)
#: Integer matrices for the exact check: (n, d, k), entries in [−ENTRY, ENTRY].
EXACT_SHAPE = (7, 3, 3)
ENTRY = 4


def _terms(w, p):
    return {"fold": fold_error(w, pruning_partition(p)), "prune": prune_error(w, p),
            "gain": c3_gain(w, p), "w_sq": jnp.sum(w * w)}


def _centre_pruned(w, p):
    mask = p.mask()[:, None]
    mu = jnp.sum(jnp.where(mask, 0.0, w), axis=0) / (p.n - p.rank)
    return jnp.where(mask, w, w - mu[None, :])


@functools.partial(jax.jit, static_argnames="k")
def _batch(ws, keys, k):
    def one(w, key):
        n = w.shape[0]
        star = magnitude_prune(w, k)
        rand = PruneProjector(_instances.random_keep(key, n, k), n)
        return {"star": _terms(w, star), "random": _terms(w, rand),
                "centred": _terms(_centre_pruned(w, rand), rand)}

    return jax.vmap(one)(ws, keys)


def _check_float(ctx, tally):
    for (n, d, k), ws, fam, keys in _instances.shape_batches(ctx, 3, extra_steps=1):
        q = jax.tree.map(np.asarray, _instances.run_fast(_batch, ws, keys, k=k))
        b = tally.batch(ws.shape[0], f"n={n} d={d} k={k}")
        for name, x in q.items():
            kw = dict(dtype=ws.dtype, scale=x["w_sq"], terms=n * d, family=fam)
            b.equal(f"{name}: E_fold(pi_S) = E_prune(S) - (n-k)||mu||^2", x["fold"],
                    x["prune"] - x["gain"], **kw)
            b.leq(f"{name}: E_fold(pi_S) <= E_prune(S)", x["fold"], x["prune"], **kw)
            # Equality ⇔ zero sum: the gap and the gain vanish together (up to tolerance).
            tol = tolerance(ws.dtype, scale=x["w_sq"], terms=n * d)
            b.true(f"{name}: equality iff pruned rows sum to zero",
                   (x["prune"] - x["fold"] <= tol) == (x["gain"] <= tol), family=fam,
                   gap=x["prune"] - x["fold"], gain=x["gain"])
        b.true("centred: equality holds", q["centred"]["prune"] - q["centred"]["fold"]
               <= tolerance(ws.dtype, scale=q["centred"]["w_sq"], terms=n * d), family=fam)
        b.done()


def _check_exact(ctx, tally):
    n, d, k = EXACT_SHAPE
    trials = 16 * _instances.batch_size(ctx.scale)
    rng = np.random.default_rng([ctx.seed, 3])
    ws = rng.integers(-ENTRY, ENTRY + 1, size=(trials, n, d))
    # Every other matrix gets pruned rows that sum to zero (equality must then hold).
    keeps = np.sort(np.array([rng.choice(n, k, replace=False) for _ in range(trials)]), axis=1)
    for t in range(0, trials, 2):
        pruned = np.setdiff1d(np.arange(n), keeps[t])
        ws[t, pruned[-1]] -= ws[t, pruned].sum(axis=0)
    lib = jax.tree.map(np.asarray, jax.jit(jax.vmap(
        lambda w, keep: _terms(w, PruneProjector(keep, n))))(
            jnp.asarray(ws, float), jnp.asarray(keeps, jnp.int32)))
    b = tally.batch(trials, f"exact integer n={n} d={d} k={k}")
    ex = [rational_c3_terms(ws[t], keeps[t]) for t in range(trials)]
    b.true("exact: E_fold(pi_S) = E_prune(S) - (n-k)||mu||^2",
           [e["fold"] == e["prune"] - e["gain"] for e in ex])
    b.true("exact: E_fold(pi_S) <= E_prune(S)", [e["fold"] <= e["prune"] for e in ex])
    b.true("exact: equality iff pruned rows sum to zero",
           [(e["fold"] == e["prune"]) == e["zero_sum"] for e in ex])
    scale = np.sum(ws.astype(float) ** 2, axis=(1, 2))
    for name in ("prune", "fold", "gain"):
        b.equal(f"exact: library float64 {name} = exact value", lib[name],
                np.array([float(e[name]) for e in ex]), dtype=work_dtype(), scale=scale,
                terms=n * d)
    b.done()
    tally.details["exact"] = {"trials": trials, "shape": [n, d, k], "entries": [-ENTRY, ENTRY],
                              "zero_sum_instances": int(sum(e["zero_sum"] for e in ex))}


def check(ctx: Context) -> Tally:
    tally = Tally()
    shapes = _instances.shapes(ctx.scale)
    _check_float(ctx, tally)
    steps = len(shapes) + 1  # the float shapes (announced by shape_batches), then exact
    ctx.progress.begin(steps, steps, "exact rational arithmetic")
    _check_exact(ctx, tally)
    (n, d, k), ws, _, _ = next(iter(_instances.shape_batches(ctx, 3, announce=False)))
    _selfcheck.check(tally, np.asarray(ws), k)
    tally.details |= {"families": list(_instances.NAMES),
                      "shapes": [list(x) for x in shapes]}
    return tally
