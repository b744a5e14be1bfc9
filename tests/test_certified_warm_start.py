"""certified_fold's warm start from π_S*, for n ∈ [2, 64], d ∈ [1, 16] (C4(ii)).

A certified fold that ignored its warm start would still pass ``result ≤ OPT_prune(k)`` (it
falls back to π_S*), so the properties also pin what the fallback must not be needed for:
the warm-started fold itself is never worse than π_S*, the ``warm_start`` route is the fold
from π_S*, and every returned fold that converged is locally optimal.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import projgeo as pg
from projgeo import families, tolerance
from tests.test_local_optimality import assert_locally_optimal

# (n, d, k) spanning n ∈ [2, 64], d ∈ [1, 16]; one compile each, a vmapped batch of every family.
CASES = ((2, 1, 1), (3, 16, 2), (7, 4, 3), (16, 1, 5), (33, 8, 16), (64, 16, 63))
PER_FAMILY = 2


def _batch(n, d, seed=0):
    names = list(families.FAMILIES)
    keys = jax.random.split(jax.random.key(seed), len(names))
    ws = np.concatenate([np.asarray(families.sample_batch(f, kk, PER_FAMILY, n, d))
                         for f, kk in zip(names, keys, strict=True)])
    return ws, np.repeat(names, PER_FAMILY)


@pytest.mark.parametrize("n, d, k", CASES)
def test_certified_fold_uses_its_warm_start_and_never_loses_to_pruning(n, d, k):
    ws, names = _batch(n, d)
    out = jax.jit(jax.vmap(lambda w: pg.certified_fold(w, k)))(ws)
    routes = set()
    for i, w in enumerate(ws):
        tol = dict(dtype=w.dtype, scale=float(np.sum(w * w)), terms=w.size)
        start = pg.pruning_partition(pg.magnitude_prune(w, k))
        c = jax.tree.map(lambda x, i=i: x[i], out)
        where = f"{names[i]} #{i}"
        route = pg.kmeans.certified.ROUTES[int(c.route)]
        routes.add(route)
        assert float(c.result.inertia) <= float(c.prune_error), where  # bitwise
        assert tolerance.close(c.start_error, pg.fold_error(w, start), **tol), where
        assert tolerance.leq(c.start_error, c.prune_error, **tol), where
        # the warm start from π_S* never ends above π_S* (no phase raises the inertia)
        assert tolerance.leq(c.refined_error, c.start_error, **tol), where
        labels = np.asarray(c.result.labels)
        assert set(labels.tolist()) == set(range(k + 1)), where
        assert tolerance.close(c.result.inertia, pg.fold_error(w, pg.FoldProjector(labels, k + 1)),
                               **tol), where
        if route == "warm_start":  # it is the fold from π_S*, not from a fresh seeding
            direct = pg.fold(w, k + 1, init=start.labels)
            assert tolerance.close(c.result.inertia, direct.inertia, **tol), where
        if route != "c3_partition" and bool(c.result.converged):
            assert_locally_optimal(w, labels, k + 1)
    assert routes, routes


def test_certified_fold_beats_pi_s_when_pi_s_is_not_locally_optimal():
    """Rows 0..3 kept alone, the pruned rows {4, 5} together: moving one pruned row to its
    nearest kept row lowers the inertia, so the refinement must move away from π_S*."""
    w = np.array([[10.0], [9.0], [-8.0], [7.5], [0.1], [7.4]])
    c = pg.certified_fold(w, 3)
    start = pg.pruning_partition(pg.magnitude_prune(w, 3))
    assert float(c.result.inertia) < float(pg.fold_error(w, start)) - 1.0
    assert float(c.refined_error) <= float(c.start_error)
    assert not bool(c.fell_back)


@pytest.mark.parametrize("n, d, k", [(12, 3, 4), (33, 8, 16)])
def test_the_warm_route_folds_from_the_pruning_partition_when_forced(n, d, k):
    """White-box: the default route nearly always beats pruning, so the warm start seldom
    runs; with the bar forced below every inertia it must run, start at π_S* and not get
    worse (a warm start seeded elsewhere would pass every public property above)."""
    from projgeo.kmeans import certified, refine
    from projgeo.kmeans import lloyd as kmeans
    from projgeo.pruning import _row_order

    ws_all, _ = _batch(n, d, seed=5)
    cap = kmeans.capacity(n, k + 1)
    opts = kmeans.options(dtype=ws_all.dtype)

    @jax.jit
    def routes(w):
        p = certified.prepare(w)
        rank = jax.numpy.zeros(n, "int32").at[_row_order(w, "l2")].set(
            jax.numpy.arange(n, dtype="int32"))
        c3 = certified.pruning_labels(rank < k)
        start = refine.make_state(p.ws, jax.numpy.sum(p.ws * p.ws, axis=1), c3, cap, k + 1)
        out = certified._two_routes(p.ws, k + 1, cap, opts, jax.random.key(0), c3, -1.0, start)
        ref = kmeans.improve(p.ws, c3, k + 1, cap, opts)
        return out[3].inertia, out[3].labels, start.inertia, ref[0].inertia, ref[0].labels

    for w in ws_all:
        warm, labels, start, ref, ref_labels = routes(w)
        # The same inertia formula evaluated at two places of one XLA program may round
        # differently (fusion), so values computed at different places compare under the
        # tolerance rule; the bitwise guarantee is only the certificate's own comparison.
        tol = dict(dtype=w.dtype, scale=float(start), terms=w.size)
        assert tolerance.leq(warm, start, **tol)  # a warm start never gets worse than π_S*
        np.testing.assert_array_equal(labels, ref_labels)  # it is the fold from π_S*
        assert tolerance.close(warm, ref, **tol)
