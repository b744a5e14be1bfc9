"""Bad input gets a clear TypeError/ValueError naming the argument, never NaN or XLA errors."""

import jax
import numpy as np
import pytest

import projgeo as pg

W = np.arange(12.0).reshape(4, 3)
KEY = jax.random.key(0)


@pytest.mark.parametrize(
    "w, match",
    [
        (np.arange(4.0), "w must be a 2-D"),
        (np.zeros((2, 2, 2)), "w must be a 2-D"),
        (np.zeros((0, 3)), "empty shape"),
        (np.zeros((3, 0)), "empty shape"),
        (np.array([[1.0, np.nan]]), "finite"),
        (np.array([[1.0, np.inf]]), "finite"),
        (np.array([[1.0], [-np.inf]]), "finite"),
    ],
)
@pytest.mark.parametrize("call", ["prune", "fold", "scores"])
def test_bad_weights_raise_value_error(w, match, call):
    with pytest.raises(ValueError, match=match):
        if call == "prune":
            pg.magnitude_prune(w, 1)
        elif call == "fold":
            pg.fold(w, 1, key=KEY)
        else:
            pg.row_scores(w)


@pytest.mark.parametrize("w", [np.ones((3, 2), int), np.ones((3, 2), bool),
                               np.ones((3, 2), complex)])
def test_non_floating_weights_raise_type_error(w):
    with pytest.raises(TypeError, match="w must be .*dtype"):
        pg.magnitude_prune(w, 1)
    with pytest.raises(TypeError, match="w must be"):
        pg.fold(w, 1, key=KEY)


def test_non_array_weights_raise_type_error():
    with pytest.raises(TypeError, match="w must be"):
        pg.magnitude_prune("weights", 1)


@pytest.mark.parametrize("k", [0, -1, 5])
def test_k_out_of_range(k):
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, n\] = \[1, 4\]"):
        pg.magnitude_prune(W, k)
    with pytest.raises(ValueError, match="k must be"):
        pg.fold(W, k, key=KEY)


@pytest.mark.parametrize("k", [1.5, "2", None, True])
def test_k_of_wrong_type(k):
    with pytest.raises(TypeError, match="k must be an integer"):
        pg.magnitude_prune(W, k)


def test_unknown_pruning_score():
    with pytest.raises(ValueError, match=r"score must be one of \('l2', 'l1'\)"):
        pg.magnitude_prune(W, 2, score="l3")
    with pytest.raises(TypeError, match="norm"):  # norm= is a matrix norm, not a pruning score
        pg.magnitude_prune(W, 2, norm="l2")


@pytest.mark.parametrize(
    "labels, k, exc, match",
    [
        (np.array([0, 1, 2, 3]), 3, ValueError, r"values in \[0, 3\]"),
        (np.array([0, -1, 1, 1]), 2, ValueError, "values in"),
        (np.array([], np.int32), 1, ValueError, "shape"),
        (np.array([0, 1, 1]), 4, ValueError, r"k must be an integer in \[1, n\] = \[1, 3\]"),
        (np.array([[0, 1, 1, 0]]), 2, ValueError, "shape"),
        (np.array([0, 0, 0, 0]), 2, ValueError, r"leaves cluster\(s\) \[1\] empty"),
        (np.array([0.0, 1.0, 1.0, 0.0]), 2, TypeError, "integer"),
    ],
)
def test_bad_labels(labels, k, exc, match):
    with pytest.raises(exc, match=match):
        pg.fold_projector(labels, k)


def test_bad_init_labels_for_fold():
    with pytest.raises(ValueError, match="init must be"):
        pg.fold(W, 2, init=np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="init must be"):
        pg.fold(W, 2, init=np.array([0, 1]))
    with pytest.raises(TypeError, match="init must be"):
        pg.fold(W, 2, init=np.array([0.0, 1.0, 0.0, 1.0]))


def test_fold_needs_a_key_or_init():
    with pytest.raises(ValueError, match="key="):
        pg.fold(W, 2)


@pytest.mark.parametrize("kw, match", [({"max_iter": 0}, "max_iter"),
                                       ({"refine_iter": -1}, "refine_iter"),
                                       ({"tol": -0.1}, "tol"), ({"tol": 1.0}, "tol"),
                                       ({"n_local_trials": 0}, "n_local_trials")])
def test_bad_fold_options(kw, match):
    with pytest.raises(ValueError, match=match):
        pg.fold(W, 2, key=KEY, **kw)


@pytest.mark.parametrize(
    "keep, exc, match",
    [
        (np.array([0, 0]), ValueError, "repeated"),
        (np.array([0, 4]), ValueError, "outside"),
        (np.array([], int), ValueError, "len"),
        (np.array([[0, 1]]), ValueError, "1-D"),
        (np.array([0.0, 1.0]), TypeError, "integer"),
    ],
)
def test_bad_keep_sets(keep, exc, match):
    with pytest.raises(exc, match=match):
        pg.prune_projector(keep, 4)


