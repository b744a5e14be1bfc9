"""C5 checker: the slack of one rank is needed (folding at the same rank can lose).

THEORY.md C5: ``OPT_fold(k) > OPT_prune(k)`` happens, e.g. ``n = 2, k = 1``,
``w_1 = (1, 0), w_2 = (0, ε)``: ``OPT_fold(1) = (1+ε²)/2 > ε² = OPT_prune(1)``. The claim is
violated only if no counterexample is found. Reported in ``details``:

* **counterexamples**: the first loss of each family among the exact instances (shared
  with C4), each shrunk like Hypothesis shrinks (fewest rows, then columns, then the
  simplest entries: 0, ±1, small integers, halves, …; finally scaled to integers) while it
  still loses, and then confirmed in exact rational arithmetic;
* **the 2×2 example** of THEORY.md for several ε, in float64 and in exact rationals, and its
  generalisation to every ``n ≤ 10`` (``k = n − 1``: rows ``e_1 … e_{n−1}, ε e_n``);
* **loss rates** per family and compression ratio ``1 − k/n``: exactly for ``n ≤ 10``, and
  for larger n an upper bound (the best fold we have at rank k, certified or default,
  against ``OPT_prune(k)``); with the typical (median) and largest loss relative to
  ``||W||_F²``. These are the data for a figure, not checks;
* **certified rates** at n ≥ 50 (standard and thorough budgets): how often folding at rank
  k certifiably loses (``LB(OPT_fold(k)) > OPT_prune(k)``, SDP lower bound), certifiably wins
  (a fold below ``OPT_prune(k)``) or is undecided (:mod:`proofs_check._c5_certified`);
* **C3 strictness**: ``E_fold(π_{S*}) < E_prune(S*)`` exactly iff the pruned rows do not
  sum to zero, on integer matrices in exact rationals.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from projgeo import exact as ex
from projgeo.exact.reference import rational_c3_terms, rational_opt
from projgeo.tolerance import tolerance
from proofs_check import _c5_certified, _instances
from proofs_check.frame import Claim, Context, Tally, work_dtype
from proofs_check.shrink import loss_rank, shrink

CLAIM = Claim(
    "C5",
    "Tightness: one rank of slack is needed",
    "the extra cluster is needed: some W and k have OPT_fold(k) > OPT_prune(k) (smallest "
    "counterexamples found and confirmed in exact rationals)",
)
EPSILONS = (Fraction(1, 2), Fraction(1, 10), Fraction(1, 1000))
#: Integer matrices of the C3 strictness check: (n, d, k), entries in [−4, 4].
C3_SHAPE = (6, 2, 2)


# ---------------------------------------------------------------------------
# Parts of the check.


def _rate_table(names, ratios, lost, loss_rel) -> dict:
    """Per family and ratio (rounded to 2 decimals): instances, loss rate, loss sizes."""
    table: dict = {}
    for f in dict.fromkeys(names.tolist()):
        rows = {}
        for r in sorted(set(ratios.tolist())):
            sel = (names == f) & (ratios == r)
            if not sel.any():
                continue
            hit = lost[sel]
            rows[f"{r:.2f}"] = {
                "instances": int(sel.sum()), "loss_rate": round(float(hit.mean()), 4),
                "median_loss_relative": float(np.median(loss_rel[sel][hit])) if hit.any()
                else None,
                "max_loss_relative": float(loss_rel[sel][hit].max()) if hit.any() else None}
        table[str(f)] = rows
    return table


def _exact_rates(ctx: Context):
    """Exact loss rates per shape, family and ratio; every loss found; totals."""
    batch = _instances.exact_batch_size(ctx.scale)
    tables, found, n_lost, n_pairs = {}, [], 0, 0
    for draw, subs in _instances.exact_draws(ctx.scale):
        for n, d in subs:
            e = _instances.exact_instances(ctx.seed, batch, draw, n, d)
            w_sq = np.sum(e.ws ** 2, axis=(1, 2))[:, None]
            tol = tolerance(e.ws.dtype, scale=w_sq, terms=n * d)
            gap = e.fold[:, :-1] - e.prune[:, :-1]  # k = 1…n−1
            hit = gap > tol
            ks = np.arange(1, n)
            tables[f"{n}x{d}"] = _rate_table(
                np.repeat(e.names, n - 1), np.tile(np.round(1 - ks / n, 2), len(e.ws)),
                hit.ravel(), (gap / np.where(w_sq > 0, w_sq, 1.0)).ravel())
            n_lost, n_pairs = n_lost + int(hit.sum()), n_pairs + hit.size
            for b in np.flatnonzero(hit.any(axis=1)):
                found.append({"family": str(e.names[b]), "shape": [n, d],
                              "k": int(ks[hit[b]][0]), "w": e.ws[b]})
    return tables, found, n_lost, n_pairs


def _large_rates(ctx: Context) -> dict:
    """Larger n: best known fold at k+1 (certified, default fold) against OPT_prune(k+1)."""
    tables = {}
    for job in _instances.fold_jobs(ctx.scale):
        n, d, k, default = job.n, job.d, job.k, job.default
        if n <= ex.MAX_N:
            continue  # the exact rates cover it
        ws, fam, res = _instances.fold_instances(ctx.seed, job.batch, n, d, k, default,
                                                 job.families)
        best = np.minimum(res["certified"], res["default"]) if default else res["certified"]
        tol = tolerance(ws.dtype, scale=res["w_sq"], terms=n * d)
        gap = best - res["prune_next"]
        tables[f"{n}x{d}"] = _rate_table(fam, np.full(len(ws), round(1 - (k + 1) / n, 2)),
                                         gap > tol,
                                         gap / np.where(res["w_sq"] > 0, res["w_sq"], 1.0))
    return tables


def _check_counterexamples(ctx: Context, tally: Tally, found: list) -> list:
    """Shrink the first ``scale`` losses of each family, twice: freely, and keeping every
    row non-zero (a zero row is the cheapest way to lose; the second form shows another)."""
    per_family: dict = {}
    for f in found:
        per_family.setdefault(f["family"], []).append(f)
    picks = [f for fs in per_family.values() for f in fs[: ctx.scale]]
    b = tally.batch(1, "counterexample search")
    b.true("a counterexample OPT_fold(k) > OPT_prune(k) exists", [bool(picks)])
    b.done()
    out, seen, confirmed = [], {}, []
    for f in picks:
        origin = {key: f[key] for key in ("family", "shape", "k")}
        for nonzero in (False, True):
            w = shrink(f["w"], nonzero_rows=nonzero)
            if w is None:  # only its zero rows made it lose
                continue
            k = loss_rank(w)
            fold_q, prune_q = rational_opt(w, k)
            confirmed.append(fold_q > prune_q)
            key = (w.shape, tuple(w.ravel()), k)
            if key not in seen:
                seen[key] = {"w": w.tolist(), "k": k, "shape": list(w.shape),
                             "OPT_fold": str(fold_q), "OPT_prune": str(prune_q),
                             "rows_kept_nonzero": nonzero, "shrunk_from": []}
                out.append(seen[key])
            seen[key]["shrunk_from"].append(origin)
    if confirmed:
        b = tally.batch(len(confirmed), "shrunk counterexamples")
        b.true("shrunk counterexample loses in exact rationals", confirmed)
        b.done()
    return out


def _check_two_by_two(tally: Tally) -> dict:
    """THEORY.md's example and its generalisation to n rows (k = n − 1)."""
    b = tally.batch(len(EPSILONS), "THEORY 2x2 example")
    ws = np.array([[[1.0, 0.0], [0.0, float(e)]] for e in EPSILONS])
    fold = np.asarray(ex.exact_fold(ws, 1).inertia)
    prune = np.asarray(ex.exact_prune(ws, 1))
    eps = np.array([float(e) for e in EPSILONS])
    kw = dict(dtype=work_dtype(), scale=1.0 + eps**2, terms=4)
    b.equal("2x2: OPT_fold(1) = (1+eps^2)/2", fold, (1 + eps**2) / 2, **kw)
    b.equal("2x2: OPT_prune(1) = eps^2", prune, eps**2, **kw)
    b.true("2x2: OPT_fold(1) > OPT_prune(1) beyond rounding",
           fold > prune + np.asarray(tolerance(work_dtype(), scale=1 + eps**2, terms=4)))
    exact = [rational_opt(np.array([[1, 0], [0, e]], object), 1) for e in EPSILONS]
    b.true("2x2 exact: OPT_fold(1) = (1+eps^2)/2 > eps^2 = OPT_prune(1)",
           [f == (1 + e * e) / 2 and p == e * e and f > p
            for (f, p), e in zip(exact, EPSILONS, strict=True)])
    b.done()
    ns = list(range(2, ex.MAX_N + 1))
    b = tally.batch(len(ns), "generalised example, k = n - 1")
    eps = 0.5
    got = []
    for n in ns:
        w = np.eye(n)
        w[-1, -1] = eps
        got.append((float(ex.exact_fold(w, n - 1).inertia), float(ex.exact_prune(w, n - 1))))
    fold, prune = np.array(got).T
    kw = dict(dtype=work_dtype(), scale=np.array(ns, float), terms=max(ns) ** 2)
    b.equal("e_1..e_{n-1}, eps e_n: OPT_fold(n-1) = (1+eps^2)/2", fold, (1 + eps**2) / 2, **kw)
    b.true("e_1..e_{n-1}, eps e_n: OPT_fold(n-1) > OPT_prune(n-1)", fold > prune + 1e-12)
    b.done()
    return {"epsilons": [str(e) for e in EPSILONS],
            "OPT_fold(1)": [str(f) for f, _ in exact], "OPT_prune(1)": [str(p) for _, p in exact],
            "generalised_n": ns}


