"""The matrix families: right shape and dtype, finite, deterministic in the key."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from projgeo import families

NAMES = sorted(families.FAMILIES)


@pytest.mark.parametrize("name", NAMES)
def test_family_shape_dtype_finite_and_deterministic(name):
    a = families.sample(name, jax.random.key(7), 9, 4)
    b = families.sample(name, jax.random.key(7), 9, 4)
    c = families.sample(name, jax.random.key(8), 9, 4)
    assert a.shape == (9, 4) and a.dtype == jnp.float64
    assert bool(jnp.all(jnp.isfinite(a)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    f32 = families.sample(name, jax.random.key(7), 9, 4, jnp.float32)
    assert f32.dtype == jnp.float32


def test_families_have_their_structure():
    key = jax.random.key(0)
    z = np.asarray(families.sample("zero_rows", key, 64, 5))
    assert 0 < np.sum(np.all(z == 0, axis=1)) < 64
    e = np.linalg.norm(np.asarray(families.sample("extreme_scales", key, 64, 5)), axis=1)
    assert e.max() / e.min() > 1e6
    nd = np.asarray(families.sample("near_duplicate", key, 30, 5))
    dists = np.linalg.norm(nd[:, None] - nd[None], axis=-1) + np.eye(30)
    assert np.min(dists) < 1e-4
    lr = np.asarray(families.sample("low_rank", key, 40, 16))
    s = np.linalg.svd(lr, compute_uv=False)
    assert s[2] / s[0] < 0.2  # rank 2 plus 5 % noise
    sp = np.asarray(families.sample("sparse", key, 40, 16))
    assert 0.1 < np.mean(sp != 0) < 0.3


def test_sample_batch_matches_vmap_shapes():
    ws = families.sample_batch("clustered", jax.random.key(1), 3, 6, 2)
    assert ws.shape == (3, 6, 2)
    assert not np.array_equal(ws[0], ws[1])


def test_shifted_rows_are_an_offset_plus_unit_noise():
    ws = np.asarray(families.sample_batch("shifted", jax.random.key(0), 64, 32, 4))
    c = ws.mean(axis=(1, 2))
    assert np.all(c > 0.5) and np.max(c) > 1e6 and np.max(c) <= 1e8 * 1.01
    spread = (ws - c[:, None, None]).std(axis=(1, 2))
    assert np.all(np.abs(spread - 1.0) < 0.3)


@pytest.mark.parametrize("name", sorted(families._FLAT_FAMILIES))
def test_small_samples_are_bitwise_the_family_at_their_shape(name):
    """The size-bucketed sampler of small shapes (one program for every row count) returns
    exactly ``FAMILIES[name](key, n, d)`` compiled at (n, d) with the samplers' compiler
    options (the per-shape program): the prefix property of the draws, not an
    approximation. (Compiled with other options, XLA may round the same expression apart.)"""
    for n, d, dtype, seed in ((1, 3, jnp.float64, 0), (5, 3, jnp.float64, 1),
                              (12, 3, jnp.float64, 2), (7, 2, jnp.float32, 3)):
        key = jax.random.key(seed)
        want = np.asarray(families._draw_compiled(key, family=name, batch=None, n=n, d=d,
                                                  dtype=jnp.dtype(dtype)))
        got = np.asarray(families.sample(name, key, n, d, dtype))
        assert got.dtype == want.dtype and got.shape == (n, d)
        np.testing.assert_array_equal(got, want, err_msg=f"{name} {n}×{d} {dtype}")
    batch = np.asarray(families.sample_batch(name, jax.random.key(4), 3, 6, 3))
    want = np.asarray(families._draw_compiled(jax.random.key(4), family=name, batch=3, n=6, d=3,
                                              dtype=jnp.dtype(jnp.float64)))
    np.testing.assert_array_equal(batch, want)
