"""The tolerance rule: tol = 16·eps(dtype)·√terms·scale."""

import numpy as np
import pytest

from projgeo import tolerance


def test_tolerance_formula_and_dtype_dependence():
    t64 = tolerance.tolerance(np.float64, scale=2.0, terms=100)
    assert t64 == pytest.approx(16 * np.finfo(np.float64).eps * 10 * 2.0)
    t32 = tolerance.tolerance(np.float32, scale=2.0, terms=100)
    assert t32 / t64 == pytest.approx(np.finfo(np.float32).eps / np.finfo(np.float64).eps)


def test_leq_and_close_accept_rounding_and_reject_real_gaps():
    assert tolerance.leq(1.0 + 1e-15, 1.0, dtype=np.float64, scale=1.0, terms=4)
    assert not tolerance.leq(1.0 + 1e-9, 1.0, dtype=np.float64, scale=1.0, terms=4)
    assert tolerance.close(1.0, 1.0 + 1e-15, dtype=np.float64, scale=1.0, terms=4)
    assert not tolerance.close(1.0, 1.0 + 1e-6, dtype=np.float64, scale=1.0, terms=4)
    assert tolerance.close(1.0, 1.0 + 1e-6, dtype=np.float32, scale=1.0, terms=4)


def test_vectorised_checks_and_margins():
    ok = tolerance.leq(np.array([0.0, 2.0]), np.array([1.0, 1.0]), dtype=np.float64,
                       scale=np.array([1.0, 1.0]), terms=1)
    np.testing.assert_array_equal(ok, [True, False])
    assert tolerance.margin(1.0, 3.0, scale=2.0) == pytest.approx(1.0)
    assert tolerance.margin(1.0, 3.0, scale=2.0, identity=True) == pytest.approx(-1.0)
    assert tolerance.margin(1.0, 1.0, scale=0.0) == 0.0  # zero scale does not divide by 0
