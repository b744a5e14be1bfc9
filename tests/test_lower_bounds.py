"""Certified lower bounds on OPT_fold(k) (projgeo.exact.lower_bounds; C4, C5).

The bounds are certified: ``LB ≤ OPT_fold(k)`` as computed, with no tolerance added in the
comparison (the bound already carries its rounding allowance), wherever OPT is known:
enumeration for n ≤ 10, the 1-D dynamic programme, planted well-separated clusters.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projgeo import exact_fold_path, fold_1d_path, fold_lower_bound, magnitude_prune, prune_error
from projgeo.tolerance import tolerance
from tests import strategies as S

# Few shape buckets: the SDP solver compiles once per (n, d, dtype).
EXACT_ROWS = (1, 2, 3, 5, 8, 10)
SDP_ROWS = (3, 7, 10)
SDP_COLS = (2, 5)


def _offset(draw, w):
    """Shift every row by one drawn vector far from the origin (E_fold is translation free)."""
    c = draw(st.sampled_from((0.0, 1.0, 1e3)))
    shift = c * np.max(np.abs(w), initial=1.0) * np.linspace(1.0, 2.0, w.shape[1])
    return (w + shift).astype(w.dtype)


@given(w=S.hard_weights(rows=EXACT_ROWS), data=st.data())
def test_spectral_bound_never_exceeds_opt_fold(w, data):
    """C4/C5: Σ_{i≥k} σ_i²(W_c) ≤ OPT_fold(k) for every k, exactly as computed."""
    w = _offset(data.draw, w)
    opt = np.asarray(exact_fold_path(w).inertia)
    for k in range(1, w.shape[0] + 1):
        lb = fold_lower_bound(w, k)
        assert float(lb.bound) <= opt[k - 1], (k, float(lb.bound), opt[k - 1])
        assert float(lb.bound) >= 0.0


def _dual_bound_numpy(w, n_mult, k):
    """``LB(N) = tr G − 1ᵀ(G + N)1/n − KyFan_{k−1}(Vᵀ(G + N)V)`` in NumPy float64, with its own
    basis ``V`` of ``1^⊥`` (QR, not the library's Householder reflection)."""
    w = np.asarray(w, np.float64)
    wc = w - w.mean(0)
    g = wc @ wc.T
    n = w.shape[0]
    q, _ = np.linalg.qr(np.concatenate([np.ones((n, 1)), np.eye(n)[:, : n - 1]], axis=1))
    v = q[:, 1:]
    a = g + np.asarray(n_mult, np.float64)
    lam = np.sort(np.linalg.eigvalsh(v.T @ a @ v))[::-1]
    return float(np.trace(g) - np.ones(n) @ a @ np.ones(n) / n - np.sum(lam[: k - 1]))


@given(w=S.hard_weights(rows=SDP_ROWS, cols=SDP_COLS), data=st.data())
def test_sdp_certificate_is_dual_feasible_and_its_bound_recomputes_below_opt(w, data):
    """Peng–Wei dual bound LB(N) ≤ OPT_fold(k) for every k, however early ADMM stops; and
    the returned multiplier N is its certificate: N ≥ 0 entrywise (dual feasible for Z ≥ 0),
    and LB(N) recomputed independently (NumPy float64, another basis of 1^⊥) is ≤ the
    enumeration OPT_fold(k) and ≥ the reported bound."""
    w = _offset(data.draw, w)
    max_iter = data.draw(st.sampled_from((1, 7, 300)))
    opt = np.asarray(exact_fold_path(w).inertia)
    wc = np.asarray(w, np.float64) - np.asarray(w, np.float64).mean(0)
    for k in range(1, w.shape[0] + 1):
        lb = fold_lower_bound(w, k, method="sdp", max_iter=max_iter)
        assert float(lb.sdp) <= opt[k - 1], (k, float(lb.sdp), opt[k - 1])
        assert float(lb.bound) <= opt[k - 1]
        n_mult = np.asarray(lb.multiplier, np.float64)
        assert n_mult.shape == (w.shape[0],) * 2
        assert np.min(n_mult) >= 0.0, (k, float(np.min(n_mult)))
        recomputed = _dual_bound_numpy(w, n_mult, k)
        # the recomputation's own rounding: eigenvalues of G + N, in float64 or w's dtype
        tol = tolerance(w.dtype, scale=float(np.sum(wc**2) + np.sum(n_mult)), terms=w.size)
        assert recomputed <= opt[k - 1] + tol, (k, recomputed, opt[k - 1])
        assert float(lb.sdp) <= max(recomputed, 0.0) + tol, (k, float(lb.sdp), recomputed)


@jax.jit
def _certificate(g, k, u, rho):
    from projgeo.exact.lower_bounds import dual_certificate

    n = g.shape[0]
    e = jnp.full((n,), 1.0 / np.sqrt(n), g.dtype)
    return dual_certificate(g, e, jnp.zeros((n, n), bool), k, u, rho)


@settings(max_examples=20)
@given(w=S.hard_weights(rows=(7,), cols=SDP_COLS), seed=st.integers(0, 2**31 - 1))
def test_the_dual_certificate_is_valid_for_any_dual_iterate(w, seed):
    """LB(N) must be ≤ OPT_fold(k) for *any* scaled dual U (either sign) and ρ > 0, not only
    for ADMM's own iterates (which are ≤ 0 after every step): N = ρ·max(−U, 0) ≥ 0, and the
    bound, also recomputed from N in NumPy float64, stays below the enumeration optimum."""
    w = np.asarray(w, np.float64)
    n = w.shape[0]
    wc = w - w.mean(0)
    tr = float(np.sum(wc**2))
    if tr == 0.0:
        return
    opt = np.asarray(exact_fold_path(w).inertia)
    g = wc @ wc.T / tr
    k1, k2 = jax.random.split(jax.random.key(seed))
    u = np.asarray(jax.random.normal(k1, (n, n), jnp.float64))
    rho = float(jnp.exp(jax.random.uniform(k2, (), jnp.float64, -3.0, 3.0)))
    for k in range(2, n):
        best, n_mult = _certificate(g, k, 0.5 * (u + u.T), rho)
        n_mult = np.asarray(n_mult) * tr
        tol = tolerance(np.float64, scale=tr + float(np.sum(np.abs(n_mult))), terms=w.size)
        assert np.min(n_mult) >= 0.0, (k, float(np.min(n_mult)))
        assert float(best) * tr <= opt[k - 1] + tol, (k, float(best) * tr, opt[k - 1])
        assert _dual_bound_numpy(w, n_mult, k) <= opt[k - 1] + tol


@given(w=S.weights(rows=SDP_ROWS, cols=SDP_COLS))
def test_converged_sdp_bound_is_at_least_the_spectral_bound(w):
    """N = 0 is dual feasible with LB(0) = the spectral bound, so the dual optimum is ≥ it."""
    for k in range(1, w.shape[0] + 1):
        lb = fold_lower_bound(w, k, method="sdp", max_iter=2000, tol=1e-9)
        if int(lb.iterations) < 2000:
            scale = float(np.sum((w - w.mean(0)) ** 2))
            assert float(lb.sdp) >= float(lb.spectral) - 1e-6 * scale, (k, lb)


@given(w=S.weights(rows=EXACT_ROWS))
def test_spectral_bound_is_tight_at_one_cluster(w):
    """k = 1: the bound is Σ_all σ_i²(W_c) = ‖W_c‖_F² = OPT_fold(1), less its allowance.

    The allowance lowers each σ̂_i by ≈ 2·tol(σ̂_1), so σ² loses ≈ 4 tolerances: 8 must do.
    Centring rounds each entry by ≈ eps·max|w|, which moves ‖W_c‖² by ≈ 2‖W_c‖·‖E‖: the scale
    includes that cross term (identical rows: OPT_fold(1) is rounding, 1e-43 at 1e-6 entries).
    """
    opt1 = float(np.asarray(exact_fold_path(w).inertia)[0])
    lb = float(fold_lower_bound(w, 1).bound)
    assert lb <= opt1
    scale = opt1 + 2.0 * np.sqrt(opt1 * float(np.sum(w * w)))
    assert opt1 - lb <= 8 * tolerance(w.dtype, scale=scale, terms=w.size), (lb, opt1)


@pytest.mark.parametrize("n", [12, 25, 40])
def test_bounds_below_the_1d_dynamic_programme(n):
    """d = 1 beyond enumeration: LB ≤ OPT_fold(k) from the exact 1-D dynamic programme."""
    for seed in range(3):
        w = np.asarray(jax.random.normal(jax.random.key(seed), (n, 1)), np.float64) ** 3
        opt = np.asarray(fold_1d_path(w).inertia)
        for k in (1, 2, 3, n // 2, n - 1, n):
            for method in ("spectral", "sdp"):
                lb = fold_lower_bound(w, k, method=method, max_iter=200)
                assert float(lb.bound) <= opt[k - 1], (seed, k, method, lb, opt[k - 1])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_sdp_is_tight_on_planted_separated_clusters(k):
    """Well-separated clusters: OPT_fold(k) is the planted inertia, and the SDP certifies it.

    The relaxation is exact for clusters much farther apart than their radius (Peng–Wei; Awasthi
    et al. 2015), so LB must come within 1e-3 of the planted inertia, and never above it.
    """
    rng = np.random.default_rng(k)
    centres = rng.normal(size=(k, 4)) * 1e3
    labels = np.arange(30) % k
    w = centres[labels] + rng.normal(size=(30, 4))
    planted = sum(float(np.sum((w[labels == j] - w[labels == j].mean(0)) ** 2)) for j in range(k))
    lb = fold_lower_bound(w, k, method="sdp", max_iter=3000, tol=1e-10)
    assert float(lb.bound) <= planted
    assert float(lb.sdp) >= (1 - 1e-3) * planted, (float(lb.sdp), planted, int(lb.iterations))
    assert float(lb.spectral) < 0.9 * planted  # the spectral bound alone cannot see this


@given(w=S.family_matrices(shape=(10, 3)), e=st.integers(-200, 200))
def test_bounds_scale_by_powers_of_two_exactly(w, e):
    """LB(2^e W) = 4^e LB(W): the bound is computed on a power-of-two rescaled copy."""
    for k in (1, 4, 9):
        a = float(fold_lower_bound(w, k).bound)
        b = float(fold_lower_bound(np.ldexp(w, e), k).bound)
        assert np.ldexp(a, 2 * e) == pytest.approx(b, rel=1e-12, abs=0.0)


def test_equal_rank_loss_is_certified_on_the_c5_example():
    """C5 certified: when LB(OPT_fold(k)) > OPT_prune(k), folding at rank k provably loses."""
    w = np.array([[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [0.0, -10.0], [0.0, 0.0]])
    k = 4
    opt_prune = float(prune_error(w, magnitude_prune(w, k)))
    lb = fold_lower_bound(w, k, method="sdp")
    opt_fold = float(np.asarray(exact_fold_path(w).inertia)[k - 1])
    assert opt_prune == 0.0 < float(lb.bound) <= opt_fold


def test_one_program_serves_every_k():
    """k is traced: a sweep over k = 1…n compiles one program per method."""
    compiles = []

    def listener(event, duration, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    w = np.asarray(jax.random.normal(jax.random.key(3), (9, 2)), np.float64)
    fold_lower_bound(w, 1, method="sdp", max_iter=5)
    fold_lower_bound(w, 1)
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for k in range(1, 10):
            fold_lower_bound(w, k, method="sdp", max_iter=5)
            fold_lower_bound(w, k)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(w=np.ones(4), k=1), "w must be"),
        (dict(w=np.ones((4, 2)), k=0), "k must be"),
        (dict(w=np.ones((4, 2)), k=5), "k must be"),
        (dict(w=np.ones((4, 2)), k=2, method="lp"), "method must be"),
        (dict(w=np.ones((4, 2)), k=2, method="sdp", max_iter=0), "max_iter must be"),
        (dict(w=np.ones((4, 2)), k=2, method="sdp", tol=float("nan")), "tol must be"),
        (dict(w=np.full((4, 2), np.nan), k=2), "finite"),
    ],
)
def test_bad_input_is_refused_at_the_boundary(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fold_lower_bound(**kwargs)


@given(w=S.hard_weights(rows=EXACT_ROWS))
def test_spectral_path_is_the_bound_at_every_k(w):
    """One SVD for all k: path[k − 1] is fold_lower_bound(w, k).spectral, ≤ OPT_fold(k)."""
    from projgeo.exact.lower_bounds import spectral_bound_path

    path = np.asarray(spectral_bound_path(w))
    opt = np.asarray(exact_fold_path(w).inertia)
    assert np.all(path <= opt)
    for k in range(1, w.shape[0] + 1):
        assert path[k - 1] == pytest.approx(float(fold_lower_bound(w, k).spectral),
                                            rel=1e-12, abs=1e-300)
