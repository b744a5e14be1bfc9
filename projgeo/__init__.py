"""projgeo: pruning and folding as orthogonal projections (arXiv 2602.18116).

The whole public API on one screen; docs/theory.md states the claims (C1–C8).

The library, bottom to top: :mod:`projgeo.projectors`, :mod:`projgeo.pruning` and
:mod:`projgeo.errors` (the two projections, C1–C3); :mod:`projgeo.kmeans` (the fold and the
certified fold, C2, C4); :mod:`projgeo.exact` (exact optima and lower bounds, C4, C5);
:mod:`projgeo.networks`, :mod:`projgeo.compress_network`, :mod:`projgeo.activations`,
:mod:`projgeo.spectral` and :mod:`projgeo.bounds` (networks, C6, C7); :mod:`projgeo.sweep`
(every rank at once). Beside it, never imported by it: :mod:`projgeo.experiments` (the C8
zoo) and :mod:`projgeo.io` (checkpoints). :mod:`projgeo.config` sets up JAX (x64, compile
cache); :mod:`projgeo.tolerance` is the one floating-point comparison rule.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from projgeo import (
    activations,
    bounds,
    compress_network,
    exact,
    families,
    kmeans,
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
from projgeo.exact import (
    ExactFold,
    ExactPath,
    exact_fold,
    exact_fold_path,
    exact_prune,
    exact_prune_path,
    set_partitions,
)
from projgeo.exact.branch_bound import ExactFoldBnB, exact_fold_bnb
from projgeo.exact.lower_bounds import FoldLowerBound, fold_lower_bound
from projgeo.exact.reference import brute_force_fold, fold_1d_path
from projgeo.families import FAMILIES
from projgeo.kmeans import KMeansResult, fold
from projgeo.kmeans.batched import certified_fold_batch
from projgeo.kmeans.certified import CertifiedFold, certified_fold
from projgeo.projectors import FoldProjector, PruneProjector, fold_projector, prune_projector
from projgeo.pruning import keep_count, magnitude_prune, row_scores
from projgeo.spectral import SpectralNorm, spectral_norm
from projgeo.sweep import RankSweep, rank_sweep

try:
    __version__ = _version("projgeo")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "ACTIVATIONS",
    "Activation",
    "CertifiedFold",
    "ExactFold",
    "ExactFoldBnB",
    "ExactPath",
    "FAMILIES",
    "FoldLowerBound",
    "FoldProjector",
    "KMeansResult",
    "NetworkBound",
    "PruneProjector",
    "RankSweep",
    "SpectralNorm",
    "activations",
    "bounds",
    "brute_force_fold",
    "c3_gain",
    "certified_fold",
    "certified_fold_batch",
    "compress",
    "compress_network",
    "exact",
    "exact_fold",
    "exact_fold_bnb",
    "exact_fold_path",
    "exact_prune",
    "exact_prune_path",
    "families",
    "fold",
    "fold_1d_path",
    "fold_error",
    "fold_lower_bound",
    "fold_projector",
    "gated_bound",
    "keep_count",
    "kmeans",
    "magnitude_prune",
    "mlp_bound",
    "networks",
    "project",
    "projection_error",
    "prune_error",
    "prune_projector",
    "pruned_mean",
    "pruning_partition",
    "rank_sweep",
    "row_scores",
    "set_partitions",
    "spectral",
    "spectral_norm",
    "tolerance",
]
