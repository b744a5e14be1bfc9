"""Extreme magnitudes and dtypes: a correct answer or a clear error, never a silent wrong one.

Pruning ranks rows exactly at any finite scale; errors, exact optima and spectral brackets are
computed on copies rescaled by a power of two (exact); float64 with x64 off, int64 labels out
of the int32 range and half precision are handled as documented in the README (Reliability).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from projgeo import exact, spectral
from projgeo.exact import reference as exact_reference
from tests import strategies as S


@pytest.fixture
def x64_off():
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("w, keep", [
    (np.array([[1e-20], [3e-20], [2e-20]], np.float32), [1]),
    (np.array([[300], [200], [400]], np.float16), [2]),
    (np.array([[1e-300], [3e-300], [2e-300]]), [1]),
    (np.array([[1e300, 1e300], [3e300, 0.0], [2e300, 0.0]]), [1]),
    (np.array([[1e-30], [1e30], [3e-30], [0.0]], np.float32), [1, 2]),
])
def test_magnitude_prune_ranks_rows_at_extreme_scales(w, keep):
    np.testing.assert_array_equal(pg.magnitude_prune(w, len(keep)).keep, keep)


def test_magnitude_prune_bfloat16():
    w = jnp.array([[300.0], [200.0], [400.0]], jnp.bfloat16)
    np.testing.assert_array_equal(pg.magnitude_prune(w, 2).keep, [0, 2])


@given(S.problems(), st.integers(-900, 900), st.sampled_from(["l2", "l1"]))
def test_magnitude_prune_is_invariant_under_power_of_two_scaling(problem, shift, norm):
    w, k = problem
    ws = np.ldexp(w, shift)
    if not np.all(np.isfinite(ws)) or (np.any(w) and not np.any(ws)):
        return  # out of float64's range altogether
    if np.any((w != 0) & (ws == 0)) or np.any(np.abs(ws[ws != 0]) < np.finfo(float).tiny):
        return  # some entry became subnormal: ranks may legitimately change
    np.testing.assert_array_equal(pg.magnitude_prune(ws, k, score=norm).keep,
                                  pg.magnitude_prune(w, k, score=norm).keep)


def test_errors_do_not_underflow_when_the_result_is_representable():
    w = np.full((40, 25), 1e-20, np.float32)  # squares 1e-40 flush to 0; the sum 9.75e-38 does not
    p = pg.prune_projector([0], 40)
    np.testing.assert_allclose(pg.prune_error(w, p), 39 * 25 * 1e-40, rtol=1e-5)
    np.testing.assert_allclose(pg.projection_error(w, p), 39 * 25 * 1e-40, rtol=1e-5)
    w2 = w.copy()
    w2[1::2] *= 3.0
    q = pg.fold_projector(np.arange(40) % 2, 2)
    assert float(pg.fold_error(w2, q)) == 0.0
    q = pg.fold_projector(np.r_[0, np.ones(39, int)], 2)
    expect = np.sum((w2[1:].astype(float) - w2[1:].astype(float).mean(0)) ** 2)
    np.testing.assert_allclose(pg.fold_error(w2, q), expect, rtol=1e-4)


@pytest.mark.parametrize("shift", [-600, 0, 500])
def test_exact_solvers_find_the_same_partition_at_any_scale(shift):
    w = np.asarray(jax.random.normal(jax.random.key(3), (7, 3)), float)
    ws = np.ldexp(w, shift)
    ref = exact.exact_fold_path(w)
    got = exact.exact_fold_path(ws)
    np.testing.assert_array_equal(got.labels, ref.labels)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(got.inertia, np.ldexp(np.asarray(ref.inertia), 2 * shift),
                                   rtol=1e-12)
        np.testing.assert_allclose(exact.exact_prune_path(ws),
                                   np.ldexp(np.asarray(exact.exact_prune_path(w)), 2 * shift),
                                   rtol=1e-12)
    np.testing.assert_array_equal(exact_reference.brute_force_fold(ws[:6], 3).labels,
                                  exact_reference.brute_force_fold(w[:6], 3).labels)
    np.testing.assert_array_equal(exact_reference.fold_1d_path(ws[:, :1]).labels,
                                  exact_reference.fold_1d_path(w[:, :1]).labels)


@pytest.mark.parametrize("a, exact_max", [
    (np.full((2, 2), 1e-20, np.float32), 0),
    (np.full((2, 2), 1e-20, np.float32), 512),
    (np.full((3, 2), 1e19, np.float32), 0),
    (np.asarray(jax.random.normal(jax.random.key(1), (5, 4))) * 1e-154, 0),
    (np.asarray(jax.random.normal(jax.random.key(1), (5, 4))) * 1e-300, 512),
    (np.asarray(jax.random.normal(jax.random.key(1), (5, 4))) * 1e300, 0),
    (np.asarray(jax.random.normal(jax.random.key(2), (600, 600)), np.float32) * 1e9, 512),
])
def test_spectral_bracket_holds_at_extreme_scales(a, exact_max):
    true = np.linalg.norm(a.astype(np.float64) / np.abs(a).max(), 2) * np.abs(a).max().astype(
        float)
    b = spectral.spectral_norm(a, exact_max=exact_max)
    lo, up = float(b.lower), float(b.upper)
    assert np.isfinite(lo) and np.isfinite(up)
    assert lo <= true * (1 + 1e-6) and up >= true * (1 - 1e-12), (lo, true, up)
    assert up <= 1.5 * true and lo >= 0.5 * true


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
@pytest.mark.parametrize("exact_max", [0, 512])
def test_spectral_norm_of_half_precision_brackets_the_true_norm(dtype, exact_max):
    a = jnp.asarray(jax.random.normal(jax.random.key(0), (6, 5)) * 300.0, dtype)
    true = np.linalg.norm(np.asarray(a, np.float64), 2)
    b = spectral.spectral_norm(a, exact_max=exact_max)
    assert b.upper.dtype == dtype and b.lower.dtype == dtype
    assert float(b.lower) <= true <= float(b.upper)


def test_float64_with_x64_off_is_float32_or_a_clear_error(x64_off):
    w = np.array([[1.0, 2.0], [3.0, 0.5], [0.1, 0.1]])
    np.testing.assert_array_equal(pg.magnitude_prune(w, 1).keep, [1])
    assert pg.prune_error(w, pg.magnitude_prune(w, 1)).dtype == jnp.float32
    for bad in (w * 1e300, w * 1e-300):
        with pytest.raises(ValueError, match="jax_enable_x64"):
            pg.magnitude_prune(bad, 1)
        with pytest.raises(ValueError, match="jax_enable_x64"):
            spectral.spectral_norm(bad)


@pytest.mark.parametrize("call", [
    lambda: pg.fold_projector(np.array([0, 1, 2**32], np.int64), 2),
    lambda: pg.prune_projector(np.array([2**32 + 3], np.int64), 6),
    lambda: pg.fold(np.ones((3, 2)), 2, init=np.array([0, 1, 2**32], np.int64)),
    lambda: pg.fold_projector(np.array([0, 1, -(2**32)], np.int64), 2),
])
def test_int64_indices_outside_int32_are_refused_not_wrapped(call):
    with pytest.raises(ValueError, match=r"values .*42949672"):
        call()


def test_int64_indices_outside_int32_are_refused_with_x64_off(x64_off):
    with pytest.raises(ValueError, match="values in"):
        pg.fold_projector(np.array([0, 1, 2**32], np.int64), 2)
    with pytest.raises(ValueError, match="values"):
        pg.prune_projector(np.array([2**32 + 3], np.int64), 6)
