"""projgeo: pruning and folding as orthogonal projections (arXiv 2602.18116).

The whole public API on one screen; THEORY.md names the claims (C1–C8).
"""

from projgeo import (
    activations,
    bounds,
    compress_network,
    families,
    networks,
    spectral,
    tolerance,
)
from projgeo.activations import ACTIVATIONS, Activation
from projgeo.bounds import NetworkBound, gated_bound, mlp_bound
from projgeo.compress_network import compress, project
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
from projgeo.spectral import SpectralNorm, spectral_norm

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "FAMILIES",
    "FoldProjector",
    "KMeansResult",
    "NetworkBound",
    "PruneProjector",
    "SpectralNorm",
    "activations",
    "bounds",
    "c3_gain",
    "compress",
    "compress_network",
    "families",
    "fold",
    "fold_error",
    "fold_projector",
    "gated_bound",
    "magnitude_prune",
    "mlp_bound",
    "networks",
    "project",
    "projection_error",
    "prune_error",
    "pruned_mean",
    "pruning_partition",
    "prune_projector",
    "row_scores",
    "spectral",
    "spectral_norm",
    "tolerance",
]
