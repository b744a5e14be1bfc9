"""C4 checker: the rank-distance-one theorem ``OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k)``.

Checked three ways (THEORY.md C4), each a part of the report's ``details``:

* **exact**: ``OPT_fold`` by enumerating every partition (:mod:`projgeo.exact`, n ≤ 10) for
  every ``k < n`` on matrices of every family; the enumerator is cross-checked against brute
  force (n ≤ 6) and the 1-D dynamic programme (d = 1). The monotonicity the chain leans on
  (``OPT_fold`` and ``OPT_prune`` non-increasing in k, both 0 at ``k = n``) is checked here.
  A trial is one matrix, with the chain checked at every k.
* **exact beyond enumeration** (standard and thorough budgets): ``OPT_fold`` at every k
  of 14×4, 20×8 and 20×1 matrices (one per family; four in the thorough budget) proved by
  branch and bound (:mod:`proofs_check._exact_bnb`; 20×1 also against the 1-D dynamic
  programme), with the exact equal-rank loss rate of C5 at that n.
* **certified**: :func:`projgeo.certified_fold` (k-means warm-started at ``π_{S*}``) on
  every family, including large layers (n in the hundreds to thousands) where no exact
  optimum is known. Its output must have k+1 clusters and satisfy the bound; where the
  exact optimum is known it must also lie above it.
* **default heuristic**: :func:`projgeo.fold` with its defaults (Ward-like or bisecting
  seeding by the rule of :func:`projgeo.kmeans.lloyd.seeding_for`, Lloyd, Hartigan,
  split–merge) at k+1 against pruning at k. Missing the bound is not a
  violation (k-means is a heuristic); the rate of meeting it and the size of the misses
  are reported per family.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from projgeo import exact as ex
from projgeo.exact import reference as ref
from projgeo.kmeans.lloyd import effort_seeding
from projgeo.tolerance import tolerance
from proofs_check import _exact_bnb, _instances, _local
from proofs_check.frame import Claim, Context, Tally

CLAIM = Claim(
    "C4",
    "Rank-distance-one bound",
    "for every W and 1 <= k < n: OPT_fold(k + 1) <= E_fold(pi_S*) <= OPT_prune(k), so folding"
    " with one cluster more never reconstructs worse than magnitude pruning",
)
PARTS = ("exact", "certified", "default")
#: Matrices per family (times the budget scale) cross-checked against brute force.
BRUTE_PER_FAMILY = 4


def _scatter(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros((mask.size,) + values.shape[1:], values.dtype)
    out[mask] = values
    return out



def _check_exact(ctx: Context, tally: Tally) -> dict:
    info = {"matrices": 0, "pairs": 0, "brute_force_matrices": 0, "dp_1d_matrices": 0}
    batch = _instances.exact_batch_size(ctx.scale)
    shapes = [(draw, n, d) for draw, subs in _instances.exact_draws(ctx.scale) for n, d in subs]
    for step, (draw, n, d) in enumerate(shapes):
        ctx.progress.begin(step + 1, len(shapes), f"exact optima n={n} d={d}, every k")
        e = _instances.exact_instances(ctx.seed, batch, draw, n, d)
        size = len(e.ws)
        w_sq = np.sum(e.ws ** 2, axis=(1, 2))[:, None]
        kw = dict(dtype=e.ws.dtype, scale=w_sq, terms=n * d, family=e.names)
        pis = ex.inertia_of(e.ws, ref.pruning_partition_labels(e.ws))  # E_fold(π_S*), k = 1…n−1
        fold_next, prune_k = e.fold[:, 1:], e.prune[:, :-1]
        b = tally.batch(size, f"exact n={n} d={d}")
        b.leq("exact: OPT_fold(k+1) <= E_fold(pi_S*)", fold_next, pis, **kw)
        b.leq("exact: E_fold(pi_S*) <= OPT_prune(k)", pis, prune_k, **kw)
        b.leq("exact: OPT_fold(k+1) <= OPT_prune(k)", fold_next, prune_k, **kw)
        b.leq("exact: OPT_fold(k+1) <= OPT_fold(k)", e.fold[:, 1:], e.fold[:, :-1], **kw)
        b.leq("exact: OPT_prune(k+1) <= OPT_prune(k)", e.prune[:, 1:], e.prune[:, :-1], **kw)
        b.equal("exact: OPT_fold(n) = 0", e.fold[:, -1:], 0.0, **kw)
        b.equal("exact: OPT_prune(n) = 0", e.prune[:, -1:], 0.0, **kw)
        blocks = np.array([[len(np.unique(lab)) for lab in per_k] for per_k in e.labels])
        b.true("exact: optimal labels have k non-empty clusters",
               blocks == np.arange(1, n + 1)[None, :], family=e.names)
        if n <= ref.MAX_BRUTE_N:  # the first BRUTE_PER_FAMILY·scale matrices of each family
            sub = (np.arange(size) % batch) < BRUTE_PER_FAMILY * ctx.scale
            brute = np.stack([np.asarray(ref.brute_force_fold(e.ws[sub], k).inertia)
                              for k in range(1, n + 1)], axis=1)
            b.equal("exact: enumeration = brute force", np.where(sub[:, None], e.fold, 0.0),
                    np.zeros_like(e.fold) + _scatter(sub, brute), **kw)
            info["brute_force_matrices"] += int(sub.sum())
        if d == 1:
            dp = np.stack([np.asarray(ref.fold_1d_path(w).inertia) for w in e.ws])
            b.equal("exact: enumeration = 1-D dynamic programme", e.fold, dp, **kw)
            info["dp_1d_matrices"] += size
        b.done()
        info["matrices"] += size
        info["pairs"] += size * (n - 1)
    info["shapes"] = [[n, d] for _, n, d in shapes]
    info["draws"] = [{"draw": list(draw), "blocks": [list(x) for x in subs]}
                     for draw, subs in _instances.exact_draws(ctx.scale)]
    return info


def _fold_checks(b, res, kw, prefix: str, opt_next=None) -> None:
    k1 = res["k"] + 1
    b.true(f"{prefix}: k+1 non-empty clusters", res["certified_clusters"] == k1)
    b.true(f"{prefix}: E_fold <= OPT_prune(k) as computed (guarded)",
           res["certified"] <= res["prune"], family=kw["family"])
    b.leq(f"{prefix}: refinement never raised the inertia (before the guard)",
          res["refined"], res["start"], **kw)
    b.equal(f"{prefix}: reported inertia = E_fold(labels)", res["certified"],
            res["certified_recomputed"], **kw)
    b.leq(f"{prefix}: E_fold(pi_S*) <= OPT_prune(k)", res["start"], res["prune"], **kw)
    b.leq(f"{prefix}: E_fold(certified, k+1) <= OPT_prune(k)", res["certified"], res["prune"],
          **kw)
    if opt_next is not None:
        b.leq(f"{prefix}: OPT_fold(k+1) <= E_fold(certified)", opt_next, res["certified"], **kw)
    # A converged refinement is a local optimum: no single-row move lowers its inertia (exact
    # Hartigan gains in float64, at the scale of the centred rows; see proofs_check._local).
    # Not where the guard fell back to π_S* or an iteration cap stopped the refinement.
    ws = res["ws"]
    gain = _local.best_move_gain(ws, res["certified_labels"], k1)
    gain = np.where(res["certified_converged"] & ~res["fell_back"], gain, 0.0)
    b.leq(f"{prefix}: no single-row move lowers E_fold (local optimum)", gain, 0.0,
          **(kw | {"scale": _local.centred_energy(ws)}))


def _default_stats(names, default, prune, w_sq, tol) -> dict:
    met = default <= prune + tol
    miss = (default - prune) / np.where(w_sq > 0, w_sq, 1.0)
    out = {"trials": int(met.size), "met_bound_rate": round(float(met.mean()), 4),
           "worst_margin_vs_bound": float(-miss.max()),
           "misses": int((~met).sum()),
           "worst_miss_relative": float(miss[~met].max()) if (~met).any() else None,
           "median_miss_relative": float(np.median(miss[~met])) if (~met).any() else None,
           "per_family_met_rate": {str(f): round(float(met[names == f].mean()), 4)
                                   for f in dict.fromkeys(names)}}
    return out


def _check_folds(ctx: Context, tally: Tally) -> tuple[dict, dict]:
    batch = _instances.exact_batch_size(ctx.scale)
    # fell_back: the guard returned π_S* after a last-bit tie (not a violation, counted).
    cert = {"trials": 0, "shapes": [], "large_layers": [], "fell_back": 0}
    dflt = {"trials": 0, "shapes": [], "by_shape": []}
    jobs = _instances.fold_jobs(ctx.scale)
    exact_draws = {draw for draw, _ in _instances.exact_draws(ctx.scale)}
    for step, job in enumerate(jobs):
        n, d, k, default = job.n, job.d, job.k, job.default
        ctx.progress.begin(step + 1, len(jobs), f"certified fold n={n} d={d} k={k + 1}"
                                                + (" and default fold" if default else ""))
        ws, names, res = _instances.fold_instances(ctx.seed, job.batch, n, d, k, default,
                                                   job.families)
        res = {**res, "k": k, "ws": ws}
        kw = dict(dtype=ws.dtype, scale=res["w_sq"], terms=n * d, family=names)
        opt_next = None
        if (n, d) in exact_draws and job.batch == batch:  # the exact part's matrices
            opt_next = _instances.exact_instances(ctx.seed, batch, (n, d), n, d).fold[:, k]
        b = tally.batch(len(ws), f"certified n={n} d={d} k={k}")
        _fold_checks(b, res, kw, "certified", opt_next)
        b.done()
        cert["trials"] += len(ws)
        cert["fell_back"] += int(res["fell_back"].sum())
        cert["shapes"].append([n, d, k])
        if job.large:
            rel = (res["prune"] - res["certified"]) / res["w_sq"]
            cert["large_layers"] += [{"n": n, "d": d, "k": k, "family": str(f),
                                      "relative_margin": float(m)} for f, m in zip(names, rel,
                                                                                   strict=True)]
        if default:
            b = tally.batch(len(ws), f"default n={n} d={d} k={k}")
            b.true("default: k+1 non-empty clusters", res["default_clusters"] == k + 1)
            if opt_next is not None:
                b.leq("default: OPT_fold(k+1) <= E_fold(default fold)", opt_next, res["default"],
                      **kw)
            b.done()
            tol = tolerance(ws.dtype, scale=res["w_sq"], terms=n * d)
            stats = _default_stats(names, res["default"], res["prune"], res["w_sq"], tol)
            dflt["trials"] += stats["trials"]
            dflt["shapes"].append([n, d, k])
            # The rate belongs to the heuristic that made it: the default fold's seeding here.
            dflt["by_shape"].append({"shape": [n, d, k], "seeding": effort_seeding("default",
                                                                                   n, k + 1),
                                     **stats})
    return cert, dflt


def _part_margin(tally: Tally, part: str):
    ms = [p["worst_margin"] for name, p in tally.properties.items()
          if name.startswith(part + ":") and np.isfinite(p["worst_margin"])]
    return min(ms) if ms else None


def check(ctx: Context) -> Tally:
    tally = Tally()
    # The branch-and-bound part (host-side search, small programs) runs beside the others:
    # C4 is the longest claim, and after the shorter claims end it would leave a core idle.
    with ThreadPoolExecutor(1) as pool:
        bnb_tally = Tally()
        bnb_job = pool.submit(_exact_bnb.check, ctx, bnb_tally)
        exact_info = _check_exact(ctx, tally)
        cert, dflt = _check_folds(ctx, tally)
        bnb = bnb_job.result()
    tally.absorb(bnb_tally)
    exact_info["trials"] = exact_info["matrices"]
    for part, info in zip(PARTS, (exact_info, cert, dflt), strict=True):
        info["worst_margin"] = _part_margin(tally, part)
    by = dflt["by_shape"]
    if by:  # the heuristic's margin against the bound: negative where it misses (no violation)
        dflt["overall_met_rate"] = round(
            sum(s["met_bound_rate"] * s["trials"] for s in by) / dflt["trials"], 4)
        dflt["worst_margin_vs_bound"] = min(s["worst_margin_vs_bound"] for s in by)
    tally.details = {"exact": exact_info, "certified": cert, "default_heuristic": dflt,
                     "exact_branch_and_bound": bnb or "standard and thorough budgets only",
                     "families": list(_instances.NAMES), "prng": _instances.IMPL}
    return tally
