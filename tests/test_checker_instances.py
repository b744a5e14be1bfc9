"""The checker's instances depend on ``--seed`` only, never on the backend (issue 10 item 5).

They are drawn with JAX's default threefry generator, whose bits are the same on CPU, GPU
and TPU; the values pinned here were computed on a CPU and must come out the same on any
backend (to the nine digits pinned).
"""

import jax
import numpy as np

from proofs_check import _instances, _networks


def test_checker_draws_with_the_default_portable_generator():
    default = jax.random.key_impl(jax.random.key(0))
    assert jax.random.key_impl(jax.random.key(0, impl=_instances.IMPL)) == default


#: First row of the seed-0 matrix of each family, shape (6, 3) (one matrix per family).
FIRST_ROWS = np.array([
    [-9.02686850e-01, -2.58621208e-01, -7.91655488e-01],
    [-1.15610745e-01, -2.96010563e-02, 4.57058571e-02],
    [-2.04854961e-02, -5.04014288e-01, -7.11432181e-01],
    [-5.20285800e-01, 9.26569277e-01, -3.63938386e-01],
    [3.31185213e-01, 5.23139196e-01, 5.83964075e-01],
    [0.0, 0.0, 0.0],
    [9.58949593e-01, -1.58670749e-01, -5.54356877e-03],
    [-4.22690513e+00, -4.51691712e+00, -2.26744480e+00],
    [1.62164585e+01, 1.46979516e+01, 1.61334241e+01],
])

#: First three entries of the first row of each family's seed-0 network bank matrix.
BANK_ROWS = np.array([
    [-1.23842659e-01, 1.14579425e-01, 1.89086959e-01],
    [5.02503683e-02, -3.53544000e-02, -1.56744463e-01],
    [-1.98582310e-01, 6.44122478e-02, -6.13357151e-02],
    [-1.67568480e-01, 1.25675686e-01, 1.93836623e-01],
    [-5.45127994e-02, 3.13734971e-02, 1.31312418e-01],
    [0.0, 0.0, 0.0],
    [1.35372020e-01, -1.53765617e-01, -1.50230931e-01],
    [-3.05009870e-05, 8.96503430e-05, 3.12046910e-05],
])


def test_seed_zero_matrices_are_pinned():
    ws, names = _instances.fast_families(0, 1, 6, 3)
    assert list(names) == list(_instances.NAMES)
    np.testing.assert_allclose(ws[:, 0, :], FIRST_ROWS, rtol=1e-8, atol=1e-12)


def test_seed_zero_network_bank_is_pinned():
    bank, _ = _networks.bank(0, 1)
    np.testing.assert_allclose(np.asarray(bank)[:, 0, :3], BANK_ROWS, rtol=1e-8, atol=1e-12)
