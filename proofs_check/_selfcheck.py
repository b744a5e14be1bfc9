"""The checker checks its own tolerance rule (run inside C3, the identity claim).

A tolerance can fail two ways: too loose, and real bugs pass as rounding; too tight, and
honest rounding is reported as a violation. On the C3 identity
``E_fold(π_S) = E_prune(S) − (n−k)·||μ||²``, computed by the library in float32 and in
float64 on the same matrices:

* honest computations must pass (catches, e.g., float64's eps used for float32 paths);
* a planted error of ``PLANTED[dtype] · ||W||²`` (1e-4 in float32, 1e-12 in float64, far
  above rounding, the size of a real bug) must be reported (catches a tolerance inflated by
  orders of magnitude);
* the comparison itself: a difference of 1.1 tolerances is reported, 0.9 is not.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import c3_gain, fold_error, magnitude_prune, prune_error, pruning_partition
from projgeo.tolerance import close, tolerance
from proofs_check.frame import work_dtype

#: Relative errors (of ``||W||²``) that are bugs, not rounding, per dtype.
PLANTED = {"float32": 1e-4, "float64": 1e-12}


def _terms(w, k):
    p = magnitude_prune(w, k)
    return fold_error(w, pruning_partition(p)), prune_error(w, p) - c3_gain(w, p)


def check(tally, ws: np.ndarray, k: int) -> None:
    """Add the self-check properties for the (B, n, d) float64 batch ``ws`` to ``tally``."""
    n, d = ws.shape[1:]
    b = tally.batch(len(ws), f"tolerance self-check n={n} d={d} k={k}")
    # float64 only where it exists: under --dtype float32 (x64 off) JAX has no float64.
    for name in [t for t in PLANTED if np.dtype(t).itemsize <= work_dtype().itemsize]:
        dt = np.dtype(name)
        w = jnp.asarray(ws, dt)
        lhs, rhs = (np.asarray(x, np.float64) for x in jax.vmap(lambda m: _terms(m, k))(w))
        scale = np.sum(np.asarray(w, np.float64) ** 2, axis=(1, 2))
        kw = dict(dtype=dt, scale=scale, terms=n * d)
        b.true(f"tolerance: honest {name} C3 terms pass", close(lhs, rhs, **kw))
        planted = lhs + PLANTED[name] * scale
        b.true(f"tolerance: a planted {PLANTED[name]:g}·||W||^2 error in {name} is reported",
               ~close(planted, rhs, **kw))
        tol = tolerance(dt, scale=scale, terms=n * d)
        b.true(f"tolerance: {name} difference of 1.1 tol reported, 0.9 tol not",
               ~close(rhs + 1.1 * tol, rhs, **kw) & close(rhs + 0.9 * tol, rhs, **kw))
    b.done()
