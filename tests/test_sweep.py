"""rank_sweep: the error-versus-rank curve, certified at every k, compiled per bucket."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import projgeo as pg
from tests.helpers import assert_close, assert_leq, count_compilations


def _w(family, n, d, seed=0):
    w = jnp.asarray(pg.families.sample(family, jax.random.key(seed), n, d))
    pg.magnitude_prune(w, 1)  # validates w: its checks compile here, outside the counts
    return w


def test_rank_sweep_over_all_k_is_certified_at_every_k_and_matches_the_single_calls():
    w = _w("heavy_tailed", 19, 3)
    key = jax.random.key(0)
    s = pg.rank_sweep(w, key=key)
    np.testing.assert_array_equal(s.k, np.arange(1, 19))
    assert np.all(s.certified_error <= s.prune_error)  # bitwise, at every k
    for i, k in enumerate(s.k.tolist()):
        star = pg.magnitude_prune(w, k)
        assert_close(s.prune_error[i], pg.prune_error(w, star), w=w)
        assert_close(s.c3_error[i], pg.fold_error(w, pg.pruning_partition(star)), w=w)
        assert_leq(s.c3_error[i], s.prune_error[i], w=w)
        assert_close(s.certified_error[i], pg.certified_fold(w, k, key=key).result.inertia, w=w)
        assert_close(s.fold_error[i], pg.fold(w, k, key=key).inertia, w=w)


def test_rank_sweep_compiles_at_most_log2_n_plus_1_programs_for_all_k():
    n = 45
    w = _w("low_rank", n, 3, seed=1)
    with count_compilations() as compiled:
        pg.rank_sweep(w, key=jax.random.key(0))
    assert compiled() <= math.ceil(math.log2(n)) + 1, compiled()
    with count_compilations() as compiled:  # new ranks in compiled buckets: nothing new
        pg.rank_sweep(w, [3, 17, 40, 44, 2], key=jax.random.key(1), max_iter=20)
    assert compiled() == 0, compiled()


def test_rank_sweep_keeps_the_order_and_repeats_of_ks():
    w = _w("gaussian", 10, 2, seed=2)
    s = pg.rank_sweep(w, [7, 2, 7], key=jax.random.key(0))
    np.testing.assert_array_equal(s.k, [7, 2, 7])
    np.testing.assert_array_equal(s.prune_error[0], s.prune_error[2])


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_relative_errors_are_finite_and_scale_free_for_any_finite_weights(scale):
    w = np.asarray(_w("clustered", 10, 2, seed=3))
    ref = pg.rank_sweep(w, key=jax.random.key(0), relative=True)
    big = pg.rank_sweep(w * scale, key=jax.random.key(0), relative=True)
    for a, b in zip(ref[1:], big[1:], strict=True):
        assert np.all(np.isfinite(b))
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-15)
    assert np.all(big.certified_error <= big.prune_error)


@pytest.mark.parametrize("ks,err", [([0], ValueError), ([10], ValueError), ([1.5], TypeError),
                                    ([], ValueError)])
def test_rank_sweep_rejects_ranks_outside_1_to_n_minus_1(ks, err):
    with pytest.raises(err, match="ks"):
        pg.rank_sweep(np.ones((10, 2)), ks, key=jax.random.key(0))


def test_rank_sweep_brackets_the_optimum_with_its_lower_bound():
    """lower_bound ≤ OPT_fold(k) ≤ fold_error at every k (enumeration, n = 9)."""
    for fam in ("gaussian", "zero_rows", "extreme_scales"):
        w = _w(fam, 9, 3, seed=4)
        s = pg.rank_sweep(w, key=jax.random.key(0))
        opt = np.asarray(pg.exact_fold_path(w).inertia)[s.k - 1]
        assert np.all(s.lower_bound <= opt)
        assert np.all(s.lower_bound >= 0)
        assert np.all(s.fold_gap >= 0)  # the fold is never below a valid bound
        rel = pg.rank_sweep(w, key=jax.random.key(0), relative=True)
        np.testing.assert_allclose(rel.lower_bound * float(np.sum(np.asarray(w) ** 2)),
                                   s.lower_bound, rtol=1e-12, atol=0)


def test_float32_weights_are_swept_in_float32_with_x64_on():
    """No float64 value leaks into a float32 sweep (a scatter of float64 into float32 would
    round a lower bound to nearest, possibly upward; the suite turns its warning into an
    error)."""
    w = np.asarray(_w("heavy_tailed", 12, 3, seed=5), np.float32)
    s = pg.rank_sweep(w, key=jax.random.key(0))
    for name in ("prune_error", "c3_error", "certified_error", "fold_error", "lower_bound"):
        assert getattr(s, name).dtype == np.float32, name
    assert np.all(s.certified_error <= s.prune_error)
    assert np.all(s.lower_bound <= s.fold_error)
