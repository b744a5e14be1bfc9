"""C7: measured functional perturbations never exceed the Lipschitz bounds (a)–(e)."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import (
    FoldProjector,
    PruneProjector,
    activations,
    bounds,
    compress_network,
    fold,
    magnitude_prune,
    networks,
    pruning_partition,
)
from projgeo.tolerance import close, leq
from tests import strategies as S


def _leq(a, b, scale, terms=256):
    return bool(np.all(leq(np.asarray(a), np.asarray(b), dtype=np.float64,
                           scale=np.asarray(scale), terms=terms)))


@given(S.weights(), S.activation_names(), st.data())
def test_c7a_layer_perturbation_is_at_most_lipschitz_times_delta_norm_times_input(w, name,
                                                                                  data):
    n, d = w.shape
    (p,) = data.draw(S.layer_projectors((n,)))
    x = data.draw(S.network_inputs((d,), count=1))[0]
    act = activations.get(name)
    measured = jnp.linalg.norm(act(w @ x) - act(p.apply(w) @ x))
    dw = w - p.apply(w)
    spec = bounds.layer_bound(bounds.matrix_norm(dw), jnp.linalg.norm(x), act.lipschitz)
    fro = bounds.layer_bound(bounds.matrix_norm(dw, "frobenius"), jnp.linalg.norm(x),
                             act.lipschitz)
    scale = act.lipschitz * np.linalg.norm(w) * np.linalg.norm(x)
    assert _leq(measured, spec, scale) and _leq(spec, fro, fro)


def test_c7a_gelu_bound_is_attained_at_its_steepest_point():
    """Two rows folded to a mean at z = √2, where |GELU'| peaks: slack → 1 as δ → 0.

    With ``L = 1`` (the wrong constant) the bound fails here.
    """
    r2, delta = math.sqrt(2.0), 1e-4
    w = jnp.array([[r2 + delta], [r2 - 3 * delta]])
    p = FoldProjector(jnp.array([0, 0]), 1)
    gelu = activations.get("gelu")
    x = jnp.ones(1)
    measured = float(jnp.linalg.norm(gelu(w @ x) - gelu(p.apply(w) @ x)))
    dw_norm = float(bounds.matrix_norm(w - p.apply(w)))
    bound = bounds.layer_bound(dw_norm, 1.0, gelu.lipschitz)
    assert measured <= bound and measured / bound > 1 - 1e-6
    assert measured > bounds.layer_bound(dw_norm, 1.0, 1.0)


def _measured_and_bound(net, projs, x, act, *, one_layer=None, norm="spectral"):
    full = networks.mlp(net, x, act)
    chosen = projs if one_layer is None else {one_layer: projs[one_layer]}
    hat = networks.mlp(compress_network.project(net, chosen), x, act)
    nb = bounds.mlp_bound(net, projs, jnp.linalg.norm(x), act, norm=norm)  # σ as an Activation
    bound = nb.all_layers if one_layer is None else nb.one_layer[one_layer]
    return jnp.linalg.norm(full - hat), bound, nb.output, (full, hat)


@given(S.mlps(), S.activation_names(), st.data())
def test_c7b_one_compressed_layer_moves_the_output_at_most_bound_b(net, name, data):
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    layer = data.draw(st.integers(0, len(projs) - 1))
    m, b, out, _ = _measured_and_bound(net, projs, x, activations.get(name), one_layer=layer)
    assert _leq(m, b, out + b)


@given(S.mlps(), S.activation_names(), st.sampled_from(bounds.NORMS), st.data())
def test_c7c_every_compressed_layer_moves_the_output_at_most_bound_c_and_ce_by_sqrt2(
        net, name, norm, data):
    act = activations.get(name)
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    m, b, out, (full, hat) = _measured_and_bound(net, projs, x, act, norm=norm)
    assert _leq(m, b, out + b)
    label = data.draw(st.integers(0, full.shape[0] - 1))
    ce_gap = abs(bounds.cross_entropy(full, label) - bounds.cross_entropy(hat, label))
    assert _leq(ce_gap, bounds.ce_bound(m), math.sqrt(2) * out)
    assert _leq(ce_gap, bounds.ce_bound(b), math.sqrt(2) * out + b)


@given(S.mlps(bias=False), S.activation_names(zero_at_zero=True), st.data())
def test_c7bc_recursion_equals_theory_closed_forms_without_bias_and_sigma_zero(net, name, data):
    """(b) = L^{L−1} Π_{j≠l}||W_j|| ||ΔW_l|| ||x||.

    (c) = L^{L−1}||x|| Σ_l ||ΔW_l|| Π_{j≠l}||W_j||.
    """
    act = activations.get(name)
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    xn = 1.7
    nb = bounds.mlp_bound(net, projs, xn, act.lipschitz, act.at_zero)
    w = [float(bounds.matrix_norm(layer.w)) for layer in net]
    dw = [float(bounds.matrix_norm(layer.w - p.apply(layer.w))) for layer, p in
          zip(net, projs, strict=False)]
    depth = len(net)
    lip = act.lipschitz ** (depth - 1)
    others = [math.prod(w[:j] + w[j + 1:]) for j in range(len(dw))]
    for j in range(len(dw)):
        assert close(float(nb.one_layer[j]), lip * others[j] * dw[j] * xn, dtype=np.float64,
                     scale=float(nb.output) + 1e-300, terms=depth)
    assert close(float(nb.all_layers), lip * xn * sum(o * d for o, d in zip(others, dw,
                                                                               strict=True)),
                 dtype=np.float64, scale=float(nb.output) + 1e-300, terms=depth)


def test_c7bc_offsets_and_bias_augmentation_enter_as_documented():
    """σ(0) ≠ 0: a_{j+1} = L̃ ||W̃_j|| a_j + |σ(0)|√n_j with L̃ = max(L, 1), ||x̃|| = √(||x||²+1)."""
    net = networks.init_mlp(jax.random.key(5), (3, 4, 5, 2))
    projs = (PruneProjector(jnp.array([1, 3]), 4), FoldProjector(jnp.array([0, 1, 1, 0, 2]), 3))
    act = activations.get("sigmoid")
    nb = bounds.mlp_bound(net, projs, 2.0, act.lipschitz, act.at_zero)
    norms = [float(x) for x in bounds.layer_norms(net)]
    deltas = [float(x) for x in bounds.delta_norms(net, projs)]
    a0 = math.sqrt(5.0)
    a1 = norms[0] * a0 + 0.5 * 2.0  # L̃ = max(1/4, 1) = 1, offset 0.5·√4
    a2 = norms[1] * a1 + 0.5 * math.sqrt(5.0)
    want_c = deltas[0] * a0 * norms[1] * norms[2] + deltas[1] * a1 * norms[2]
    assert float(nb.all_layers) == pytest.approx(want_c, rel=1e-12)
    assert float(nb.one_layer[1]) == pytest.approx(deltas[1] * a1 * norms[2], rel=1e-12)
    assert float(nb.output) == pytest.approx(norms[2] * a2, rel=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_c7b_offset_sigma_of_zero_is_needed_at_zero_input(name):
    """x = 0, no bias: every hidden layer is σ(0)·1, so compressing layer 1 moves the output,
    while the bound without the offsets ``|σ(0)|√n_j`` would be 0."""
    act = activations.get(name)
    net = networks.init_mlp(jax.random.key(2), (3, 4, 5, 2), bias=False)
    projs = (None, FoldProjector(jnp.array([0, 1, 1, 0, 2]), 3))
    x = jnp.zeros(3)
    measured = float(jnp.linalg.norm(networks.mlp(net, x, act) - networks.mlp(
        compress_network.project(net, projs), x, act)))
    with_offsets = bounds.mlp_bound(net, projs, 0.0, act.lipschitz, act.at_zero)
    without = bounds.mlp_bound(net, projs, 0.0, act.lipschitz, 0.0)
    assert float(without.one_layer[1]) == 0.0 < measured <= float(with_offsets.one_layer[1])


@given(S.weights(), S.activation_names(), st.data())
def test_c7d_isotropic_inputs_give_exactly_frobenius_squared_and_at_most_l2_times_it(w, name,
                                                                                      data):
    """E over the Rademacher cube {±1}^d (E[xxᵀ] = I), by enumeration."""
    n, d = w.shape
    (p,) = data.draw(S.layer_projectors((n,)))
    act = activations.get(name)
    cube = jnp.asarray(list(itertools.product((-1.0, 1.0), repeat=d)))
    pw = p.apply(w)
    lin = jnp.mean(jnp.sum((cube @ (w - pw).T) ** 2, axis=1))
    nonlin = jnp.mean(jnp.sum((act(cube @ w.T) - act(cube @ pw.T)) ** 2, axis=1))
    fro = bounds.matrix_norm(w - pw, "frobenius")
    scale = float(np.sum(w * w)) * max(act.lipschitz**2, 1.0)
    assert close(float(lin), float(bounds.isotropic_bound(fro, 1.0)), dtype=np.float64,
                 scale=scale, terms=cube.size * n)
    assert _leq(nonlin, bounds.isotropic_bound(fro, act.lipschitz), scale, cube.size * n)


@given(st.lists(st.floats(-30, 30, allow_subnormal=False), min_size=2, max_size=6),
       st.data())
def test_c7e_cross_entropy_is_sqrt2_lipschitz_in_the_logits(z, data):
    z = np.asarray(z)
    z2 = z + np.asarray(data.draw(st.lists(st.floats(-5, 5, allow_subnormal=False),
                                           min_size=len(z), max_size=len(z))))
    y = data.draw(st.integers(0, len(z) - 1))
    gap = abs(float(bounds.cross_entropy(jnp.asarray(z), y) -
                    bounds.cross_entropy(jnp.asarray(z2), y)))
    assert _leq(gap, bounds.ce_bound(np.linalg.norm(z - z2)), 1 + np.max(np.abs(z2)), 8)


@given(S.mlps(sizes=(4, 6, 5, 3)), S.activation_names(), st.data())
def test_c7_frobenius_bound_of_certified_fold_k_plus_1_never_above_magnitude_prune_k(
        net, name, data):
    """C4 carried over: the Frobenius-form bound is monotone in E(P) = ||ΔW̃||_F²."""
    act = activations.get(name)
    widths = networks.hidden_widths(net)
    ks = [n // 2 for n in widths]  # fixed ranks and padded rows: few k-means compilations
    rows = [compress_network.layer_rows(net, j) for j in range(len(widths))]
    prune = tuple(magnitude_prune(r, k) for r, k in zip(rows, ks, strict=True))
    folded = tuple(
        FoldProjector(fold(jnp.pad(r, ((0, 0), (0, 8 - r.shape[1]))), k + 1,
                           init=pruning_partition(p).labels).labels, k + 1)
        for r, k, p in zip(rows, ks, prune, strict=True))
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    xn = jnp.linalg.norm(x)
    bp = bounds.mlp_bound(net, prune, xn, act.lipschitz, act.at_zero, norm="frobenius")
    bf = bounds.mlp_bound(net, folded, xn, act.lipschitz, act.at_zero, norm="frobenius")
    assert _leq(bf.all_layers, bp.all_layers, bp.all_layers)
    assert _leq(bf.one_layer, bp.one_layer, bp.one_layer)


@given(S.gated_blocks(), S.activation_names(), st.data())
def test_c7_gated_block_perturbation_is_at_most_gated_bound(net, name, data):
    act = activations.get(name)
    (p,) = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    x = data.draw(S.network_inputs(S.input_shape(net), count=1))[0]
    full = networks.gated(net, x, act)
    hat = networks.gated(compress_network.project(net, p), x, act)
    b = bounds.gated_bound(net, p, jnp.linalg.norm(x), act.lipschitz, act.at_zero)
    scale = jnp.linalg.norm(networks.magnitude(net, x, act.lipschitz, act.at_zero)) + b
    assert _leq(jnp.linalg.norm(full - hat), b, scale)


def test_a_network_without_hidden_layers_has_nothing_to_compress_and_zero_bounds():
    net = networks.init_mlp(jax.random.key(0), (3, 2))
    nb = bounds.mlp_bound(net, (), 1.0, 1.0)
    assert nb.one_layer.shape == (0,) and float(nb.all_layers) == 0.0


def test_bad_norm_layer_and_lengths_are_value_errors():
    net = networks.init_mlp(jax.random.key(0), (3, 4, 2))
    with pytest.raises(ValueError, match="norm must be one of"):
        bounds.mlp_bound(net, (None,), 1.0, 1.0, norm="nuclear")
    with pytest.raises(ValueError, match="layer must be a layer index"):
        bounds.one_layer_bound([1.0, 2.0], 0.1, 2, 1.0, 1.0)
    with pytest.raises(ValueError, match="expected 2 delta norms"):
        bounds.all_layers_bound([1.0, 2.0], [0.1], 1.0, 1.0)
    with pytest.raises(TypeError, match="expected an MLP"):
        bounds.mlp_bound(networks.init_gated(jax.random.key(0), 3, 4, 2), (None,), 1.0, 1.0)


@given(S.mlps(), S.activation_names(), st.data())
def test_c7_bounds_take_the_activation_or_its_two_constants_alike(net, act_name, data):
    """mlp_bound(…, act) = mlp_bound(…, L_σ, σ(0)): the Activation carries both constants."""
    act = activations.get(act_name)
    projs = data.draw(S.layer_projectors(networks.hidden_widths(net)))
    by_object = bounds.mlp_bound(net, projs, 1.5, act)
    by_name = bounds.mlp_bound(net, projs, 1.5, act_name)
    by_numbers = bounds.mlp_bound(net, projs, 1.5, act.lipschitz, act.at_zero)
    for other in (by_name, by_numbers):
        for field in ("all_layers", "one_layer", "output"):
            np.testing.assert_array_equal(np.asarray(getattr(by_object, field)),
                                          np.asarray(getattr(other, field)))
