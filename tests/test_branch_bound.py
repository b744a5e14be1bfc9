"""Exact OPT_fold(k) by SDP branch and bound (projgeo.exact.branch_bound; C4, C5).

Branch and bound must return the optimum that enumeration (n ≤ 10) and the 1-D dynamic
programme (d = 1, any n) find, prove it (lower bound = inertia), and never report a lower
bound above the optimum.
"""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import exact_fold_path, fold_1d_path
from projgeo.exact.branch_bound import exact_fold_bnb
from projgeo.tolerance import tolerance
from tests import strategies as S

KS = (2, 3, 5)


def _agrees(r, opt, w):
    # Centring rounds each entry by ≈ eps·max|w|, moving ‖W_c‖² by ≈ 2‖W_c‖·‖E‖: the scale
    # includes that cross term (near-identical rows: OPT is 1e-38 at 1e-4 entries).
    centred = float(np.sum((w - w.mean(0)) ** 2))
    scale = centred + 2.0 * np.sqrt(centred * float(np.sum(w * w)))
    tol = tolerance(w.dtype, scale=scale, terms=w.size)
    assert r.proved
    assert abs(float(r.inertia) - opt) <= tol, (float(r.inertia), opt)
    assert float(r.lower_bound) <= opt + tol
    # the labels realise the reported inertia, with exactly k clusters
    labels = np.asarray(r.labels)
    inertia = sum(float(np.sum((w[labels == j] - w[labels == j].mean(0)) ** 2))
                  for j in np.unique(labels))
    assert abs(inertia - float(r.inertia)) <= tol


@given(w=S.hard_weights(rows=(10,), cols=(2,)), k=st.sampled_from(KS))
def test_branch_and_bound_equals_enumeration(w, k):
    """OPT_fold(k) from branch and bound = OPT_fold(k) from all S(10, k) partitions."""
    opt = float(np.asarray(exact_fold_path(w).inertia)[k - 1])
    r = exact_fold_bnb(w, k)
    _agrees(r, opt, w)
    assert len(np.unique(np.asarray(r.labels))) == k


@pytest.mark.parametrize("seed", [0, 1])
def test_branch_and_bound_equals_the_1d_programme_beyond_enumeration(seed):
    """d = 1, n = 16 > MAX_N: branch and bound agrees with the exact dynamic programme."""
    w = np.asarray(jax.random.normal(jax.random.key(seed), (16, 1)), np.float64) ** 3
    opt = np.asarray(fold_1d_path(w).inertia)
    for k in KS:
        _agrees(exact_fold_bnb(w, k), float(opt[k - 1]), w)


def test_a_starved_search_says_it_is_unproved_and_keeps_a_valid_bound():
    """One node of one ADMM step: no proof, but lower_bound ≤ OPT ≤ inertia still hold."""
    w = np.asarray(jax.random.normal(jax.random.key(4), (10, 2)), np.float64)
    opt = float(np.asarray(exact_fold_path(w).inertia)[3])
    r = exact_fold_bnb(w, 4, max_nodes=1, max_iter=1)
    assert not r.proved
    assert float(r.lower_bound) < opt <= float(r.inertia) * (1 + 1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="k must be"):
        exact_fold_bnb(np.ones((4, 2)), 5)
    with pytest.raises(ValueError, match="max_nodes must be"):
        exact_fold_bnb(np.ones((4, 2)), 2, max_nodes=0)


def test_the_search_finds_the_optimum_from_a_poor_incumbent(monkeypatch):
    """With the incumbent's folds replaced by a round-robin partition, the proof must come
    from the bounds alone: a node closed on anything but a lower bound loses the optimum."""
    from projgeo.exact import branch_bound as bb

    class Poor:
        def __init__(self, n, k):
            self.labels = np.arange(n) % k

    monkeypatch.setattr(bb, "fold", lambda w, k, **_: Poor(w.shape[0], k))
    monkeypatch.setattr(bb, "RESTARTS", 0)
    w = np.asarray(jax.random.normal(jax.random.key(7), (10, 2)), np.float64)
    opt = np.asarray(exact_fold_path(w).inertia)
    for k in (3, 4):
        _agrees(exact_fold_bnb(w, k), float(opt[k - 1]), w)