def test_projector_and_matrix_shape_mismatch():
    p = pg.prune_projector([0, 1], 4)
    q = pg.fold_projector(np.array([0, 1, 1, 0]), 2)
    for f in (p.apply, q.apply, p.compress, q.compress):
        with pytest.raises(ValueError, match="Shape mismatch"):
            f(np.ones((5, 3)))
    for err in (pg.prune_error, pg.projection_error):
        with pytest.raises(ValueError, match="Shape mismatch"):
            err(np.ones((5, 3)), p)
    with pytest.raises(ValueError, match="Shape mismatch"):
        q.expand(np.ones((3, 3)))
    with pytest.raises(TypeError, match="floating"):
        p.apply(np.ones((4, 3), int))


def test_c3_needs_k_below_n():
    p = pg.prune_projector([0, 1, 2, 3], 4)
    with pytest.raises(ValueError, match="k < n"):
        pg.pruning_partition(p)
    with pytest.raises(ValueError, match="k < n"):
        pg.c3_gain(W, p)


def test_dense_matrix_refused_for_huge_n():
    p = pg.prune_projector([0], 10**5)
    with pytest.raises(ValueError, match="MAX_DENSE_N"):
        p.matrix()


def test_unknown_family():
    with pytest.raises(ValueError, match="family must be one of"):
        pg.families.sample("cauchy", KEY, 3, 2)
    with pytest.raises(ValueError, match="n and d"):
        pg.families.sample("gaussian", KEY, 0, 2)


# ---------------------------------------------------------------------------
# One validation layer for every public function (issue 11): exact solvers, projector types,
# bounds, networks, keys.


@pytest.mark.parametrize("call", ["exact_fold", "exact_fold_path", "exact_prune",
                                  "exact_prune_path", "brute_force_fold"])
@pytest.mark.parametrize("w, exc, match", [
    (np.ones(4), ValueError, r"w must be a non-empty \(n, d\)"),
    (np.ones((0, 3)), ValueError, r"w must be a non-empty \(n, d\)"),
    (np.ones((2, 2, 2, 2)), ValueError, r"w must be a non-empty \(n, d\)"),
    (np.ones((3, 2), int), TypeError, "w must be a floating"),
    (np.array([[1.0, np.nan]]), ValueError, "w must be finite"),
    ("abc", TypeError, "w must be a floating"),
])
def test_exact_solvers_validate_w_first(call, w, exc, match):
    from projgeo import exact
    from projgeo.exact import reference as exact_reference
    fn = {"exact_fold": lambda w: exact.exact_fold(w, 1),
          "exact_fold_path": exact.exact_fold_path,
          "exact_prune": lambda w: exact.exact_prune(w, 1),
          "exact_prune_path": exact.exact_prune_path,
          "brute_force_fold": lambda w: exact_reference.brute_force_fold(w, 1)}[call]
    with pytest.raises(exc, match=match):
        fn(w)


def test_errors_check_the_projector_type():
    p = pg.prune_projector([0, 1], 4)
    q = pg.fold_projector(np.array([0, 1, 1, 0]), 2)
    with pytest.raises(TypeError, match="fold_error: p must be a FoldProjector"):
        pg.fold_error(W, p)
    with pytest.raises(TypeError, match="prune_error: p must be a PruneProjector"):
        pg.prune_error(W, q)
    for f in (pg.c3_gain, pg.pruned_mean):
        with pytest.raises(TypeError, match="p must be a PruneProjector"):
            f(W, q)
    with pytest.raises(TypeError, match="p must be a PruneProjector"):
        pg.pruning_partition(q)
    with pytest.raises(TypeError, match="p must be a PruneProjector or FoldProjector"):
        pg.projection_error(W, np.eye(4))


@pytest.mark.parametrize("key", [0, 1.5, "key", np.zeros(3), None])
def test_keys_must_be_jax_random_keys(key):
    from projgeo import networks
    for call in (lambda: pg.families.sample("gaussian", key, 3, 2),
                 lambda: pg.families.sample_batch("gaussian", key, 2, 3, 2),
                 lambda: networks.init_mlp(key, (3, 4)),
                 lambda: networks.init_gated(key, 3, 4, 2),
                 lambda: networks.init_cnn(key, (1, 2, 2), (2,), 2)):
        with pytest.raises(TypeError, match="key must be a jax.random key"):
            call()


def test_legacy_uint32_keys_are_accepted():
    a = pg.families.sample("gaussian", jax.random.PRNGKey(0), 3, 2)
    assert a.shape == (3, 2)


def _mlp():
    from projgeo import networks
    return networks.init_mlp(KEY, (4, 5, 3))


