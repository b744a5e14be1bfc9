"""C5 at scale: certified equal-rank losses and wins of folding, beyond enumeration.

At rank k, folding *certifiably loses* to pruning when a certified lower bound exceeds the
pruning optimum, ``LB(OPT_fold(k)) > OPT_prune(k)`` (:func:`projgeo.fold_lower_bound`,
Peng–Wei SDP), and *certifiably wins* when some fold beats it, ``E_fold(π) < OPT_prune(k)``
(the default :func:`projgeo.fold` at k). Instances where neither holds are undecided. Both
comparisons leave the tolerance rule's margin on the safe side. These are rates for a
figure, not checks: C5 says only that losses exist.
"""

from __future__ import annotations

import numpy as np

from projgeo import families, fold, fold_lower_bound, magnitude_prune, prune_error
from projgeo.tolerance import tolerance
from proofs_check.frame import Context

#: (n, d) shapes per budget scale (quick = 1 runs none: the SDP costs seconds per shape).
SHAPES = {1: (), 4: ((50, 16),), 16: ((50, 16), (100, 32), (200, 32))}
RATIOS = (0.25, 0.5, 0.75)
#: ADMM iterations per bound: enough for a gap of a few per cent on these families.
MAX_ITER = 300


def _rank(ratio: float, n: int) -> int:
    return max(1, min(n, round((1.0 - ratio) * n)))


def certified_rates(ctx: Context, shapes=None) -> dict:
    """``{"nxd": {family: {ratio: {loss, win, undecided, median_gap}}}}`` (see module doc).

    ``shapes`` defaults to ``SHAPES`` of the budget's scale.
    """
    out: dict = {}
    if shapes is None:
        shapes = SHAPES[min(s for s in SHAPES if s >= ctx.scale)]
    per_family = max(1, ctx.scale // 4)
    for si, (n, d) in enumerate(shapes):
        ctx.progress.begin(si + 1, len(shapes), f"certified C5 rates {n}x{d} (SDP bounds)")
        table: dict = {}
        for fi, fam in enumerate(families.FAMILIES):
            rows: dict = {}
            for ri, ratio in enumerate(RATIOS):
                k = _rank(ratio, n)
                counts = {"loss": 0, "win": 0, "undecided": 0}
                gaps = []
                for i in range(per_family):
                    w = np.asarray(families.sample(fam, ctx.key(55, si, fi, i), n, d))
                    prune = float(prune_error(w, magnitude_prune(w, k)))
                    tol = tolerance(w.dtype, scale=float(np.sum(w * w)), terms=w.size)
                    f = float(fold(w, k, key=ctx.key(56, si, fi, ri, i)).inertia)
                    lb = float(fold_lower_bound(w, k, method="sdp", max_iter=MAX_ITER).bound)
                    verdict = ("loss" if lb > prune + tol else
                               "win" if f < prune - tol else "undecided")
                    counts[verdict] += 1
                    if lb > 0:
                        gaps.append((f - lb) / lb)
                rows[f"{ratio:.2f}"] = {
                    **{key: round(v / per_family, 4) for key, v in counts.items()},
                    "instances": per_family,
                    "median_fold_gap_to_lower_bound": float(np.median(gaps)) if gaps else None,
                }
            table[fam] = rows
        out[f"{n}x{d}"] = table
    return out
