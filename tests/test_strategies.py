"""The strategies make what they promise (so that the properties test what they claim)."""

import jax
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as S


@given(S.weights())
def test_weights_are_finite_2d_float64(w):
    assert w.ndim == 2 and w.shape[0] in S.ROWS and w.shape[1] in S.COLS
    assert w.dtype == np.float64 and np.all(np.isfinite(w))


@given(S.weights(dtype=np.float32))
def test_float32_weights_keep_their_dtype(w):
    assert w.dtype == np.float32 and np.all(np.isfinite(w))


@given(st.sampled_from(S.FAMILY_NAMES), st.data())
def test_every_family_can_be_drawn(family, data):
    w = data.draw(S.family_matrices(family=family, shape=(5, 3)))
    assert w.shape == (5, 3) and np.all(np.isfinite(w))


@given(st.data())
def test_partitions_use_every_cluster(data):
    n = data.draw(st.integers(1, 12))
    k = data.draw(S.ranks(n))
    labels = data.draw(S.partitions(n, k))
    assert labels.shape == (n,) and set(labels.tolist()) == set(range(k))


@given(st.data())
def test_keep_sets_are_distinct_sorted_indices(data):
    n = data.draw(st.integers(1, 12))
    k = data.draw(S.ranks(n))
    keep = data.draw(S.keep_sets(n, k))
    assert len(set(keep.tolist())) == k and np.all(np.diff(keep) > 0) and keep.max() < n


@given(S.problems(proper=True))
def test_proper_problems_have_k_below_n(problem):
    w, k = problem
    assert 1 <= k < w.shape[0]


@given(S.hard_weights(rows=(2, 5), cols=(1, 3)))
def test_hard_weights_are_finite_and_respect_the_buckets(w):
    assert w.shape[0] in (2, 5) and w.shape[1] in (1, 3)
    assert w.dtype == np.float64 and np.all(np.isfinite(w))


@given(S.weights(rows=(4, 10), cols=(2,)))
def test_weights_respect_row_and_column_buckets(w):
    assert w.shape[0] in (4, 10) and w.shape[1] == 2
@given(S.any_networks())
def test_networks_have_bucketed_shapes_that_chain(net):
    from projgeo import networks

    kind = networks.kind(net)
    if kind == "mlp":
        sizes = (net[0].w.shape[1],) + tuple(layer.w.shape[0] for layer in net)
        assert sizes in S.MLP_SIZES
        assert all(a.w.shape[0] == b.w.shape[1] for a, b in zip(net[:-1], net[1:], strict=True))
    elif kind == "gated":
        assert (net.w_gate.shape[1], net.w_gate.shape[0], net.w_down.shape[0]) in S.GATED_SHAPES
    assert all(np.all(np.isfinite(np.asarray(a))) for a in jax.tree.leaves(net))
    assert len(S.input_shape(net)) in (1, 3)


@given(st.data())
def test_layer_projectors_fit_the_widths(data):
    widths = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))
    every = data.draw(st.booleans())
    projs = data.draw(S.layer_projectors(tuple(widths), every=every))
    assert len(projs) == len(widths)
    assert sum(p is not None for p in projs) == (len(widths) if every else 1)
    for p, n in zip(projs, widths, strict=True):
        assert p is None or (p.n == n and 1 <= p.rank <= n)


@given(S.network_inputs((4,)))
def test_network_inputs_are_zero_or_between_1e_3_and_10(x):
    a = np.abs(x)
    assert x.shape == (3, 4) and np.all((a == 0) | ((a >= 1e-3) & (a <= 10)))


@given(S.shifted_matrices())
def test_shifted_matrices_sit_far_from_the_origin_relative_to_their_spread(w):
    offset = np.abs(np.mean(w))
    assert offset >= 1e2 - 1 and np.max(np.abs(w - np.mean(w))) <= 2.0 + 1e-6 * offset


@given(S.weight_batches(sizes=(2,), rows=(3,), cols=(2,)))
def test_weight_batches_are_finite_3d_batches_of_the_bucketed_shape(ws):
    assert ws.shape == (2, 3, 2) and ws.dtype == np.float64
    assert np.all(np.isfinite(ws))
