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
    for k in KS:  # seed 1 also lets projgeo.fold compete for the incumbent (key=)
        key = jax.random.key(seed) if seed else None
        _agrees(exact_fold_bnb(w, k, key=key), float(opt[k - 1]), w)


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
    monkeypatch.setattr(bb, "_heuristic", lambda w, k: (np.arange(w.shape[0]) % k,
                                                        bb._inertia(w, np.arange(w.shape[0]) % k)))
    w = np.asarray(jax.random.normal(jax.random.key(7), (10, 2)), np.float64)
    opt = np.asarray(exact_fold_path(w).inertia)
    for k in (3, 4):
        _agrees(exact_fold_bnb(w, k), float(opt[k - 1]), w)


def _scatter(w, labels):
    labels = np.asarray(labels)
    return sum(float(np.sum((w[labels == j] - w[labels == j].mean(0)) ** 2))
               for j in np.unique(labels))


def _separated(seed, noise, scales):
    """10 rows: copies of 4 base rows (spread ``scales``) plus ``noise``: pairs across bases
    cost far more than the optimum, so the search splits the rows into components."""
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    base = np.asarray(jax.random.normal(k1, (4, 3)), np.float64) * np.asarray(scales)[:, None]
    which = np.asarray(jax.random.permutation(k2, np.arange(10) % 4))
    return base[which] + noise * np.asarray(jax.random.normal(k3, (10, 3)), np.float64)


@pytest.mark.parametrize(("seed", "noise", "scales"), [
    (0, 1e-6, (1.0, 1.0, 1.0, 1.0)),      # near-duplicates: OPT ≈ 1e-12 beyond k = 4
    (1, 1e-2, (1.0, 3.0, 10.0, 30.0)),    # separated groups at several scales
    (2, 1e-3, (1e-3, 1.0, 1e3, 1e6)),     # extreme scales
])
def test_separated_rows_split_into_components_and_each_k_is_exact(seed, noise, scales):
    """The pair rule and the component split (every k, including the OPT ≈ 1e-12 range
    where one SDP on all rows cannot resolve the optimum) agree with enumeration."""
    w = _separated(seed, noise, scales)
    path = exact_fold_path(w)
    opt = np.asarray(path.inertia)
    for k in range(2, 9):
        r = exact_fold_bnb(w, k)
        _agrees(r, float(opt[k - 1]), w)
        assert len(np.unique(np.asarray(r.labels))) == k
        # relative 1e-9 even where OPT is far below the tolerance of ‖W‖² (near-duplicates)
        mine, theirs = _scatter(w, r.labels), _scatter(w, np.asarray(path.labels)[k - 1])
        assert mine <= theirs * (1 + 1e-9), (k, mine, theirs)


def test_a_near_optimal_incumbent_does_not_hide_the_optimum(monkeypatch):
    """Rows: three pairs at distances 1 (a), 0.1 (b), 1.05 (c) among far-apart rows; at
    k = n − 2 the optimum merges a and b (OPT = (1 + 0.01)/2), the incumbent b and c (0.556).
    The pair rule may cut a pair only when its merge alone, ‖w_i − w_j‖²/2 = 0.5 for a, already
    costs the incumbent; a rule that cut at ‖w_i − w_j‖² would lose the optimum."""
    from projgeo.exact import branch_bound as bb

    far = 10.0 * np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 0], [0, 2], [2, 2]], float)
    w = np.concatenate([far, far[:3] + np.array([[1.0, 0], [0, 0.1], [1.05, 0]])])
    # rows 7, 8, 9 pair with rows 0 (a), 1 (b), 2 (c)
    near = np.array([0, 1, 2, 3, 4, 5, 6, 7, 1, 2])  # b and c merged, a apart

    heuristic = bb._heuristic
    monkeypatch.setattr(bb, "_heuristic", lambda w, k: (near, bb._inertia(w, near))
                        if w.shape[0] == 10 else heuristic(w, k))  # the top level only
    opt = np.asarray(exact_fold_path(w).inertia)
    assert abs(opt[7] - 0.505) < 1e-12 and _scatter(w, near) > 0.55
    r = exact_fold_bnb(w, 8)
    _agrees(r, float(opt[7]), w)


def test_branching_takes_the_undecided_pair_nearest_branch_at():
    """The branching pair is a free one (never decided, never the diagonal), a < b, the one
    whose normalised relaxed entry is nearest BRANCH_AT: here (0, 1) sits exactly at it but
    is decided (cannot-linked), so (1, 2) at 0.7 wins over (0, 2) at 0.4."""
    from projgeo.exact import branch_bound as bb

    t = bb.BRANCH_AT
    zn = np.array([[1.0, t, 0.4], [t, 1.0, 0.7], [0.4, 0.7, 1.0]])
    free = np.triu(np.ones((3, 3), bool), 1)
    free[0, 1] = False
    assert tuple(int(x) for x in bb._pick(zn, free)) == (1, 2)
