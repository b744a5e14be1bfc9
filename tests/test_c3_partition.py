"""C3: E_fold(π_S) = E_prune(S) − (n−k)||μ||², with equality iff the pruned rows sum to 0."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import projgeo as pg
from projgeo.exact.reference import rational_c3_terms
from tests import strategies as S
from tests.helpers import assert_close, assert_leq


@st.composite
def pruned_cases(draw, proper=True):
    w, k = draw(S.problems(proper=proper))
    n = w.shape[0]
    if draw(st.booleans()):
        return w, pg.magnitude_prune(w, k)
    return w, pg.prune_projector(draw(S.keep_sets(n, k)), n)


@given(pruned_cases())
def test_c3_pruning_partition_identity(case):
    w, p = case
    e_fold = pg.fold_error(w, pg.pruning_partition(p))
    assert_close(e_fold, pg.prune_error(w, p) - pg.c3_gain(w, p), w=w)
    assert_leq(e_fold, pg.prune_error(w, p), w=w)


@given(pruned_cases())
def test_c3_pruning_partition_has_k_plus_one_clusters(case):
    w, p = case
    q = pg.pruning_partition(p)
    labels = np.asarray(q.labels)
    assert q.k == p.rank + 1 and set(labels.tolist()) == set(range(p.rank + 1))
    np.testing.assert_array_equal(labels[np.asarray(p.keep)], np.arange(p.rank))


@given(pruned_cases())
def test_c3_equality_when_pruned_rows_sum_to_zero(case):
    w, p = case
    mask = np.asarray(p.mask())
    w = w.copy()
    w[~mask] -= w[~mask].mean(axis=0)
    assert_close(pg.fold_error(w, pg.pruning_partition(p)), pg.prune_error(w, p), w=w)


@given(S.integer_pruning_cases())
def test_c3_identity_in_exact_rational_arithmetic(case):
    w, keep = case
    e = rational_c3_terms(w, keep)
    assert e["fold"] == e["prune"] - e["gain"]
    assert (e["fold"] == e["prune"]) == e["zero_sum"]
    assert isinstance(e["fold"], Fraction)


@given(S.integer_pruning_cases())
def test_c3_library_matches_exact_values(case):
    w, keep = case
    p = pg.prune_projector(keep, w.shape[0])
    e = rational_c3_terms(w, keep)
    wf = w.astype(float)
    assert_close(pg.prune_error(wf, p), float(e["prune"]), w=wf, scale=max(1.0, np.sum(wf**2)))
    assert_close(pg.fold_error(wf, pg.pruning_partition(p)), float(e["fold"]), w=wf,
                 scale=max(1.0, np.sum(wf**2)))
