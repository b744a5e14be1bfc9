"""Certified lower bounds on ``OPT_fold(k)``: how far a fold can be from the optimum (C4, C5).

Every fold error is an upper bound on ``OPT_fold(k) = min_{|π|=k} E_fold(π)``. The bounds here
go the other way, so that ``LB ≤ OPT_fold(k) ≤ E_fold(π)`` brackets the optimum and
``(E_fold(π) − LB) / LB`` is a certified optimality gap. A *certified equal-rank loss* of
folding (C5) is ``LB > OPT_prune(k)``.

Write ``G = W_c W_cᵀ`` for the Gram matrix of the column-centred rows (``E_fold`` is
translation invariant, so centring changes nothing) and ``V`` for an orthonormal basis of
``1^⊥`` (a Householder reflection's last ``n − 1`` columns). A fold projector
``P_π = C(CᵀC)⁻¹Cᵀ`` is symmetric, idempotent, entrywise non-negative, has rank k and
``P_π 1 = 1``, and ``E_fold(π) = tr G − ⟨G, P_π⟩``.

Spectral bound (``method="spectral"``). ``P_π = 11ᵀ/n + P'`` with ``P'`` a rank ``k − 1``
projector on ``1^⊥``, and the columns of ``W_c`` lie in ``1^⊥``, so

    OPT_fold(k) ≥ Σ_{i ≥ k} σ_i²(W_c)        (σ descending, 1-based).

SDP bound (``method="sdp"``), Peng & Wei (2007). Relax ``P_π`` to the set
``Z ⪰ 0, Z ≥ 0, Z1 = 1, tr Z = k`` (which forces ``Z ⪯ I``). For *any* entrywise
non-negative multiplier ``N ≥ 0`` of the constraint ``Z ≥ 0``, weak duality gives

    OPT_fold(k) ≥ LB(N) = tr G − 1ᵀN1/n − KyFan_{k−1}(Vᵀ(G + N)V),

where ``KyFan_r`` is the sum of the r largest eigenvalues: the maximum of ``⟨G + N, Z⟩``
over ``Z = 11ᵀ/n + V X Vᵀ`` with ``X`` in the Fantope ``{0 ⪯ X ⪯ I, tr X = k − 1}``
(``G1 = 0`` because ``W_c`` is centred). The positive-semidefinite constraint is handled
*exactly* by the eigenvalues, so no ``λ_min`` correction of a dual slack is needed and
``LB(N)`` is valid however early the solver stops; ``N = 0`` gives the spectral bound.
``N`` comes from ADMM on the relaxation, split as ``Z ∈ Fantope-with-1``, ``Y ≥ 0``,
``Z = Y`` (the Z-step is one eigendecomposition, the Y-step a clip); its scaled dual
variable ``U`` gives ``N = ρ·max(−U, 0)``. The best ``LB(N)`` seen is kept.

Rounding. Each bound is computed on an exactly rescaled copy (a power of two, so no
under/overflow; the bound scales back exactly). The computed singular values ``σ̂_i`` of the
centred copy differ from the true ones by at most ``Δ = u·(σ̂_1 + max|Ŵ_c| + u·n·max|W|)``,
``u = FACTOR·eps·√(n d)`` (the rule of :mod:`projgeo.tolerance`; centring error plus SVD
backward error, Weyl's inequality), so the spectral bound sums ``max(σ̂_i − Δ, 0)²``. The
dual bound is lowered by ``(min(n, d) + k − 1)·(2σ̂_1Δ + Δ²)`` for the Gram matrix's error
and by ``FACTOR·eps·n·(tr G + 1ᵀN1/n + ‖G + N‖_F)`` for its own eigenvalues. "Certified"
thus means "≤ OPT_fold(k) up to the tolerance rule", the rule every check uses.

Reference: THEORY.md C4, C5; J. Peng and Y. Wei, "Approximating K-means-type clustering via
semidefinite programming", SIAM J. Optim. 18 (2007); Boyd et al., "Distributed optimization
and statistical learning via ADMM" (2011), §5.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from projgeo import _checks, _linalg, _scale, tolerance

#: ``method=`` values of :func:`fold_lower_bound`.
METHODS = ("spectral", "sdp")


class FoldLowerBound(NamedTuple):
    """A certified lower bound on ``OPT_fold(k)`` (dtype of ``w``).

    Attributes:
      bound: the best certified bound, ``max(spectral, sdp)`` (``spectral`` alone for
        ``method="spectral"``).
      spectral: ``Σ_{i≥k} σ_i²(W_c)``, each computed ``σ̂_i`` first lowered by a bound on its
        rounding error (centring and SVD; Weyl's inequality).
      sdp: the best dual bound ``LB(N)`` found by ADMM less its allowance
        (equal to ``spectral`` for ``method="spectral"``).
      iterations: ADMM iterations run (0 for ``method="spectral"``).
      residual: final ADMM residual, the larger of the primal ``‖Z − Y‖_F/√n`` and the
        dual ``ρ‖Y − Y_prev‖_F/√n`` (0 for spectral).
      multiplier: (n, n) the certificate of ``sdp``: the multiplier ``N ≥ 0`` whose
        ``LB(N) = tr G − 1ᵀN1/n − KyFan_{k−1}(Vᵀ(G + N)V)`` (``G = W_cW_cᵀ``, units of ``w``²)
        is ``sdp`` before its allowances; anyone can recompute the bound from it (zeros
        for ``method="spectral"``, where ``LB(0)`` is the spectral bound).
    """

    bound: Float[Array, ""]
    spectral: Float[Array, ""]
    sdp: Float[Array, ""]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    multiplier: Float[Array, "n n"]


def _centred(w):
    """Column-centred rows on a power-of-two rescaled copy, and the scale ``2^{2e}`` of squares.

    Centring is done twice (subtract the mean, then the mean of the residual), so an offset
    far larger than the spread leaves an error of order ``eps·|W_c| + eps²·n·|W|`` per entry,
    not ``eps·|W|``; ``_perturbation`` bounds it.
    """
    ws, e = _scale.scaled(w)
    wc = ws - jnp.mean(ws, axis=0, keepdims=True)
    wc = wc - jnp.mean(wc, axis=0, keepdims=True)
    return ws, wc, jnp.ldexp(jnp.ones((), w.dtype), 2 * e)


def _perturbation(ws, wc, s1):
    """``Δ ≥ ‖W_c − Ŵ_c‖₂ + SVD error``: every true σ_i ≥ σ̂_i − Δ (Weyl), in the copy's units."""
    n, d = ws.shape
    u = float(tolerance.FACTOR * tolerance.eps(ws.dtype) * np.sqrt(n * d))  # weak: stays in dtype
    return u * (s1 + jnp.max(jnp.abs(wc)) + u * n * jnp.max(jnp.abs(ws)))


def _spectral(sigma, delta, k):
    """``Σ_{i ≥ k} max(σ̂_i − Δ, 0)²`` (σ̂ descending), a certified tail of the true σ's."""
    lowered = jnp.maximum(sigma - delta, 0.0) ** 2
    return jnp.sum(jnp.where(jnp.arange(sigma.shape[0]) >= k - 1, lowered, 0.0))


def _householder_basis(e):
    """(m, m−1) orthonormal basis of ``e^⊥`` for the unit vector ``e``.

    Columns 2…m of the Householder reflection that maps ``e₁`` to ``−sign(e₀)·e``; its
    vector ``v = e₁ + sign(e₀)·e`` never cancels, so the basis is orthonormal to rounding.
    """
    m = e.shape[0]
    sign = jnp.where(e[0] >= 0, 1.0, -1.0).astype(e.dtype)
    v = (e * sign).at[0].add(1.0)
    h = jnp.eye(m, dtype=e.dtype) - 2.0 * jnp.outer(v, v) / jnp.dot(v, v)
    return h[:, 1:]


def _ky_fan(a, r):
    """Sum of the ``r`` (traced) largest eigenvalues of the symmetric ``a``."""
    lam = _linalg.eigvalsh(a)[::-1]
    return jnp.sum(jnp.where(jnp.arange(lam.shape[0]) < r, lam, 0.0))


def _fantope(m, r):
    """Frobenius projection of symmetric ``m`` onto ``{0 ⪯ X ⪯ I, tr X = r}``.

    The projection keeps ``m``'s eigenvectors and maps its eigenvalues ``λ`` to
    ``clip(λ − θ, 0, 1)`` with ``Σ clip(λ_i − θ, 0, 1) = r``. That sum is piecewise linear
    and non-increasing in ``θ`` with breakpoints ``λ_i`` and ``λ_i − 1``, so ``θ`` is found
    exactly, without iterating: evaluate the sum at the ``2m`` sorted breakpoints and
    interpolate linearly between the two that bracket ``r``.
    """
    lam, q = _linalg.eigh(m)
    points = jnp.sort(jnp.concatenate([lam - 1.0, lam]))
    trace = jnp.sum(jnp.clip(lam[None, :] - points[:, None], 0.0, 1.0), axis=1)  # descending
    r = jnp.asarray(r, lam.dtype)
    hi = jnp.clip(jnp.sum(trace > r), 1, points.shape[0] - 1)  # trace[hi − 1] > r ≥ trace[hi]
    p0, p1, t0, t1 = points[hi - 1], points[hi], trace[hi - 1], trace[hi]
    frac = jnp.where(t0 > t1, (t0 - r) / jnp.where(t0 > t1, t0 - t1, 1.0), 0.0)
    theta = jnp.where(trace[0] <= r, points[0], p0 + jnp.clip(frac, 0.0, 1.0) * (p1 - p0))
    gamma = jnp.clip(lam - theta, 0.0, 1.0)
    return (q * gamma[None, :]) @ q.T


class AdmmState(NamedTuple):
    """ADMM iterate of :func:`admm_dual_bound`, to warm-start a related problem.

    Attributes: y: the clipped iterate ``Y``; u: the scaled dual ``U`` (``N = ρ·max(−U, 0)``);
    rho: the penalty ``ρ``.
    """

    y: Float[Array, "m m"] | Float[np.ndarray, "m m"]  # host copies on the B&B stack
    u: Float[Array, "m m"] | Float[np.ndarray, "m m"]
    rho: Float[Array, ""] | Float[np.ndarray, ""]


def dual_certificate(g, e, fixed, k, u, rho, *, gerr=0.0, basis=None):
    """The certified bound ``LB(N)`` of a scaled dual ``U`` (any ``U``, any ``ρ > 0``).

    ``N = ρ·max(−U, 0)`` on free entries (the clip makes ``N ≥ 0``, so ``N`` is dual
    feasible for ``Z ≥ 0``), ``N = −ρU`` on ``fixed`` ones (``Z = 0`` there: any sign), and
    ``LB(N) = tr g − eᵀ(g + N)e − KyFan_{k−1}(Vᵀ(g + N)V)`` less its rounding allowance and
    ``gerr``. Inside :func:`admm_dual_bound` the iterate already has ``U = min(U + Z, 0) ≤ 0``
    after every step, so there the clip changes nothing; it is what keeps the bound valid
    for a ``U`` from anywhere else (a mapped warm start, another solver). Returns
    ``(bound, N)``.
    """
    m = g.shape[0]
    basis = _householder_basis(e) if basis is None else basis
    nmul = rho * jnp.where(fixed, -u, jnp.maximum(-u, 0.0))
    gn = g + nmul
    a = basis.T @ gn @ basis
    lb = jnp.trace(g) - e @ gn @ e - _ky_fan(0.5 * (a + a.T), k - 1)
    scale = jnp.trace(g) + jnp.abs(e @ gn @ e) + jnp.sqrt(jnp.sum(gn**2))
    return lb - tolerance.FACTOR * tolerance.eps(g.dtype) * m * scale - gerr, nmul


def admm_dual_bound(g, e, fixed, k, *, gerr, stop_at, tol, max_iter: int, every: int,
                    init: AdmmState | None = None, horizon=None):
    """Best certified Peng–Wei dual bound ``LB(N)`` by ADMM on ``{Z ≥ 0, Z e = e, …}``.

    The one ADMM loop of the SDP bounds: the root bound of :func:`fold_lower_bound` (``e =
    1/√n``, nothing ``fixed``) and every node of :func:`projgeo.exact_fold_bnb` (``e`` the
    normalised group sizes, ``fixed`` the cannot-linked entries, forced to 0). ``g`` is the
    Gram matrix normalised to ``tr g = 1``; ``Z`` is projected onto ``e eᵀ + V X Vᵀ`` with
    ``V`` an orthonormal basis of ``e^⊥`` and ``X`` in the Fantope of rank ``k − 1``.

    Every ``every`` steps (and the last) the current multiplier ``N = ρ·max(−U, 0)`` (free
    sign on ``fixed`` entries) is certified: ``LB(N) = tr g − eᵀ(g + N)e − KyFan_{k−1}(Vᵀ(g +
    N)V)`` is a lower bound for any such ``N`` (weak duality), less its rounding allowance and
    ``gerr``. Residual balancing as in Boyd et al. (2011, §3.4.1). Stops at ``max_iter``
    steps, once the residual is ≤ ``tol``, or once the bound reaches ``stop_at``; with a
    ``horizon`` (B&B nodes), also once the bound stalls: when even its last gain per check,
    repeated for ``horizon`` more steps, would not reach ``stop_at``. The start is ``init``
    (any state: the bound is valid from every ``N``) or ``Y = proj(0), U = 0, ρ = 1/m``.

    Returns ``(bound, Z̃, iterations, residual, final AdmmState, N)``, ``N`` the multiplier
    of the best bound (in ``g``'s units; zeros if no bound was certified).
    """
    m = g.shape[0]
    basis = _householder_basis(e)
    ee = jnp.outer(e, e)
    dtype = g.dtype

    def project(mat):
        t = basis.T @ mat @ basis
        return ee + basis @ _fantope(0.5 * (t + t.T), k - 1) @ basis.T

    def certify(u, rho):
        return dual_certificate(g, e, fixed, k, u, rho, gerr=gerr, basis=basis)

    inf = jnp.asarray(jnp.inf, dtype)

    def cond(state):
        it, _, _, _, best, _, res, gain, _ = state
        stalled = jnp.zeros((), bool)
        if horizon is not None:  # gain is +inf until a second bound was certified
            reach = best + gain * (horizon / every)
            stalled = (it > 0) & jnp.isfinite(stop_at) & (reach < stop_at)
        return (it < max_iter) & (best < stop_at) & ((it == 0) | (res > tol)) & ~stalled

    def body(state):
        it, y, u, rho, best, _, _, gain, best_n = state
        z = project(y - u + g / rho)
        y_new = jnp.where(fixed, 0.0, jnp.maximum(z + u, 0.0))
        u = u + z - y_new
        primal = jnp.sqrt(jnp.sum((z - y_new) ** 2) / m)
        dual = rho * jnp.sqrt(jnp.sum((y_new - y) ** 2) / m)
        res = jnp.maximum(primal, dual)
        check = (it % every == every - 1) | (it + 1 >= max_iter) | (res <= tol)
        lb, nmul = jax.lax.cond(check, lambda: certify(u, rho),
                                lambda: (-inf, jnp.zeros_like(g)))
        best_n = jnp.where(lb > best, nmul, best_n)  # the certificate of the best bound
        # the gain of the last check; +inf until two finite bounds were seen (no stall yet)
        new_best = jnp.maximum(best, lb)
        gain = jnp.where(check, jnp.where(jnp.isfinite(best), new_best - best, inf), gain)
        factor = jnp.where(primal > 10.0 * dual, 2.0, jnp.where(dual > 10.0 * primal, 0.5, 1.0))
        factor = factor.astype(dtype)
        return it + 1, y_new, u / factor, rho * factor, new_best, z, res, gain, best_n

    if init is None:
        y0 = project(jnp.zeros((m, m), dtype))
        init = AdmmState(y0, jnp.zeros_like(g), jnp.asarray(1.0 / m, dtype))
    state = (jnp.zeros((), jnp.int32), init.y, init.u, init.rho, -inf, init.y, inf, inf,
             jnp.zeros_like(g))
    it, y, u, rho, best, z, res, _, best_n = jax.lax.while_loop(cond, body, state)
    return best, z, it, res, AdmmState(y, u, rho), best_n


@functools.partial(jax.jit, static_argnames=("method", "max_iter"))
def _lower_bound(w, k, tol, *, method: str, max_iter: int) -> FoldLowerBound:
    n, d = w.shape
    ws, wc, unit = _centred(w)
    sigma = jnp.sort(_linalg.svdvals(wc))[::-1]
    delta = _perturbation(ws, wc, sigma[0])
    spectral = _spectral(sigma, delta, k)
    zero_i, zero_f = jnp.zeros((), jnp.int32), jnp.zeros((), w.dtype)
    if method == "spectral" or n == 1:
        s = spectral * unit
        return FoldLowerBound(s, s, s, zero_i, zero_f, jnp.zeros((n, n), w.dtype))

    g = wc @ wc.T
    tr = jnp.trace(g)
    g = g / jnp.where(tr > 0, tr, 1.0)  # tr g = 1: step size independent of scale
    # |tr G − tr Ĝ| ≤ rank·‖G − Ĝ‖₂ and |KyFan_{k−1} change| ≤ (k − 1)·‖G − Ĝ‖₂.
    gerr = (min(n, d) + k - 1) * (2 * sigma[0] * delta + delta**2) / jnp.where(tr > 0, tr, 1.0)
    e = jnp.full((n,), 1.0 / np.sqrt(n), w.dtype)
    best, _, it, res, _, nmul = admm_dual_bound(g, e, jnp.zeros((n, n), bool), k, gerr=gerr,
                                                stop_at=jnp.inf, tol=tol, max_iter=max_iter,
                                                every=10)
    sdp = jnp.maximum(best, 0.0) * tr * unit
    spectral = spectral * unit
    return FoldLowerBound(jnp.maximum(sdp, spectral), spectral, sdp, it, res,
                          nmul * (jnp.where(tr > 0, tr, 1.0) * unit))


@jax.jit
def _spectral_path(w):
    """Spectral bounds for k = 1…n on the scaled copy, and ``‖W‖_F²`` of that copy."""
    ws, wc, unit = _centred(w)
    sigma = jnp.sort(_linalg.svdvals(wc))[::-1]
    delta = _perturbation(ws, wc, sigma[0])
    lowered = jnp.maximum(sigma - delta, 0.0) ** 2
    tails = jnp.cumsum(lowered[::-1])[::-1]  # tails[i] = Σ_{j ≥ i} lowered[j]
    n = w.shape[0]
    path = jnp.zeros((n,), w.dtype).at[: tails.shape[0]].set(tails)
    return path, unit, jnp.sum(ws * ws)


def spectral_bound_path(w: Float[Array, "n d"], *, relative: bool = False
                        ) -> Float[Array, " n"]:
    """The spectral bound of :func:`fold_lower_bound` at every ``k = 1…n`` from one SVD.

    ``path[k − 1] ≤ OPT_fold(k)`` (C4, C5). With ``relative``, divided by ``‖W‖_F²``
    (computed on the rescaled copy: finite for any finite ``w``).
    """
    w = _checks.check_weights(w)
    path, unit, total = _spectral_path(w)
    if relative:
        return path / jnp.where(total > 0, total, 1.0)
    return path * unit


def fold_lower_bound(w: Float[Array, "n d"], k, *, method: str = "spectral",
                     max_iter: int = 500, tol: float = 1e-6) -> FoldLowerBound:
    """A certified lower bound ``LB ≤ OPT_fold(k)`` (C4, C5; see the module docstring).

    ``k`` is a runtime value: every ``k`` on one ``(n, d, dtype)`` and method reuses one
    compiled program.

    Args:
      w: (n, d) floating weights, finite.
      k: number of clusters, ``1 ≤ k ≤ n``.
      method: ``"spectral"`` (one SVD, ``O(n d min(n, d))``) or ``"sdp"`` (Peng–Wei
        relaxation by ADMM, one ``n×n`` eigendecomposition per iteration; the returned
        ``bound`` is the better of the two).
      max_iter: ADMM iteration cap (``method="sdp"``), a positive int.
      tol: ADMM stops once both residuals (see :class:`FoldLowerBound`) are below ``tol`` (> 0).

    Returns:
      :class:`FoldLowerBound`, scalars of ``w``'s dtype.

    Raises:
      TypeError, ValueError: on bad ``w``, ``k``, ``method``, ``max_iter`` or ``tol``.
    """
    w = _checks.check_weights(w)
    k = _checks.check_k(k, w.shape[0])
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    max_iter = _checks.check_count(max_iter, "max_iter")
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol > 0:
        raise ValueError(f"tol must be a positive float; got {tol!r}.")
    return _lower_bound(w, jnp.asarray(k, jnp.int32), jnp.asarray(tol, w.dtype),
                        method=method, max_iter=int(max_iter))
