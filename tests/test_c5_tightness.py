"""C5: at the same rank folding can lose to pruning, so C4's one rank of slack is needed."""

from fractions import Fraction

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from projgeo import exact_fold, exact_prune
from projgeo.exact.reference import rational_c3_terms, rational_opt
from projgeo.tolerance import close
from proofs_check.shrink import loss_rank, shrink
from tests import strategies as S


@given(st.floats(1e-3, 0.999))
def test_c5_theory_2x2_example_loses_at_equal_rank(eps):
    w = np.array([[1.0, 0.0], [0.0, eps]])
    fold, prune = float(exact_fold(w, 1).inertia), float(exact_prune(w, 1))
    tol = dict(dtype=np.float64, scale=1.0, terms=4)
    assert close(fold, (1 + eps**2) / 2, **tol) and close(prune, eps**2, **tol)
    assert fold > prune
    assert loss_rank(w) == 1


@given(st.fractions(Fraction(0), Fraction(99, 100), max_denominator=100))
def test_c5_theory_2x2_example_in_exact_rationals(eps):
    fold, prune = rational_opt(np.array([[1, 0], [0, eps]], object), 1)
    assert fold == (1 + eps * eps) / 2 and prune == eps * eps and fold > prune


@given(st.integers(2, 10), st.data())
def test_c5_a_counterexample_exists_for_every_n_and_k(n, data):
    """k orthonormal rows and n − k zero rows: pruning is exact, folding must merge two of
    k + 1 distinct points; the cheapest merge puts one unit row with the m = n − k zeros,
    so ``OPT_fold(k) = m/(m+1) > 0 = OPT_prune(k)``."""
    k = data.draw(st.integers(1, n - 1))
    w = np.zeros((n, k))
    w[:k] = np.eye(k)
    perm = np.asarray(data.draw(st.permutations(range(n))))
    w = w[perm]
    m = n - k
    fold, prune = float(exact_fold(w, k).inertia), float(exact_prune(w, k))
    assert prune == 0.0
    assert close(fold, m / (m + 1), dtype=np.float64, scale=n, terms=n * k)
    assert fold > 0.0


@given(st.integers(2, 10), st.floats(0.0, 0.99))
def test_c5_generalised_2x2_example_loses_at_k_equals_n_minus_1(n, eps):
    w = np.eye(n)
    w[-1, -1] = eps
    fold, prune = float(exact_fold(w, n - 1).inertia), float(exact_prune(w, n - 1))
    assert close(fold, (1 + eps**2) / 2, dtype=np.float64, scale=n, terms=n * n)
    assert fold > prune


@given(S.weights(rows=(3, 6), cols=(1, 3), scaled=False))
def test_c5_shrunk_counterexamples_are_smaller_and_lose_in_exact_rationals(w):
    assume(loss_rank(w) is not None)
    small = shrink(w)
    assert small.shape[0] <= w.shape[0] and small.shape[1] <= w.shape[1]
    k = loss_rank(small)
    assert k is not None
    fold, prune = rational_opt(small, k)
    assert fold > prune


def test_c5_shrinking_finds_the_smallest_counterexample():
    w = np.array([[3.0, 0.1, -0.4], [0.2, 0.05, 0.1], [2.5, -1.0, 0.3], [-0.1, 0.2, 0.0]])
    assert loss_rank(w) is not None
    small = shrink(w)
    np.testing.assert_array_equal(small, [[0.0], [1.0]])  # one zero row, one unit row
    assert rational_opt(small, 1) == (Fraction(1, 2), Fraction(0))


@given(S.integer_pruning_cases(max_rows=6, max_cols=3, entry=3))
def test_c5_c3_is_strict_exactly_when_the_pruned_rows_do_not_sum_to_zero(instance):
    w, keep = instance
    e = rational_c3_terms(w, keep)
    assert e["fold"] <= e["prune"]
    assert (e["fold"] < e["prune"]) == (not e["zero_sum"])