@pytest.mark.parametrize("kw, match", [
    ({"x_norm": -1.0}, "x_norm must be finite and ≥ 0"),
    ({"lipschitz": -0.5}, "lipschitz must be finite and ≥ 0"),
    ({"x_norm": np.inf}, "x_norm must be finite"),
    ({"at_zero": np.nan}, "at_zero must be a finite"),
])
def test_mlp_bound_refuses_negative_or_non_finite_norms(kw, match):
    from projgeo import bounds
    net = _mlp()
    args = {"x_norm": 1.0, "lipschitz": 1.0, "at_zero": 0.0} | kw
    p = pg.magnitude_prune(net[0].w, 2)
    with pytest.raises(ValueError, match=match):
        bounds.mlp_bound(net, [p], **args)
    gated = pg.networks.init_gated(KEY, 3, 4, 2)
    with pytest.raises(ValueError, match=match):
        bounds.gated_bound(gated, pg.magnitude_prune(gated.w_gate, 2), **args)


def test_bounds_refuse_a_second_sigma_0_beside_an_activation():
    from projgeo import bounds
    net = _mlp()
    p = pg.magnitude_prune(net[0].w, 2)
    with pytest.raises(ValueError, match="at_zero must be left out when an activation is given"):
        bounds.mlp_bound(net, [p], 1.0, "sigmoid", 0.5)
    with pytest.raises(ValueError,
                       match="lipschitz must be L_σ .a number., an Activation or one of"):
        bounds.mlp_bound(net, [p], 1.0, "no-such-sigma")


@pytest.mark.parametrize("call", [
    lambda b: b.layer_bound(-1.0, 1.0, 1.0), lambda b: b.layer_bound(1.0, 1.0, -1.0),
    lambda b: b.ce_bound(-0.1), lambda b: b.isotropic_bound(-1.0, 1.0),
    lambda b: b.one_layer_bound([1.0, 1.0], -1.0, 0, 1.0, 1.0),
    lambda b: b.all_layers_bound([1.0, -1.0], [0.1, 0.1], 1.0, 1.0),
    lambda b: b.input_bounds([1.0], -2.0, 1.0),
])
def test_bound_formulas_refuse_negative_inputs(call):
    from projgeo import bounds
    with pytest.raises(ValueError, match="must be finite and ≥ 0"):
        call(bounds)


def test_networks_whose_layers_do_not_chain_are_refused():
    from projgeo import bounds, compress_network, networks
    net = _mlp()
    bad = (net[0], networks.Dense(np.ones((3, 4)), None))  # layer 0 has 5 outputs
    p = pg.magnitude_prune(net[0].w, 2)
    for call in (lambda: compress_network.project(bad, [p]),
                 lambda: compress_network.compress(bad, [p]),
                 lambda: bounds.mlp_bound(bad, [p], 1.0, 1.0),
                 lambda: networks.mlp(bad, np.ones(4), jax.nn.relu)):
        with pytest.raises(ValueError, match="layer shapes do not chain"):
            call()
    with pytest.raises(ValueError, match=r"params\[0\].b must be None or of shape \(5,\)"):
        compress_network.project((networks.Dense(net[0].w, np.ones(4)), net[1]), [p])
    g = networks.init_gated(KEY, 3, 4, 2)
    with pytest.raises(ValueError, match="w_down must read"):
        compress_network.project(networks.Gated(g.w_gate, g.w_up, np.ones((2, 5))),
                                 pg.magnitude_prune(g.w_gate, 2))
    c = networks.init_cnn(KEY, (1, 2, 2), (2, 3), 2)
    with pytest.raises(ValueError, match="do not chain"):
        compress_network.project(networks.CNN((c.convs[1], c.convs[0]), c.head), [None, None])


def test_spectral_norm_options_and_dtypes():
    from projgeo import spectral
    with pytest.raises(ValueError, match="exact_max must be an int"):
        spectral.spectral_norm(W, exact_max=-1)
    with pytest.raises(TypeError, match="a must be"):
        spectral.spectral_norm(np.ones((2, 2), int))
    assert spectral.spectral_norm(W.astype(np.float16)).upper.dtype == np.float16


@pytest.mark.parametrize("bad, err", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                      (True, TypeError)])
def test_iteration_caps_get_a_count_message_not_a_rank_message(bad, err):
    """max_iter is a count (≥ 1), not a rank in [1, n]: the message says so."""
    w = np.ones((4, 2))
    for call in (lambda: pg.fold(w, 2, key=jax.random.key(0), max_iter=bad),
                 lambda: pg.certified_fold(w, 2, max_iter=bad),
                 lambda: pg.fold_lower_bound(w, 2, method="sdp", max_iter=bad)):
        with pytest.raises(err, match=r"max_iter must be an integer ≥ 1") as info:
            call()
        assert "[1, n]" not in str(info.value)
