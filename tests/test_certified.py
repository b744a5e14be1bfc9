"""certified_fold (C4(ii)): one program, best of two routes, certified at every scale."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from projgeo.kmeans.certified import ROUTES
from tests import strategies as S
from tests.helpers import assert_close, assert_leq, count_compilations

SHAPES = ((6, 2), (13, 4), (24, 3))


def opt_prune(w, k):
    """OPT_prune(k) by its definition, in float64 on a rescaled copy (no under/overflow)."""
    w = np.asarray(w, np.float64)
    s = float(np.max(np.abs(w))) or 1.0
    energy = np.sort(np.sum((w / s) ** 2, axis=1))
    return float(np.sum(energy[: w.shape[0] - k])) * s * s


@st.composite
def problems(draw):
    shape = draw(st.sampled_from(SHAPES))
    w = draw(S.weights(shape=shape))
    scale = draw(st.sampled_from([1.0, 1e-150, 1e100, 1e-200, 1e200]))
    offset = draw(st.sampled_from([0.0, 1.0, 1e8]))
    k = draw(st.integers(1, shape[0] - 1))
    return (w + offset) * scale, k


@given(problems(), st.integers(0, 2**31 - 1))
def test_certified_fold_is_never_above_opt_prune_at_any_scale_or_offset(problem, seed):
    w, k = problem
    c = pg.certified_fold(w, k, key=jax.random.key(seed))
    assert c.result.inertia <= c.prune_error  # the certificate: bitwise as computed
    assert set(np.asarray(c.result.labels).tolist()) == set(range(k + 1))
    np.testing.assert_array_equal(c.prune.keep, pg.magnitude_prune(w, k).keep)
    assert 0 <= int(c.route) < len(ROUTES)
    total = opt_prune(w, 0)
    # Errors scale back exactly where they are representable: XLA:CPU flushes subnormal
    # results to 0, and above the range they are inf.
    if not 1e-290 < total < 1e300:
        return
    assert np.isfinite(float(c.result.inertia)) and np.isfinite(float(c.prune_error))
    if opt_prune(w, k) > 1e-290:
        np.testing.assert_allclose(float(c.prune_error), opt_prune(w, k), rtol=1e-9)
    assert_leq(c.refined_error, c.start_error, w=w, scale=total)
    assert_leq(c.start_error, c.prune_error, w=w, scale=total)
    # The reported inertia is the error of the returned labels (up to rounding), computed
    # here on a centred, rescaled float64 copy.
    s = float(np.max(np.abs(w - w.mean(0)))) or 1.0
    mine = float(pg.fold_error((w - w.mean(0)) / s, c.projector())) * s * s
    assert_close(c.result.inertia, mine, w=w, scale=total)


def test_certified_fold_returns_the_better_route():
    # Clustered rows: the default fold at k+1 beats pruning, so no warm start is needed; on
    # rows with one dominant row the pruned cluster carries everything, and the warm start
    # (or π_S* itself) wins.
    w = np.asarray(pg.families.sample("clustered", jax.random.key(0), 24, 3))
    c = pg.certified_fold(w, 6)
    assert ROUTES[int(c.route)] == "default"
    d = pg.fold(w, 7, key=jax.random.key(0))
    assert_close(c.result.inertia, d.inertia, w=w)
    assert_close(c.refined_error, c.start_error, w=w)  # the warm start did not run


def test_certified_fold_warm_starts_when_the_default_is_above_the_bound():
    # Tiny caps: the default fold (one Lloyd step from bisection) can lose to π_S*.
    rng = np.random.default_rng(0)
    routes = set()
    for _ in range(20):
        w = rng.standard_normal((13, 4)) * rng.lognormal(0, 2, (13, 1))
        c = pg.certified_fold(w, 6, max_iter=1, refine_iter=0, split_merge_iter=0)
        routes.add(ROUTES[int(c.route)])
        assert c.result.inertia <= c.prune_error
        if ROUTES[int(c.route)] == "warm_start":
            assert_leq(c.result.inertia, c.start_error, w=w)
    assert "warm_start" in routes


def test_certified_fold_compiles_once_per_capacity_bucket():
    w = jnp.asarray(pg.families.sample("low_rank", jax.random.key(3), 29, 3))
    pg.magnitude_prune(w, 1)  # validates w: its checks compile here, outside the counts
    pg.certified_fold(w, 3)  # compiles the bucket of capacity 16
    with count_compilations() as compiled:
        for k in (1, 5, 9, 15):
            pg.certified_fold(w, k, max_iter=50)
    assert compiled() == 0, compiled()


def test_certified_fold_under_vmap_matches_single_calls():
    ws = pg.families.sample_batch("heavy_tailed", jax.random.key(1), 3, 13, 4)
    batched = jax.vmap(lambda w: pg.certified_fold(w, 5))(ws)
    for b in range(3):
        single = pg.certified_fold(ws[b], 5)
        assert_close(batched.result.inertia[b], single.result.inertia, w=ws[b])
        assert batched.result.inertia[b] <= batched.prune_error[b]


@pytest.mark.parametrize("bad", [dict(score="l3"), dict(max_iter=0), dict(refine_iter=-1)])
def test_certified_fold_rejects_bad_options(bad):
    with pytest.raises(ValueError):
        pg.certified_fold(np.ones((4, 2)), 2, **bad)


@pytest.mark.parametrize("fn", [lambda w, key: pg.certified_fold(w, 2, key=key),
                                lambda w, key: pg.rank_sweep(w, [2], key=key)])
def test_an_int_seed_is_not_a_key(fn):
    with pytest.raises(TypeError, match="key"):
        fn(np.ones((4, 2)), 0)
