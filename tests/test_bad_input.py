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


def test_unknown_norm():
    with pytest.raises(ValueError, match="norm must be one of"):
        pg.magnitude_prune(W, 2, norm="l3")


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
