"""C4(i) and C5 with exact optima beyond enumeration (branch and bound, n > 10).

For each family and shape, ``OPT_fold(k)`` at **every** k = 1…n comes from
:func:`projgeo.exact_fold_bnb` (proved: its lower bound meets its inertia), and the checks are
those of the enumeration part of C4 at the larger n. A trial is one matrix, checked at every k:

* ``OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k)`` (C4(i) with C3's partition), k = 1…n−1;
* ``OPT_fold`` non-increasing in k, 0 at k = n;
* the proof closes at every k: ``lower_bound ≥ (1 − 1e-9)·inertia`` (up to the tolerance
  rule's floor); a search stopped by ``max_nodes`` is a violation, never a pass;
* the labels have k non-empty clusters and realise the reported inertia;
* for d = 1, ``OPT_fold(k)`` equals the exact 1-D dynamic programme at every k;
* C5 data: how often ``OPT_fold(k) > OPT_prune(k)`` (an exact equal-rank loss) at this n.

Quick budget: none (seconds per matrix); standard: 14×4, 20×8 and 20×1, one matrix per
family; thorough: the same shapes, four matrices per family.
"""

from __future__ import annotations

import numpy as np

from projgeo import exact as ex
from projgeo import exact_fold_bnb, families
from projgeo.exact import reference as ref
from projgeo.tolerance import tolerance
from proofs_check.frame import Context, Tally

#: (n, d) per budget scale; the matrices per family are ``scale // 4``.
SHAPES = {1: (), 4: ((14, 4), (20, 8), (20, 1)), 16: ((14, 4), (20, 8), (20, 1))}


def _inertia(w: np.ndarray, labels: np.ndarray) -> float:
    return sum(float(np.sum((w[labels == j] - w[labels == j].mean(0)) ** 2))
               for j in np.unique(labels))


def check(ctx: Context, tally: Tally) -> dict:
    """Run the checks above into ``tally``; return per-shape summaries for the details."""
    shapes = SHAPES[min(s for s in SHAPES if s >= ctx.scale)]
    per_family = max(1, ctx.scale // 4)
    out: dict = {}
    for si, (n, d) in enumerate(shapes):
        ctx.progress.begin(si + 1, len(shapes), f"exact branch and bound {n}x{d}, every k")
        names = [f for f in families.FAMILIES for _ in range(per_family)]
        opt, lower, prune, pis, w_sq, proved, clusters, realised, dp, nodes = (
            [] for _ in range(10))
        for t, fam in enumerate(names):
            rep = t % per_family  # the first matrix of a family keeps the key (61, si, f)
            salt = (61, si, t // per_family) + ((rep,) if rep else ())
            w = np.asarray(families.sample(fam, ctx.key(*salt), n, d), np.float64)
            runs = [exact_fold_bnb(w, k) for k in range(1, n + 1)]
            opt.append([float(r.inertia) for r in runs])
            lower.append([float(r.lower_bound) for r in runs])
            proved.append([r.proved for r in runs])
            nodes.append(sum(r.nodes for r in runs))
            clusters.append([len(np.unique(np.asarray(r.labels))) for r in runs])
            realised.append([_inertia(w, np.asarray(r.labels)) for r in runs])
            # host-side, as the enumeration part: OPT_prune(k) and E_fold(π_S*), k = 1…n−1
            prune.append(np.asarray(ex.exact_prune_path(w[None]))[0, :-1])
            pis.append(ex.inertia_of(w[None], ref.pruning_partition_labels(w[None]))[0])
            w_sq.append(float(np.sum(w * w)))
            if d == 1:
                dp.append(np.asarray(ref.fold_1d_path(w).inertia, np.float64))
        opt_, lower_, prune_, pis_ = (np.asarray(x, np.float64) for x in (opt, lower, prune, pis))
        w_sq_ = np.asarray(w_sq)[:, None]
        kw = dict(dtype=np.float64, scale=w_sq_, terms=n * d, family=np.asarray(names))
        b = tally.batch(len(names), f"exact (branch and bound) n={n} d={d}")
        b.leq("exact: OPT_fold(k+1) <= E_fold(pi_S*)", opt_[:, 1:], pis_, **kw)
        b.leq("exact: E_fold(pi_S*) <= OPT_prune(k)", pis_, prune_, **kw)
        b.leq("exact: OPT_fold(k+1) <= OPT_prune(k)", opt_[:, 1:], prune_, **kw)
        b.leq("exact: OPT_fold(k+1) <= OPT_fold(k)", opt_[:, 1:], opt_[:, :-1], **kw)
        b.equal("exact: OPT_fold(n) = 0", opt_[:, -1:], 0.0, **kw)
        b.true("exact: branch and bound proved its optimum (gap <= 1e-9)", np.asarray(proved),
               family=np.asarray(names))
        b.leq("exact: branch and bound lower bound <= its inertia", lower_, opt_, **kw)
        b.true("exact: branch and bound labels have k non-empty clusters",
               np.asarray(clusters) == np.arange(1, n + 1)[None, :], family=np.asarray(names))
        b.equal("exact: branch and bound inertia = E_fold(its labels)", opt_,
                np.asarray(realised), **kw)
        if d == 1:
            b.equal("exact: branch and bound = 1-D dynamic programme", opt_, np.asarray(dp),
                    **kw)
        b.done()
        tol = tolerance(np.float64, scale=w_sq_, terms=n * d)
        loss = opt_[:, :-1] > prune_ + tol  # C5: exact equal-rank losses, k = 1…n−1
        fam_ = np.asarray(names)
        out[f"{n}x{d}"] = {
            "matrices": len(names), "ks": [1, n], "searches": int(opt_.size),
            "bnb_nodes_per_matrix_mean": round(float(np.mean(nodes)), 1),
            "bnb_nodes_per_matrix_max": int(np.max(nodes)),
            "unproved_searches": int(np.sum(~np.asarray(proved))),
            "c5_exact_loss_rate": round(float(np.mean(loss)), 4),
            "c5_losses_by_family": {f: int(np.sum(loss[fam_ == f])) for f in families.FAMILIES},
        }
    return out
