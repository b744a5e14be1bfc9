"""projgeo: pruning and folding as orthogonal projections (arXiv 2602.18116).

The whole public API on one screen; THEORY.md names the claims (C1–C8).
"""

from projgeo import families, sharding, tolerance
from projgeo.errors import (
    c3_gain,
    fold_error,
    projection_error,
    prune_error,
    pruned_mean,
    pruning_partition,
)
from projgeo.families import FAMILIES
from projgeo.kmeans import KMeansResult, fold
from projgeo.projectors import FoldProjector, PruneProjector, fold_projector, prune_projector
from projgeo.pruning import magnitude_prune, row_scores

__all__ = [
    "FAMILIES",
    "FoldProjector",
    "KMeansResult",
    "PruneProjector",
    "c3_gain",
    "families",
    "fold",
    "fold_error",
    "fold_projector",
    "magnitude_prune",
    "projection_error",
    "prune_error",
    "pruned_mean",
    "pruning_partition",
    "prune_projector",
    "row_scores",
    "sharding",
    "tolerance",
]
