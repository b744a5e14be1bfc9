"""C7 spectral norms: the certified bracket ``lower ≤ ||A||_2 ≤ upper`` on both paths."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projgeo import spectral
from projgeo.tolerance import leq
from tests import strategies as S


def _le(a, b, scale, a_shape):
    return leq(float(a), float(b), dtype=np.float64, scale=float(scale),
               terms=int(np.prod(a_shape)))


@given(S.weights(), st.sampled_from([0, spectral.EXACT_MAX]))
def test_certified_bracket_contains_the_spectral_norm(w, exact_max):
    exact = np.linalg.norm(w, 2)
    got = spectral.spectral_norm(w, exact_max=exact_max)
    assert _le(got.lower, exact, exact, w.shape) and _le(exact, got.upper, exact, w.shape)
    assert float(got.lower) <= float(got.upper)


@given(S.weights(), st.integers(0, 4))
def test_schatten_certificate_is_an_upper_bound_that_tightens_with_squarings(w, m):
    exact = np.linalg.norm(w, 2)
    a, b = spectral.schatten_upper(w, m), spectral.schatten_upper(w, m + 1)
    assert _le(exact, b, exact, w.shape) and _le(b, a, a, w.shape)


@given(S.weights())
def test_guaranteed_upper_is_never_above_frobenius_times_its_rounding_inflation(w):
    fro = np.linalg.norm(w)
    inflated = fro * (1 + 6 * spectral._rho(w))  # default squarings = 5: (m + 1)·ρ
    assert _le(spectral.guaranteed_upper(w), inflated, fro, w.shape)


def test_power_path_is_within_a_few_percent_on_a_large_gaussian():
    w = np.random.default_rng(0).standard_normal((300, 700))
    exact = np.linalg.norm(w, 2)
    got = spectral.spectral_norm(w, exact_max=0)
    assert exact <= float(got.upper) <= 1.02 * exact
    assert 0.98 * exact <= float(got.lower) <= exact


def test_zero_matrix_has_zero_bracket():
    got = spectral.spectral_norm(np.zeros((3, 4)), exact_max=0)
    assert float(got.upper) == 0.0 and float(got.lower) == 0.0


def test_bad_options_and_inputs_are_errors():
    with pytest.raises(ValueError, match="exact_max must be an int"):
        spectral.spectral_norm(np.ones((2, 2)), exact_max=-1)
    with pytest.raises(ValueError, match="a must be"):
        spectral.spectral_norm(np.ones(3))
    with pytest.raises(TypeError, match="a must be"):
        spectral.spectral_norm(np.ones((2, 2), int))


@pytest.mark.parametrize("scale", [1e-244, 1e-6, 1.0, 1e150])
def test_schatten_certificate_survives_extreme_scales(scale):
    w = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]) * scale
    exact = np.linalg.norm(w, 2)
    for m in range(4):
        up = float(spectral.schatten_upper(w, m))
        assert exact <= up * (1 + 1e-12) and np.isfinite(up)
