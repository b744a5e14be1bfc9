"""C7 on single layers and on the ingredients of every bound (parts of the C7 checker).

* **activations**: ``sup|σ'| ≤ L_σ`` on a fine grid (autodiff), ``L_σ`` sharp to 1e-6, ``σ(0)``;
* **layers**: (d) exactly, as the expectation over the Rademacher cube ``{±1}^d``
  (``E[xxᵀ] = I``) by enumeration, and by Monte Carlo with Gaussian inputs and a
  Bonferroni-corrected confidence interval that must contain ``||ΔW||_F²``; (a) at the worst
  input (the top right singular vector of ``ΔW``), where a linear layer attains it;
* **spectral norms**: the certified bracket of the power-iteration path contains the SVD value.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import (
    FoldProjector,
    _linalg,
    activations,
    bounds,
    magnitude_prune,
    pruning_partition,
    spectral,
)
from proofs_check import _instances, _networks
from proofs_check.frame import Context, Tally, work_dtype

#: (d): a (LAYER_N, LAYER_D) block of each bank matrix, ranks LAYER_K; Monte Carlo samples.
LAYER_N, LAYER_D, LAYER_K = 12, 6, 4
MC_SAMPLES = 1000
MC_FAMILY_ALPHA = 1e-3


def _rademacher(d: int) -> np.ndarray:
    """All ``2^d`` points of ``{±1}^d``: the uniform distribution on them has ``E[xxᵀ] = I``."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=d)))


@jax.jit
def _layer_batch(bank, ai, labels, cube, gauss):
    def one(m, ai, labels, gauss):
        w = m[:LAYER_N, :LAYER_D] * math.sqrt(m.shape[1] / LAYER_D)
        sig, lip = _networks.sigma(ai), _networks.lipschitz(ai)
        star = magnitude_prune(w, LAYER_K)
        sets = {"prune": star, "fold_pi_S*": pruning_partition(star),
                "fold_random": FoldProjector(labels, LAYER_K)}
        pws = {s: p.apply(w) for s, p in sets.items()}
        svds = {s: _linalg.svd(w - pw) for s, pw in pws.items()}
        # Inputs per set: the cube, the Gaussian samples, and ±(top right singular vector of
        # ΔW), the worst input for (a). One sigma call for everything (compile time).
        xs = jnp.stack([jnp.concatenate([cube, gauss, jnp.stack([v[0], -v[0]])])
                        for _, _, v in svds.values()])
        pre = jnp.stack([jnp.einsum("smd,nd->smn", xs, w),
                         jnp.stack([x @ pw.T for x, pw in zip(xs, pws.values(), strict=True)])])
        act = sig(pre)
        sq = jnp.sum((act[0] - act[1]) ** 2, axis=-1)  # (sets, inputs)
        c, g = cube.shape[0], gauss.shape[0]
        out = {}
        for i, s in enumerate(sets):
            dw = w - pws[s]
            sv = svds[s][1]
            lin = jnp.sum((xs[i] @ dw.T) ** 2, axis=1)
            out[s] = {"fro2": jnp.sum(dw * dw), "spec": sv[0],
                      "exact_lin": jnp.mean(lin[:c]), "exact_sig": jnp.mean(sq[i, :c]),
                      "mc_lin": jnp.mean(lin[c:c + g]), "mc_lin_sd": jnp.std(lin[c:c + g], ddof=1),
                      "mc_sig": jnp.mean(sq[i, c:c + g]),
                      "mc_sig_sd": jnp.std(sq[i, c:c + g], ddof=1),
                      "worst_measured": jnp.max(jnp.sqrt(sq[i, c + g:])),
                      "worst_bound": bounds.layer_bound(sv[0], 1.0, lip),
                      "w_sq": jnp.sum(w * w), "lip": lip}
        return out

    return jax.vmap(one)(bank, ai, labels, gauss)



@jax.jit
def _spectral_batch(bank):
    def one(a):
        exact = _linalg.norm2(a)
        big = spectral.spectral_norm(a, exact_max=0)
        return {"exact": exact, "upper": big.upper, "lower": big.lower,
                "fro": jnp.linalg.norm(a), "small": spectral.spectral_norm(a).upper}

    return jax.vmap(one)(bank)



@jax.jit
def _activation_grid(z):
    def one(i):
        sig = _networks.sigma(i)
        slope = jax.vmap(jax.grad(lambda t: sig(t)))(z)
        return jnp.max(jnp.abs(slope)), sig(jnp.zeros(()))

    return jax.vmap(one)(jnp.arange(len(_networks.ACTS)))



QUANTILES = (0.0, 0.05, 0.5, 0.95, 1.0)


def slack(measured, bound, where=None) -> dict:
    """Distribution of ``bound / measured`` over the trials with ``measured > 0``."""
    measured, bound = np.asarray(measured, float).ravel(), np.asarray(bound, float).ravel()
    pos = measured > 0
    if not pos.any():
        return {"count": 0, "zero_measured": int(measured.size)}
    r = bound[pos] / measured[pos]
    out = {"count": int(pos.sum()), "zero_measured": int((~pos).sum()),
           **{f"q{int(100 * q):02d}": float(np.quantile(r, q)) for q in QUANTILES}}
    if where is not None:
        out["tightest_at"] = str(np.asarray(where).ravel()[pos][np.argmin(r)])
    return out