def _check_c3_strict(ctx: Context, tally: Tally) -> dict:
    """E_fold(π_S*) < E_prune(S*) exactly iff the pruned rows do not sum to zero."""
    n, d, k = C3_SHAPE
    trials = 32 * ctx.scale
    rng = np.random.default_rng([ctx.seed, 5])
    ws = rng.integers(-4, 5, size=(trials, n, d))
    keeps = []
    for t in range(trials):
        keep = np.sort(np.argsort(-np.sum(ws[t] ** 2, axis=1), kind="stable")[:k])
        pruned = np.setdiff1d(np.arange(n), keep)
        if t % 2 == 0:  # make the pruned rows sum to zero; keep them the smallest
            ws[t, pruned[-1]] -= ws[t, pruned].sum(axis=0)
            ws[t, keep] = 100 * np.maximum(np.abs(ws[t, keep]), 1)
        keeps.append(np.sort(np.argsort(-np.sum(ws[t] ** 2, axis=1), kind="stable")[:k]))
    ex_terms = [rational_c3_terms(ws[t], keeps[t]) for t in range(trials)]
    b = tally.batch(trials, f"C3 strictness n={n} d={d} k={k}")
    b.true("C3: E_fold(pi_S*) < E_prune(S*) iff pruned rows do not sum to zero",
           [(e["fold"] < e["prune"]) == (not e["zero_sum"]) for e in ex_terms])
    b.done()
    zero = sum(e["zero_sum"] for e in ex_terms)
    return {"trials": trials, "shape": [n, d, k], "zero_sum": zero, "strict": trials - zero}


def check(ctx: Context) -> Tally:
    tally = Tally()
    ctx.progress.step("exact loss rates, every k")
    rates, found, n_lost, n_pairs = _exact_rates(ctx)
    ctx.progress.step(f"shrink {len(found)} counterexamples")
    examples = _check_counterexamples(ctx, tally, found)
    ctx.progress.step("2x2 counterexample and strict C3 gains")
    two = _check_two_by_two(tally)
    c3 = _check_c3_strict(ctx, tally)
    ctx.progress.step("loss rates at larger n")
    large = _large_rates(ctx)
    certified = _c5_certified.certified_rates(ctx)
    tally.details = {
        "counterexamples_found": len(found),
        "smallest_counterexamples": examples,
        "theory_2x2": two,
        "exact_loss_rates": {"pairs": n_pairs, "losses": n_lost,
                             "by_shape_family_ratio": rates},
        "larger_n_loss_rate_upper_bounds_by_shape_family_ratio": large,
        "certified_loss_win_undecided_rates_by_shape_family_ratio": (
            certified or "standard and thorough budgets only (an SDP bound per instance)"),
        "c3_strictness": c3,
        "families": list(_instances.NAMES),
    }
    return tally
