"""C4(i) and C5 with exact optima beyond enumeration (branch and bound, n > 10).

For one matrix per family and shape, ``OPT_fold`` at ranks k and k+1 comes from
:func:`projgeo.exact_fold_bnb` (proved: its lower bound meets its inertia), and the checks are
those of the enumeration part of C4 at the larger n:

* ``OPT_fold(k+1) ≤ E_fold(π_{S*}) ≤ OPT_prune(k)`` (C4(i) with C3's partition);
* the proof closes: ``lower_bound ≥ (1 − 1e-9)·inertia``;
* C5 data: whether ``OPT_fold(k) > OPT_prune(k)`` (an exact equal-rank loss) at this n.

Quick budget: none (seconds per matrix); standard: 14×4; thorough: 14×4 and 20×8.
"""

from __future__ import annotations

import numpy as np

from projgeo import (
    exact_fold_bnb,
    families,
    fold_error,
    magnitude_prune,
    prune_error,
    pruning_partition,
)
from projgeo.tolerance import tolerance
from proofs_check.frame import Context, Tally

SHAPES = {1: (), 4: ((14, 4),), 16: ((14, 4), (20, 8))}
RATIOS = (0.25, 0.5, 0.75)


def check(ctx: Context, tally: Tally) -> dict:
    """Run the checks above into ``tally``; return per-shape summaries for the details."""
    shapes = SHAPES[min(s for s in SHAPES if s >= ctx.scale)]
    out: dict = {}
    for si, (n, d) in enumerate(shapes):
        ctx.progress.begin(si + 1, len(shapes), f"exact branch and bound {n}x{d}, every k")
        names = list(families.FAMILIES)
        ks = sorted({max(1, min(n - 1, round((1 - r) * n))) for r in RATIOS})
        rows = []
        for fi, fam in enumerate(names):
            w = np.asarray(families.sample(fam, ctx.key(61, si, fi), n, d))
            for k in ks:
                at_k, next_k = exact_fold_bnb(w, k), exact_fold_bnb(w, k + 1)
                p = magnitude_prune(w, k)
                rows.append((fam, k, float(at_k.inertia), float(next_k.inertia),
                             float(fold_error(w, pruning_partition(p))), float(prune_error(w, p)),
                             float(np.sum(w * w)), at_k.proved and next_k.proved,
                             max(float(at_k.lower_bound) - float(at_k.inertia),
                                 float(next_k.lower_bound) - float(next_k.inertia)),
                             at_k.nodes + next_k.nodes))
        fam_, _, opt_k, opt_next, pis, prune, w_sq, proved, closed, nodes = map(
            np.asarray, zip(*rows, strict=True))
        kw = dict(dtype=np.float64, scale=w_sq, terms=n * d)
        b = tally.batch(len(rows), f"exact (branch and bound) n={n} d={d}")
        b.leq("exact: OPT_fold(k+1) <= E_fold(pi_S*)", opt_next, pis, **kw)
        b.leq("exact: E_fold(pi_S*) <= OPT_prune(k)", pis, prune, **kw)
        b.leq("exact: OPT_fold(k+1) <= OPT_prune(k)", opt_next, prune, **kw)
        b.true("exact: branch and bound proved its optimum (gap <= 1e-9)", proved)
        b.leq("exact: branch and bound lower bound <= its inertia", closed, 0.0, **kw)
        b.done()
        loss = opt_k > prune + tolerance(np.float64, scale=w_sq, terms=n * d)  # C5: exact loss
        out[f"{n}x{d}"] = {
            "matrices": len(names), "ks": ks, "pairs": len(rows),
            "bnb_nodes_mean": round(float(np.mean(nodes)), 1),
            "c5_exact_loss_rate": round(float(np.mean(loss)), 4),
            "c5_losses_by_family": {f: int(np.sum(loss[fam_ == f])) for f in names},
        }
    return out
