"""C7 checker: the measured functional perturbation never exceeds the Lipschitz bounds.

Parts (each a batch of trials in the report):

* **activations**: ``sup|σ'| ≤ L_σ`` on a fine grid (autodiff), and ``L_σ`` is sharp (the grid
  maximum is within 1e-6 of it); ``σ(0)`` as registered;
* **MLPs** (random, from every family and activation, and trained on the digits), compressed
  by magnitude pruning at ``k``, the *certified* fold at ``k + 1`` (C4(ii)), a random keep-set
  and a random partition at ``k``: (a) at each hidden layer, (b) each layer alone, (c) every
  hidden layer, in the spectral and the Frobenius forms, and (e) cross-entropy, directly and
  chained with (c). In the Frobenius form the certified fold at ``k + 1`` must never be above
  pruning at ``k`` (a theorem, via C4); how often the *measured* perturbations follow the same
  order is reported as a rate (not a theorem);
* **gated blocks**: the extension of (a) in ``bounds.gated_bound``;
* **layers**: (d) exactly, as the expectation over the Rademacher cube ``{±1}^d``
  (``E[xxᵀ] = I``) by enumeration, and by Monte Carlo with Gaussian inputs and a
  Bonferroni-corrected confidence interval that must contain ``||ΔW||_F²``; and (a) at the worst
  input (the top right singular vector of ``ΔW``), where it is attained for a linear layer;
* **spectral norms**: the certified bracket of the power-iteration path contains the SVD value.

The slack (bound / measured) is summarised per bound in the details.
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
    activations,
    bounds,
    compress_network,
    fold,
    magnitude_prune,
    networks,
    projection_error,
    pruning_partition,
    spectral,
)
from proofs_check import _digits, _networks
from proofs_check.c6_compression_equals_projection import _run_grouped
from proofs_check.frame import Claim, Context, Tally

CLAIM = Claim(
    "C7",
    "Lipschitz functional-perturbation bounds",
    "||f - f^|| <= (a)-(e); Frobenius: fold k+1 <= prune k",
)
RANK = 6  # channels kept per hidden layer of the MLPs
N_INPUTS = 8
PER_FAMILY = 21
TRAINED_SEEDS = 1
SETS = ("prune", "fold", "fold_random")
#: (d): a (LAYER_N, LAYER_D) block of each bank matrix, ranks LAYER_K; Monte Carlo samples.
LAYER_N, LAYER_D, LAYER_K = 12, 6, 4
MC_SAMPLES = 1000
MC_FAMILY_ALPHA = 1e-3


def certified_fold(rows, k: int):
    """Folding at ``k + 1`` certified by C4(ii): k-means warm-started from ``π_{S*}``."""
    return fold(rows, k + 1, init=pruning_partition(magnitude_prune(rows, k)).labels).labels


# ---------------------------------------------------------------------------
# Kernels.


def _pad(a, cols: int):
    return jnp.pad(a, ((0, 0), (0, cols - a.shape[1])))


@jax.jit
def _certified_folds(params):
    """Certified-fold labels (k+1 clusters) of both hidden layers of a batch of MLPs."""
    def one(params):
        rows = [compress_network.layer_rows(params, j) for j in range(2)]
        width = max(r.shape[1] for r in rows)
        # Zero columns change neither row norms nor k-means: one vmapped fold for both layers.
        return jax.vmap(lambda r: certified_fold(r, RANK))(
            jnp.stack([_pad(r, width) for r in rows]))

    return jax.vmap(one)(params)


@jax.jit
def _mlp_batch(params, xs, ys, ai, fold_labels, labels):
    def one(params, xs, ys, ai, fold_labels, labels):
        sig, lip, z0 = _networks.sigma(ai), _networks.lipschitz(ai), _networks.at_zero(ai)
        rows = [compress_network.layer_rows(params, j) for j in range(2)]
        sets = {
            "prune": tuple(magnitude_prune(r, RANK) for r in rows),
            "fold": tuple(FoldProjector(fold_labels[j], RANK + 1) for j in range(2)),
            "fold_random": tuple(FoldProjector(labels[j], RANK) for j in range(2)),
        }
        nets = {"full": params}
        for s, ps in sets.items():
            nets[f"{s} all"] = compress_network.project(params, ps)
            for j in range(2):
                nets[f"{s} {j}"] = compress_network.project(params, {j: ps[j]})

        def run(p):
            return jax.vmap(lambda x: networks.mlp(p, x, sig))(xs)

        outs = _run_grouped(nets, run)
        f = outs["full"]
        ce = jax.vmap(bounds.cross_entropy)(f, ys)
        x_norm = jnp.linalg.norm(xs, axis=1)
        layer_norms = bounds.layer_norms(params)
        # (a) at hidden layer j, at the full network's own input z_j to it; one sigma call
        # per layer for the full and every projected layer (each call site costs compile time).
        z, moved, z_norm = xs, {}, []
        for j in range(2):
            pre = jnp.stack([jax.vmap(lambda x, lay=p[j]: networks.dense(lay, x))(z)
                             for p in [params] + [nets[f"{s} all"] for s in sets]])
            act = sig(pre)
            z_norm.append(jnp.sqrt(jnp.sum(z * z, axis=1) + 1.0))
            moved[j] = jnp.linalg.norm(act[0] - act[1:], axis=-1)
            z = act[0]
        out = {"energy": {s: jnp.stack([projection_error(rows[j], p) for j, p in enumerate(ps)])
                          for s, ps in sets.items()}}
        for i, (s, ps) in enumerate(sets.items()):
            res = {}
            for key in ("all", 0, 1):
                y = outs[f"{s} {key}"]
                res[f"measured {key}"] = jnp.linalg.norm(f - y, axis=1)
                if key == "all":
                    res["ce_gap"] = jnp.abs(ce - jax.vmap(bounds.cross_entropy)(y, ys))
            for form in bounds.NORMS:
                nb = jax.vmap(lambda xn, ps=ps, form=form: bounds.mlp_bound(
                    params, ps, xn, lip, z0, norm=form, norms=layer_norms))(x_norm)
                res[f"{form} (b)"], res[f"{form} (c)"] = nb.one_layer, nb.all_layers
                res["output"] = nb.output
            deltas = bounds.delta_norms(params, ps)
            for j in range(2):
                res[f"(a) measured {j}"] = moved[j][i]
                res[f"(a) bound {j}"] = bounds.layer_bound(deltas[j], z_norm[j], lip)
                res[f"(a) scale {j}"] = lip * layer_norms[j] * z_norm[j]
            out[s] = res
        return out

    return jax.vmap(one)(params, xs, ys, ai, fold_labels, labels)


@jax.jit
def _gated_batch(bank, xs, ai, labels):
    def one(m, xs, ai, labels):
        params = _networks.carve("gated", m)
        sig, lip, z0 = _networks.sigma(ai), _networks.lipschitz(ai), _networks.at_zero(ai)
        star = magnitude_prune(compress_network.layer_rows(params, 0), _GATED_K)
        sets = {"prune": star, "fold_pi_S*": pruning_partition(star),
                "fold_random": FoldProjector(labels, _GATED_K)}
        nets = {"full": params} | {s: compress_network.project(params, p)
                                   for s, p in sets.items()}
        ys = _run_grouped(nets, lambda p: jax.vmap(lambda x: networks.gated(p, x, sig))(xs))
        x_norm = jnp.linalg.norm(xs, axis=1)
        scale = jnp.linalg.norm(jax.vmap(lambda x: networks.magnitude(params, x, lip, z0))(xs),
                                axis=1)
        return {s: {"measured": jnp.linalg.norm(ys["full"] - ys[s], axis=1),
                    "bound": jax.vmap(lambda xn, p=p: bounds.gated_bound(
                        params, p, xn, lip, z0))(x_norm),
                    "scale": scale} for s, p in sets.items()}

    return jax.vmap(one)(bank, xs, ai, labels)


_GATED_K = 3


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
        svds = {s: jnp.linalg.svd(w - pw) for s, pw in pws.items()}
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
        exact = jnp.linalg.norm(a, 2)
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


# ---------------------------------------------------------------------------
# Host side: the checks and the report.

_QUANTILES = (0.0, 0.05, 0.5, 0.95, 1.0)


def _slack(measured, bound, where=None) -> dict:
    """Distribution of ``bound / measured`` over the trials with ``measured > 0``."""
    measured, bound = np.asarray(measured, float).ravel(), np.asarray(bound, float).ravel()
    pos = measured > 0
    if not pos.any():
        return {"count": 0, "zero_measured": int(measured.size)}
    r = bound[pos] / measured[pos]
    out = {"count": int(pos.sum()), "zero_measured": int((~pos).sum()),
           **{f"q{int(100 * q):02d}": float(np.quantile(r, q)) for q in _QUANTILES}}
    if where is not None:
        out["tightest_at"] = str(np.asarray(where).ravel()[pos][np.argmin(r)])
    return out


def _per_input(a, n: int):
    """Broadcast per-trial labels to the (trials, inputs) grid of the measurements."""
    return np.repeat(np.asarray(a)[:, None], n, axis=1)


def _check_activations(tally: Tally) -> None:
    z = np.linspace(-40.0, 40.0, 160001)
    slope, at0 = map(np.asarray, _networks.run_fast(_activation_grid, jnp.asarray(z)))
    lip = np.asarray(activations.lipschitz_table())
    b = tally.batch(len(_networks.ACTS), "activations")
    names = np.array(_networks.ACTS)
    kw = dict(dtype=np.float64, scale=lip, terms=1, activation=names)
    b.leq("activations: sup |sigma'| on a grid <= L_sigma", slope, lip, **kw)
    b.leq("activations: L_sigma <= (1 + 1e-6) sup |sigma'| (sharp)", lip, slope * (1 + 1e-6), **kw)
    b.equal("activations: sigma(0) as registered", at0, np.asarray(activations.at_zero_table()),
            dtype=np.float64, scale=1.0, terms=1, activation=names)
    b.done()
    tally.details["activations"] = {
        n: {"lipschitz": float(l_), "grid_sup_slope": float(s), "sigma_0": float(a)}
        for n, l_, s, a in zip(names, lip, slope, at0, strict=True)}


def _mlp_instances(ctx: Context):
    """Random MLPs carved from the bank plus MLPs trained on the digits, with inputs."""
    bank, fam = _networks.bank(ctx.seed, PER_FAMILY * ctx.scale)
    ai, act = _networks.activation_grid(fam)
    carve = jax.jit(jax.vmap(lambda m: _networks.carve("mlp", m)))
    rand = carve(bank)
    n_acts = len(_networks.ACTS)
    t_ai = jnp.asarray(np.tile(np.arange(n_acts), TRAINED_SEEDS), jnp.int32)
    # Trained nets start from the bank's gaussian-family networks (its first block).
    init = jax.tree.map(lambda a: a[: t_ai.shape[0]], rand)
    trained, loss, acc, (x_te, y_te) = _digits.train(init, t_ai, ctx.seed)
    gen = _networks.rng(ctx.seed, 7, 0)
    t = len(fam)
    xs = np.concatenate([gen.standard_normal((t, N_INPUTS, _networks.MLP_SIZES[0])),
                         x_te[: t_ai.shape[0] * N_INPUTS].reshape(-1, N_INPUTS, x_te.shape[1])])
    ys = np.concatenate([gen.integers(0, _networks.MLP_SIZES[-1], (t, N_INPUTS)),
                         y_te[: t_ai.shape[0] * N_INPUTS].reshape(-1, N_INPUTS)]).astype(np.int32)
    params = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), rand, trained)
    names = np.concatenate([fam, np.full(t_ai.shape[0], "trained_digits")])
    acts = np.concatenate([act, np.array(_networks.ACTS)[np.asarray(t_ai)]])
    info = {"train_steps": _digits.STEPS, "seeds": TRAINED_SEEDS,
            "final_train_loss": {f"{a}/{i // n_acts}": round(float(v), 4)
                                 for i, (a, v) in enumerate(zip(acts[t:], loss, strict=True))},
            "test_accuracy": {f"{a}/{i // n_acts}": round(float(v), 4)
                              for i, (a, v) in enumerate(zip(acts[t:], acc, strict=True))}}
    return params, xs, ys, jnp.concatenate([ai, t_ai]), names, acts, info


def _check_mlps(ctx: Context, tally: Tally) -> None:
    params, xs, ys, ai, fam, act, info = _mlp_instances(ctx)
    t = len(fam)
    gen = _networks.rng(ctx.seed, 7, 1)
    n = _networks.MLP_SIZES[1]
    labels = tuple(_networks.partitions(gen, t, n, RANK) for _ in range(2))
    folds = _networks.run_fast(_certified_folds, params)
    q = jax.tree.map(np.asarray, _networks.run_fast(_mlp_batch, params, xs, ys, ai, folds, labels))
    terms = sum(_networks.MLP_SIZES[:-1]) + len(_networks.MLP_SIZES)
    b = tally.batch(t, "MLPs (random and trained)")
    fam_in, act_in = _per_input(fam, N_INPUTS), _per_input(act, N_INPUTS)
    where = np.char.add(np.char.add(fam_in.astype(str), "/"), act_in.astype(str))
    kw = dict(dtype=np.float64, terms=terms, family=fam, activation=act)
    slack: dict = {}
    groups = {"random": fam != "trained_digits", "trained": fam == "trained_digits"}

    def record(name, measured, bound):
        for g, sel in groups.items():
            slack.setdefault(name, {})[g] = _slack(measured[sel], bound[sel], where[sel])

    for s in SETS:
        r = q[s]
        for form in bounds.NORMS:
            for j in range(2):
                bnd = r[f"{form} (b)"][..., j]
                b.leq(f"{s}: (b) layer {j} alone [{form}]", r[f"measured {j}"], bnd,
                      scale=r["output"] + bnd, **kw)
                record(f"(b) layer {j} {s} [{form}]", r[f"measured {j}"], bnd)
            bnd = r[f"{form} (c)"]
            b.leq(f"{s}: (c) every hidden layer [{form}]", r["measured all"], bnd,
                  scale=r["output"] + bnd, **kw)
            record(f"(c) {s} [{form}]", r["measured all"], bnd)
        for j in range(2):
            bnd = r[f"(a) bound {j}"]
            b.leq(f"{s}: (a) layer {j}", r[f"(a) measured {j}"], bnd,
                  scale=r[f"(a) scale {j}"] + bnd, **kw)
            record(f"(a) layer {j} {s}", r[f"(a) measured {j}"], bnd)
        ce_scale = bounds.CE_LIPSCHITZ * r["output"]
        b.leq(f"{s}: (e) |CE(f) - CE(f^)| <= sqrt2 ||f - f^||", r["ce_gap"],
              bounds.CE_LIPSCHITZ * r["measured all"], scale=ce_scale, **kw)
        b.leq(f"{s}: (e) |CE(f) - CE(f^)| <= sqrt2 (c)", r["ce_gap"],
              bounds.CE_LIPSCHITZ * r["spectral (c)"], scale=ce_scale + r["spectral (c)"], **kw)
        record(f"(e) {s}", r["ce_gap"], bounds.CE_LIPSCHITZ * r["measured all"])
    # C4 carried over: Frobenius form, certified fold at k+1 never above pruning at k.
    pr, fo = q["prune"], q["fold"]
    e_pr, e_fo = q["energy"]["prune"], q["energy"]["fold"]
    b.leq("C4(ii): E_fold(certified, k+1) <= E_prune(S*, k) per layer", e_fo, e_pr,
          dtype=np.float64, scale=e_pr, terms=16 * 65, family=fam)
    for j in range(2):
        b.leq(f"Frobenius (b) layer {j}: fold k+1 <= prune k", fo["frobenius (b)"][..., j],
              pr["frobenius (b)"][..., j], scale=pr["frobenius (b)"][..., j], **kw)
    b.leq("Frobenius (c): fold k+1 <= prune k", fo["frobenius (c)"], pr["frobenius (c)"],
          scale=pr["frobenius (c)"], **kw)
    b.done()
    order = {}
    for g, sel in groups.items():
        order[g] = {key: float(np.mean(fo[key][sel] <= pr[key][sel]))
                    for key in ("measured all", "measured 0", "measured 1")}
    tally.details["mlp"] = {
        "sizes": list(_networks.MLP_SIZES), "rank_k": RANK, "inputs_per_network": N_INPUTS,
        "random_networks": int(groups["random"].sum()),
        "trained_networks": int(groups["trained"].sum()), "trained": info,
        "projector_sets": {"prune": "magnitude S* at k", "fold": "certified fold at k+1",
                           "fold_random": "random partition at k"},
        "measured_fold_k+1_le_prune_k_rate": order, "slack": slack}


def _check_gated(ctx: Context, tally: Tally) -> None:
    bank, fam = _networks.bank(ctx.seed, PER_FAMILY * ctx.scale)
    ai, act = _networks.activation_grid(fam)
    t, h = len(fam), _networks.GATED_SHAPE[1]
    gen = _networks.rng(ctx.seed, 7, 2)
    xs = gen.standard_normal((t, N_INPUTS, _networks.GATED_SHAPE[0]))
    q = jax.tree.map(np.asarray, _networks.run_fast(
        _gated_batch, bank, xs, ai, _networks.partitions(gen, t, h, _GATED_K)))
    b = tally.batch(t, "gated blocks")
    where = np.char.add(np.char.add(_per_input(fam, N_INPUTS).astype(str), "/"),
                        _per_input(act, N_INPUTS).astype(str))
    slack = {}
    for s, r in q.items():
        b.leq(f"gated {s}: ||f - f^|| <= gated_bound", r["measured"], r["bound"],
              dtype=np.float64, scale=r["scale"] + r["bound"], terms=2 * h,
              family=fam, activation=act)
        slack[s] = _slack(r["measured"], r["bound"], where)
    b.done()
    tally.details["gated"] = {"d_h_dout": list(_networks.GATED_SHAPE), "rank_k": _GATED_K,
                              "slack": slack}


def _check_layers(ctx: Context, tally: Tally) -> None:
    bank, fam = _networks.bank(ctx.seed, PER_FAMILY * ctx.scale)
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
    slack, misses = {}, 0
    for s, r in q.items():
        kw = dict(dtype=np.float64, terms=cube.size * LAYER_N, family=fam, activation=act)
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
        slack[f"(a) worst input {s}"] = _slack(r["worst_measured"], r["worst_bound"],
                                               np.char.add(np.char.add(fam, "/"), act))
        slack[f"(d) exact {s}"] = _slack(r["exact_sig"], lip2 * r["fro2"],
                                         np.char.add(np.char.add(fam, "/"), act))
    b.done()
    tally.details["layers"] = {
        "shape": [LAYER_N, LAYER_D], "rank_k": LAYER_K, "rademacher_points": len(cube),
        "monte_carlo": {"samples": MC_SAMPLES, "intervals": intervals,
                        "family_wise_alpha": MC_FAMILY_ALPHA, "z": round(z, 3),
                        "intervals_missing_the_closed_form": misses},
        "slack": slack}


def _check_spectral(ctx: Context, tally: Tally) -> None:
    bank, fam = _networks.bank(ctx.seed, PER_FAMILY * ctx.scale)
    q = jax.tree.map(np.asarray, _networks.run_fast(_spectral_batch, bank))
    b = tally.batch(len(fam), "spectral norm certificates")
    kw = dict(dtype=np.float64, scale=q["exact"], terms=bank.shape[1] * bank.shape[2],
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
                                       for p in _QUANTILES},
        "frobenius_over_exact_median": float(np.median(q["fro"][ok] / q["exact"][ok]))}


def check(ctx: Context) -> Tally:
    tally = Tally()
    steps = (_check_activations, _check_spectral, _check_layers, _check_gated, _check_mlps)
    for i, step in enumerate(steps):
        if step is _check_activations:
            step(tally)
        else:
            step(ctx, tally)
        ctx.progress.update(i + 1, len(steps), step.__name__[7:])
    tally.details |= {"families": list(_networks.FAMILIES)}
    return tally
