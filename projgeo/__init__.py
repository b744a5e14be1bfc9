"""projgeo: pruning and folding as orthogonal projections (arXiv 2602.18116).

The whole public API on one screen; THEORY.md names the claims (C1–C8).
"""

from projgeo import families, sharding, tolerance
from projgeo.certified import CertifiedFold, certified_fold
from projgeo.errors import (
    c3_gain,
    fold_error,
    projection_error,
    prune_error,
    pruned_mean,
    pruning_partition,
)
from projgeo.exact import (
    ExactFold,
    ExactPath,
    exact_fold,
    exact_fold_path,
    exact_prune,
    exact_prune_path,
    set_partitions,
)
from projgeo.exact_reference import brute_force_fold, fold_1d_path
from projgeo.families import FAMILIES
from projgeo.kmeans import KMeansResult, fold
from projgeo.projectors import FoldProjector, PruneProjector, fold_projector, prune_projector
from projgeo.pruning import magnitude_prune, row_scores

__all__ = [
    "FAMILIES",
    "CertifiedFold",
    "ExactFold",
    "ExactPath",
    "FoldProjector",
    "KMeansResult",
    "PruneProjector",
    "brute_force_fold",
    "c3_gain",
    "certified_fold",
    "exact_fold",
    "exact_fold_path",
    "exact_prune",
    "exact_prune_path",
    "families",
    "fold",
    "fold_1d_path",
    "fold_error",
    "fold_projector",
    "magnitude_prune",
    "projection_error",
    "prune_error",
    "pruned_mean",
    "pruning_partition",
    "prune_projector",
    "row_scores",
    "set_partitions",
    "sharding",
    "tolerance",
]
