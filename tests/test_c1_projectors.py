"""C1: P_S and P_π are orthogonal projectors of rank k, applied implicitly."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from tests import strategies as S
from tests.helpers import assert_close, assert_leq


@st.composite
def projector_cases(draw):
    """(w, projector) with a pruning or folding projector of a drawn rank."""
    w = draw(S.weights())
    n = w.shape[0]
    k = draw(S.ranks(n))
    if draw(st.booleans()):
        p = pg.prune_projector(draw(S.keep_sets(n, k)), n)
    else:
        p = pg.fold_projector(draw(S.partitions(n, k)), k)
    return w, p


@given(projector_cases())
def test_c1_projector_is_symmetric_idempotent_with_trace_k(case):
    _, p = case
    P = np.asarray(p.matrix())
    assert_close(P, P.T, w=P, scale=1.0)
    assert_close(P @ P, P, w=P, scale=1.0)
    assert_close(np.trace(P), p.rank, w=P, scale=p.rank)


@given(projector_cases())
def test_c1_spectrum_is_zeros_and_k_ones(case):
    _, p = case
    eig = np.linalg.eigvalsh(np.asarray(p.matrix()))
    assert_close(np.minimum(np.abs(eig), np.abs(eig - 1)), 0.0, w=eig, scale=1.0)
    assert np.sum(eig > 0.5) == p.rank


@given(projector_cases())
def test_c1_implicit_application_equals_matrix_product(case):
    w, p = case
    expected = np.asarray(p.matrix()) @ w
    assert_close(p.apply(w), expected, w=w, scale=np.max(np.abs(w)))
    assert_close(p.expand(p.compress(w)), expected, w=w, scale=np.max(np.abs(w)))


@given(projector_cases())
def test_c1_physical_maps_compose_to_the_projector(case):
    _, p = case
    P = np.asarray(p.matrix())
    if isinstance(p, pg.PruneProjector):
        sel = np.asarray(p.selection())
        assert_close(sel @ sel.T, P, w=P, scale=1.0)
    else:
        c, m = np.asarray(p.assignment()), np.asarray(p.merge())
        assert_close(c @ m, P, w=P, scale=1.0)
        assert_close(m @ c, np.eye(p.k), w=P, scale=1.0)  # M is a left inverse of C


@given(projector_cases())
def test_c1_pythagoras_and_non_expansiveness(case):
    w, p = case
    pw = np.asarray(p.apply(w))
    assert_close(np.sum(w**2), np.sum(pw**2) + np.sum((w - pw) ** 2), w=w)
    assert_leq(np.sum(pw**2), np.sum(w**2), w=w)
    assert_leq(np.linalg.norm(pw, 2), np.linalg.norm(w, 2), w=w, scale=np.linalg.norm(w, 2))


@given(projector_cases())
def test_c1_ones_vector(case):
    _, p = case
    ones = np.ones(p.n)
    target = np.asarray(p.mask(), float) if isinstance(p, pg.PruneProjector) else ones
    assert_close(p.apply(ones), target, w=ones, scale=1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c1_application_keeps_dtype(dtype):
    w = np.arange(12, dtype=dtype).reshape(4, 3)
    for p in (pg.prune_projector([0, 2], 4), pg.fold_projector(np.array([0, 1, 0, 1]), 2)):
        assert p.apply(w).dtype == dtype and p.compress(w).dtype == dtype


def test_c1_fold_projector_averages_clusters():
    w = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    p = pg.fold_projector(np.array([0, 0, 1]), 2)
    np.testing.assert_array_equal(p.apply(w), [[2.0, 1.0], [2.0, 1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(p.merge(), [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])


def test_c1_projectors_work_under_jit_and_vmap():
    import jax

    ws = np.random.default_rng(0).normal(size=(3, 4, 2))
    p = pg.fold_projector(np.array([0, 1, 1, 0]), 2)
    out = jax.jit(jax.vmap(lambda w: p.apply(w)))(ws)
    np.testing.assert_allclose(out, np.einsum("ij,bjd->bid", p.matrix(), ws), rtol=1e-12)
