"""Activations: Lipschitz constants (sharp), σ(0), the registry and its errors (C6, C7)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import activations
from projgeo.tolerance import leq
from tests import strategies as S

GRID = np.linspace(-40.0, 40.0, 160001)  # spacing 5e-4; contains 0, reaches the tails


def _sup_slope(name):
    f = activations.get(name).fn
    return float(jnp.max(jnp.abs(jax.vmap(jax.grad(f))(jnp.asarray(GRID)))))


@pytest.mark.parametrize("name", activations.NAMES)
def test_lipschitz_constant_bounds_every_slope_on_a_fine_grid(name):
    assert _sup_slope(name) <= activations.get(name).lipschitz


@pytest.mark.parametrize("name", activations.NAMES)
def test_lipschitz_constant_is_sharp(name):
    # The grid maximum is within (5e-4)²·|σ'''| of the supremum; 1e-6 leaves room.
    assert activations.get(name).lipschitz <= _sup_slope(name) * (1 + 1e-6)


def test_gelu_is_not_1_lipschitz_its_constant_is_phi_sqrt2_plus_exp_minus1_over_sqrt_pi():
    phi = 0.5 * (1 + math.erf(1.0))
    expected = phi + math.exp(-1.0) / math.sqrt(math.pi)
    assert activations.GELU_LIPSCHITZ > 1.1289
    assert abs(activations.GELU_LIPSCHITZ - expected) <= 4 * np.finfo(float).eps


def test_silu_constant_matches_its_stationary_point():
    assert abs(activations.SILU_LIPSCHITZ - 1.0998393) <= 1e-7


@given(st.sampled_from(activations.NAMES), st.floats(-50, 50, allow_subnormal=False),
       st.floats(-50, 50, allow_subnormal=False))
def test_every_secant_slope_is_at_most_the_lipschitz_constant(name, a, b):
    act = activations.get(name)
    gap = abs(float(act(jnp.float64(a))) - float(act(jnp.float64(b))))
    assert leq(gap, act.lipschitz * abs(a - b), dtype=np.float64, scale=1 + abs(a) + abs(b),
               terms=1)


@pytest.mark.parametrize("name", activations.NAMES)
def test_sigma_at_zero_is_as_registered(name):
    act = activations.get(name)
    assert float(act(jnp.zeros(()))) == pytest.approx(act.at_zero, abs=1e-15)
    assert act.zero_at_zero == (name not in ("sigmoid", "softplus"))


@given(S.activation_names(), st.lists(st.floats(-5, 5), min_size=1, max_size=5))
def test_switch_with_an_index_equals_the_named_activation(name, z):
    z = jnp.asarray(z)
    direct = activations.get(name)(z)
    switched = activations.switch(jnp.int32(activations.index(name)), z)
    np.testing.assert_array_equal(np.asarray(direct), np.asarray(switched))


def test_tables_follow_registry_order():
    lip, at0 = activations.lipschitz_table(), activations.at_zero_table()
    for i, name in enumerate(activations.NAMES):
        assert float(lip[i]) == activations.ACTIVATIONS[name].lipschitz
        assert float(at0[i]) == activations.ACTIVATIONS[name].at_zero


def test_unknown_activation_name_is_a_value_error():
    with pytest.raises(ValueError, match="act must be one of"):
        activations.get("swish")


def test_non_string_activation_is_a_type_error():
    with pytest.raises(TypeError, match="act must be an Activation"):
        activations.get(3)
