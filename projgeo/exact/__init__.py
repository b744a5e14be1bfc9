"""Exact optima and certified lower bounds: what a heuristic fold is measured against (C4, C5).

* :mod:`projgeo.exact.enumeration`: ``OPT_fold(k)`` and ``OPT_prune(k)`` by enumerating
  every partition (n ≤ :data:`MAX_N`), all k at once;
* :mod:`projgeo.exact.reference`: independent slow references (brute force, the 1-D
  dynamic programme), used by the tests and the checker to check the fast paths;
* :mod:`projgeo.exact.lower_bounds`: certified lower bounds on ``OPT_fold(k)`` (spectral,
  SDP dual) for any n;
* :mod:`projgeo.exact.branch_bound`: exact ``OPT_fold(k)`` beyond enumeration, by branch
  and bound on the SDP bounds.
"""

from projgeo.exact.branch_bound import ExactFoldBnB, exact_fold_bnb
from projgeo.exact.enumeration import (
    MAX_N,
    ExactFold,
    ExactPath,
    exact_fold,
    exact_fold_path,
    exact_prune,
    exact_prune_path,
    inertia_of,
    set_partitions,
)
from projgeo.exact.lower_bounds import FoldLowerBound, fold_lower_bound, spectral_bound_path
from projgeo.exact.reference import MAX_BRUTE_N, brute_force_fold, fold_1d_path

__all__ = [
    "MAX_BRUTE_N",
    "MAX_N",
    "ExactFold",
    "ExactFoldBnB",
    "ExactPath",
    "FoldLowerBound",
    "brute_force_fold",
    "exact_fold",
    "exact_fold_bnb",
    "exact_fold_path",
    "exact_prune",
    "exact_prune_path",
    "fold_1d_path",
    "fold_lower_bound",
    "inertia_of",
    "set_partitions",
    "spectral_bound_path",
]
