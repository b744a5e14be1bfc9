"""C6: the physically compressed network computes exactly the projected full network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import FoldProjector, PruneProjector, activations, compress_network, networks
from projgeo.tolerance import close
from tests import strategies as S


def _outputs(net, projs, xs, act, **kw):
    """Outputs of the small and the projected full network, and the magnitude scale."""
    small = compress_network.compress(net, projs, **kw)
    full = compress_network.project(net, projs)

    def run(p):
        return np.asarray(jax.vmap(lambda x: networks.apply(p, x, act))(xs))

    scale = jax.vmap(lambda x: networks.magnitude(full, x, act.lipschitz, act.at_zero))(xs)
    return run(small), run(full), float(np.max(np.asarray(scale)))


def _same(a, b, scale):
    return bool(np.all(close(a, b, dtype=np.float64, scale=scale, terms=256)))


@given(S.any_networks(), S.activation_names(), st.booleans(), st.data())
def test_c6_folded_network_equals_projected_network_for_every_activation(net, name, every, data):
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net), how="fold", every=every))
    xs = data.draw(S.network_inputs(S.input_shape(net)))
    small, full, scale = _outputs(net, projs, xs, activations.get(name))
    assert _same(small, full, scale)


@given(S.any_networks(kinds=("mlp", "cnn")), S.activation_names(zero_at_zero=True),
       st.booleans(), st.data())
def test_c6_pruned_network_equals_projected_network_when_sigma_of_zero_is_zero(
        net, name, every, data):
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net), how="prune", every=every))
    xs = data.draw(S.network_inputs(S.input_shape(net)))
    small, full, scale = _outputs(net, projs, xs, activations.get(name))
    assert _same(small, full, scale)


@given(S.mlps(), S.activation_names(), st.data())
def test_c6_pruning_with_sigma_of_zero_absorbed_into_next_bias_equals_projection(net, name, data):
    """For σ(0) ≠ 0 the gap is exactly σ(0)·W_{l+1}(1 − 1_S) (zero when σ(0) = 0)."""
    act = activations.get(name)
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net), how="prune"))
    xs = data.draw(S.network_inputs(S.input_shape(net)))
    small, full, scale = _outputs(net, projs, xs, act, pruned_value=act.at_zero)
    assert _same(small, full, scale)


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_c6_pruning_differs_from_projection_when_sigma_of_zero_is_not_zero(name):
    """The expected counterexample: a pruned channel still emits σ(0) in the projected net."""
    net = networks.init_mlp(jax.random.key(3), (3, 4, 2))
    projs = (PruneProjector(jnp.array([0, 2]), 4),)
    xs = jnp.ones((1, 3))
    small, full, scale = _outputs(net, projs, xs, activations.get(name))
    assert not _same(small, full, scale)


@given(S.gated_blocks(), S.activation_names(), st.sampled_from(["prune", "fold"]), st.data())
def test_c6_gated_block_with_shared_partition_equals_projection_for_every_activation(
        net, name, how, data):
    """σ(C g) ⊙ (C u) = C(σ(g) ⊙ u); pruning too, since a pruned up row gives σ(0)·0 = 0."""
    (p,) = data.draw(S.layer_projectors(networks.hidden_widths(net), how=how))
    xs = data.draw(S.network_inputs(S.input_shape(net)))
    small, full, scale = _outputs(net, p, xs, activations.get(name))
    assert _same(small, full, scale)


@given(S.any_networks(), st.data())
def test_c6_compressed_layer_rows_expand_to_the_projected_rows(net, data):
    """``expand(compress([W b])) = P [W b]`` at a compressed layer whose input is not."""
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net), every=False))
    (i,) = [j for j, p in enumerate(projs) if p is not None]
    got = projs[i].expand(compress_network.layer_rows(compress_network.compress(net, projs), i))
    want = compress_network.layer_rows(compress_network.project(net, projs), i)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-300)


@given(S.mlps(), st.data())
def test_c6_counts_of_the_compressed_mlp_are_those_of_its_smaller_sizes(net, data):
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    small = compress_network.compress(net, projs)
    sizes = [net[0].w.shape[1]] + [p.rank for p in projs] + [net[-1].w.shape[0]]
    bias = net[0].b is not None
    params = sum(a * b + b * bias for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    flops = sum(2 * a * b + b * bias for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    assert networks.count(small) == networks.Counts(params, flops)
    assert networks.count(small).params <= networks.count(net).params


def test_wrong_number_of_projectors_is_a_value_error():
    net = networks.init_mlp(jax.random.key(0), (3, 4, 5, 2))
    with pytest.raises(ValueError, match="one projector .* per compressible layer, 2"):
        compress_network.compress(net, (FoldProjector(jnp.arange(4) % 2, 2),))


def test_projector_of_the_wrong_width_is_a_value_error():
    net = networks.init_mlp(jax.random.key(0), (3, 4, 2))
    with pytest.raises(ValueError, match="acts on n = 5 rows; layer 0 has 4"):
        compress_network.compress(net, (PruneProjector(jnp.array([0, 1]), 5),))


def test_non_projector_is_a_type_error_and_bad_layer_key_a_value_error():
    net = networks.init_mlp(jax.random.key(0), (3, 4, 2))
    with pytest.raises(TypeError, match="must be a PruneProjector, FoldProjector or None"):
        compress_network.project(net, (np.eye(4),))
    with pytest.raises(ValueError, match="got keys"):
        compress_network.project(net, {1: PruneProjector(jnp.array([0]), 2)})


def test_pruned_value_is_refused_outside_mlps():
    net = networks.init_gated(jax.random.key(0), 3, 4, 2)
    with pytest.raises(ValueError, match="pruned_value is supported for MLPs only"):
        compress_network.compress(net, PruneProjector(jnp.array([0, 1]), 4), pruned_value=0.5)
