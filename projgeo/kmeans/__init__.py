"""Folding by k-means: the heuristic fold and the certified fold (C2, C4).

* :mod:`projgeo.kmeans.lloyd`: :func:`fold`, Ward-like or bisecting seeding + Lloyd + Hartigan +
  split–merge, one compiled program per capacity bucket;
* :mod:`projgeo.kmeans.seeding`, :mod:`projgeo.kmeans.refine`, :mod:`projgeo.kmeans._kernels`:
  its phases and the distance kernels they share;
* :mod:`projgeo.kmeans.certified`: :func:`certified_fold`, the fold at k+1 whose error is
  bitwise at most magnitude pruning's at k (C4(ii));
* :mod:`projgeo.kmeans.batched`: :func:`certified_fold_batch`, certified folds of many small
  matrices in lock step (chunks stop when all their matrices are done or after ``steps``);
* :mod:`projgeo.kmeans.sharding`: batches of folds across devices and hosts.

Nothing here imports the exact solvers, the networks or anything above the library.
"""

from projgeo.kmeans.batched import certified_fold_batch
from projgeo.kmeans.certified import CertifiedFold, certified_fold
from projgeo.kmeans.lloyd import KMeansResult, capacity, fold, lloyd_step

__all__ = ["CertifiedFold", "KMeansResult", "capacity", "certified_fold",
           "certified_fold_batch", "fold", "lloyd_step"]
