"""Shrinking counterexamples to C4's missing slack (C5), as Hypothesis shrinks.

A counterexample is a matrix with ``OPT_fold(k) > OPT_prune(k)`` for some ``k < n``
(beyond rounding). :func:`shrink` deletes rows and columns and simplifies entries while
that stays true; :func:`projgeo.exact.reference.rational_opt` then confirms the result in
exact rationals.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from projgeo import exact as ex
from projgeo.tolerance import tolerance

#: Entry values the shrinker tries, simplest first (after scaling to max |entry| = 1).
SIMPLE = (0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, -3, Fraction(1, 3),
          Fraction(-1, 3), Fraction(1, 4), Fraction(-1, 4))


def loss_rank(w: np.ndarray) -> int | None:
    """Smallest k < n with ``OPT_fold(k) > OPT_prune(k)`` beyond rounding, else None."""
    n, d = w.shape
    if n < 2:
        return None
    fold = np.asarray(ex.exact_fold_path(w).inertia)
    prune = np.asarray(ex.exact_prune_path(w))
    tol = tolerance(w.dtype, scale=np.sum(w * w), terms=n * d)
    lost = np.flatnonzero(fold[:-1] > prune[:-1] + tol)
    return int(lost[0]) + 1 if lost.size else None


def _complexity(x) -> tuple:
    f = Fraction(x).limit_denominator(1000)
    if float(f) != float(x):
        return (10**9, 0, 0)
    return (f.denominator, abs(f.numerator), f < 0)


def _candidates(x):
    """Simpler values for one entry, simplest first: the SIMPLE list and roundings of x."""
    c = _complexity(x)
    extra = [Fraction(round(x * q), q) for q in (1, 2, 4, 10)]
    seen, out = set(), []
    for v in (*SIMPLE, *extra):
        if v not in seen and _complexity(v) < c:
            seen.add(v)
            out.append(v)
    return sorted(out, key=_complexity)


def shrink(w: np.ndarray, *, nonzero_rows: bool = False) -> np.ndarray | None:
    """Shrink a counterexample: delete rows, then columns, then simplify entries.

    Every accepted step keeps ``loss_rank(w) is not None`` (and, with ``nonzero_rows``,
    no all-zero row) and makes ``(n, d, Σ complexity of the entries)`` strictly smaller,
    so the loop terminates. The result is scaled to integers where its entries are small
    rationals, with its rows sorted. Returns None if ``w`` (without its zero rows, under
    ``nonzero_rows``) does not lose.
    """
    w = np.asarray(w, np.float64)
    if nonzero_rows:
        w = w[np.any(w != 0, axis=1)]
    if w.shape[0] < 2:
        return None
    w = w / np.max(np.abs(w))  # the loss is homogeneous of degree 2: scale is free

    def ok(cand):
        if nonzero_rows and not np.all(np.any(cand != 0, axis=1)):
            return False
        return loss_rank(cand) is not None

    if not ok(w):
        return None

    def deletions():
        for axis in (0, 1):
            m = w.shape[axis]
            for width in sorted({max(1, m // 2), 1}, reverse=True):
                for start in range(0, m - width + 1, width):
                    keep = np.r_[0:start, start + width:m]
                    if len(keep) >= (2 if axis == 0 else 1):
                        yield np.take(w, keep, axis=axis)

    def simplifications():
        for i, j in np.ndindex(*w.shape):
            for v in _candidates(w[i, j]):
                cand = w.copy()
                cand[i, j] = float(v)
                yield cand

    changed = True
    while changed:
        changed = False
        for cand in (*deletions(), *simplifications()):
            if ok(cand):
                w, changed = cand, True
                break
    if all(_complexity(x)[0] < 10**9 for x in w.ravel()):
        w = w * np.lcm.reduce([Fraction(x).limit_denominator(1000).denominator for x in w.ravel()])
    return w[np.lexsort(w.T[::-1])]  # rows in lexicographic order: one form per example
