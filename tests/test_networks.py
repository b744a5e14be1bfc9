"""Networks: forward passes match their formulas; counts; magnitude bound; bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import activations, networks
from projgeo.tolerance import leq
from tests import strategies as S


@given(S.mlps(), S.activation_names(), st.data())
def test_mlp_is_the_composition_of_its_layers(net, name, data):
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    sig = activations.get(name)
    h = x
    for layer in net[:-1]:
        h = sig(layer.w @ h + (0 if layer.b is None else layer.b))
    want = net[-1].w @ h + (0 if net[-1].b is None else net[-1].b)
    got = networks.mlp(net, x, sig)
    assert got.shape == (net[-1].w.shape[0],)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)


@given(S.cnns(), st.data())
def test_conv_output_channel_is_its_flattened_row_dotted_with_each_patch(net, data):
    """Channels as rows: conv = W_r · patches with W_r of shape (c_out, c_in·kh·kw)."""
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    layer = net.convs[0]
    c_out, c_in, kh, kw = layer.w.shape
    patches = jax.lax.conv_general_dilated_patches(
        jnp.asarray(x)[None], (kh, kw), (1, 1), "SAME", dimension_numbers=networks.CONV_DIMS)[0]
    rows = layer.w.reshape(c_out, c_in * kh * kw)
    want = jnp.einsum("od,dhw->ohw", rows, patches)
    if layer.b is not None:
        want = want + layer.b[:, None, None]
    got = networks.conv(layer, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-10)


@given(S.gated_blocks(), S.activation_names(), st.data())
def test_gated_block_is_down_of_gate_times_up(net, name, data):
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    sig = activations.get(name)
    want = net.w_down @ (sig(net.w_gate @ x) * (net.w_up @ x))
    np.testing.assert_allclose(np.asarray(networks.gated(net, x, sig)), np.asarray(want),
                               rtol=1e-12, atol=1e-12)


@given(S.any_networks(), S.activation_names(), st.data())
def test_magnitude_bounds_every_output_entrywise(net, name, data):
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    act = activations.get(name)
    f = np.abs(np.asarray(networks.apply(net, x, act)))
    m = np.asarray(networks.magnitude(net, x, act.lipschitz, act.at_zero))
    assert np.all(leq(f, m, dtype=np.float64, scale=m, terms=64))


def test_counts_of_a_small_mlp_cnn_and_gated_block():
    key = jax.random.key(0)
    mlp = networks.init_mlp(key, (3, 4, 2))
    assert networks.count(mlp) == networks.Counts(3 * 4 + 4 + 4 * 2 + 2,
                                                  2 * 3 * 4 + 4 + 2 * 4 * 2 + 2)
    cnn = networks.init_cnn(key, (2, 4, 3), (3,), 2, bias=False)
    conv_macs = 3 * 2 * 9 * 12
    assert networks.count(cnn) == networks.Counts(3 * 2 * 9 + 2 * 36,
                                                  2 * conv_macs + 2 * 2 * 36)
    gated = networks.init_gated(key, 3, 4, 2)
    assert networks.count(gated) == networks.Counts(2 * 4 * 3 + 2 * 4,
                                                    4 * 4 * 3 + 4 + 2 * 2 * 4)


def test_init_follows_the_family_and_bias_options():
    net = networks.init_mlp(jax.random.key(1), (5, 6, 2), bias=False, family="zero_rows")
    assert all(layer.b is None for layer in net)
    assert net[0].w.shape == (6, 5) and net[1].w.shape == (2, 6)
    assert net[0].w.dtype == jnp.float64


def test_wrong_input_shape_is_a_value_error_naming_the_expected_shape():
    net = networks.init_mlp(jax.random.key(0), (3, 4, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(3,\)"):
        networks.mlp(net, jnp.zeros(4), jax.nn.relu)
    cnn = networks.init_cnn(jax.random.key(0), (2, 4, 3), (3,), 2)
    with pytest.raises(ValueError, match="x must be an image"):
        networks.cnn(cnn, jnp.zeros((2, 4, 4)), jax.nn.relu)


def test_not_a_network_is_a_type_error():
    with pytest.raises(TypeError, match="params must be an MLP"):
        networks.kind([1, 2])
    with pytest.raises(TypeError, match="params must be an MLP"):
        networks.count(())


def test_bad_sizes_are_value_errors():
    with pytest.raises(ValueError, match="sizes must be"):
        networks.init_mlp(jax.random.key(0), (3,))
    with pytest.raises(ValueError, match="sizes must be"):
        networks.init_mlp(jax.random.key(0), (3, 0, 2))
    with pytest.raises(ValueError, match="in_shape must be"):
        networks.init_cnn(jax.random.key(0), (2, 4), (3,), 2)