def check_activations(ctx: Context, tally: Tally) -> None:
    z = np.linspace(-40.0, 40.0, 160001)
    slope, at0 = map(np.asarray, _instances.run_fast(_activation_grid, jnp.asarray(z)))
    lip = np.asarray(activations.lipschitz_table())
    b = tally.batch(len(_networks.ACTS), "activations")
    names = np.array(_networks.ACTS)
    kw = dict(dtype=work_dtype(), scale=lip, terms=1, activation=names)
    b.leq("activations: sup |sigma'| on a grid <= L_sigma", slope, lip, **kw)
    b.leq("activations: L_sigma <= (1 + 1e-6) sup |sigma'| (sharp)", lip, slope * (1 + 1e-6), **kw)
    b.equal("activations: sigma(0) as registered", at0, np.asarray(activations.at_zero_table()),
            dtype=work_dtype(), scale=1.0, terms=1, activation=names)
    b.done()
    tally.details["activations"] = {
        n: {"lipschitz": float(l_), "grid_sup_slope": float(s), "sigma_0": float(a)}
        for n, l_, s, a in zip(names, lip, slope, at0, strict=True)}



def check_layers(ctx: Context, tally: Tally) -> None:
    bank, fam = _networks.bank(ctx.seed, _networks.PER_FAMILY * ctx.scale)
    ai, act = _networks.activation_grid(fam)
    t = len(fam)
    gen = _networks.rng(ctx.seed, 7, 3)
    gauss = gen.standard_normal((t, MC_SAMPLES, LAYER_D))
    cube = _rademacher(LAYER_D)
    q = jax.tree.map(np.asarray, _layer_batch(
        bank, ai, _networks.partitions(gen, t, LAYER_N, LAYER_K), jnp.asarray(cube), gauss))
    b = tally.batch(t, "layers: (a) worst input, (d) isotropic")
    intervals = 2 * len(q) * t
    z = NormalDist().inv_cdf(1.0 - MC_FAMILY_ALPHA / (2 * intervals))
    linear = act == "linear"
    slacks, misses = {}, 0
    for s, r in q.items():
        kw = dict(dtype=work_dtype(), terms=cube.size * LAYER_N, family=fam, activation=act)
        lip2 = r["lip"] ** 2
        b.equal(f"{s}: (d) exact E||dW x||^2 = ||dW||_F^2 (Rademacher cube)", r["exact_lin"],
                r["fro2"], scale=r["w_sq"], **kw)
        b.leq(f"{s}: (d) exact E||s(Wx) - s(PWx)||^2 <= L^2 ||dW||_F^2", r["exact_sig"],
              lip2 * r["fro2"], scale=lip2 * r["w_sq"], **kw)
        half = z * r["mc_lin_sd"] / math.sqrt(MC_SAMPLES)
        inside = np.abs(r["mc_lin"] - r["fro2"]) <= half + 1e-12 * r["w_sq"]
        misses += int((~inside).sum())
        b.true(f"{s}: (d) Monte Carlo CI of E||dW x||^2 contains ||dW||_F^2", inside,
               family=fam, mc=r["mc_lin"], exact=r["fro2"], half_width=half)
        half_s = z * r["mc_sig_sd"] / math.sqrt(MC_SAMPLES)
        b.leq(f"{s}: (d) Monte Carlo CI lower end of E||s(Wx) - s(PWx)||^2 <= L^2||dW||_F^2",
              r["mc_sig"] - half_s, lip2 * r["fro2"], scale=lip2 * r["w_sq"], **kw)
        b.leq(f"{s}: (a) at the worst input (top singular vector of dW)", r["worst_measured"],
              r["worst_bound"], scale=r["lip"] * np.sqrt(r["w_sq"]), **kw)
        b.equal(f"{s}: (a) is attained by a linear layer at the worst input",
                np.where(linear, r["worst_measured"], 0.0),
                np.where(linear, r["worst_bound"], 0.0), scale=np.sqrt(r["w_sq"]), **kw)
        slacks[f"(a) worst input {s}"] = slack(r["worst_measured"], r["worst_bound"],
                                               np.char.add(np.char.add(fam, "/"), act))
        slacks[f"(d) exact {s}"] = slack(r["exact_sig"], lip2 * r["fro2"],
                                         np.char.add(np.char.add(fam, "/"), act))
    b.done()
    tally.details["layers"] = {
        "shape": [LAYER_N, LAYER_D], "rank_k": LAYER_K, "rademacher_points": len(cube),
        "monte_carlo": {"samples": MC_SAMPLES, "intervals": intervals,
                        "family_wise_alpha": MC_FAMILY_ALPHA, "z": round(z, 3),
                        "intervals_missing_the_closed_form": misses},
        "slack": slacks}


def check_spectral(ctx: Context, tally: Tally) -> None:
    bank, fam = _networks.bank(ctx.seed, _networks.PER_FAMILY * ctx.scale)
    q = jax.tree.map(np.asarray, _instances.run_fast(_spectral_batch, bank))
    b = tally.batch(len(fam), "spectral norm certificates")
    kw = dict(dtype=work_dtype(), scale=q["exact"], terms=bank.shape[1] * bank.shape[2],
              family=fam)
    b.leq("spectral: power-iteration lower <= ||A||_2", q["lower"], q["exact"], **kw)
    b.leq("spectral: ||A||_2 <= certified upper (large-matrix path)", q["exact"], q["upper"], **kw)
    b.leq("spectral: ||A||_2 <= certified upper (SVD path)", q["exact"], q["small"], **kw)
    b.done()
    ok = q["exact"] > 0
    ratio = q["upper"][ok] / q["exact"][ok]
    tally.details["spectral"] = {
        "shape": list(bank.shape[1:]),
        "certified_upper_over_exact": {f"q{int(100 * p):02d}": float(np.quantile(ratio, p))
                                       for p in QUANTILES},
        "frobenius_over_exact_median": float(np.median(q["fro"][ok] / q["exact"][ok]))}
