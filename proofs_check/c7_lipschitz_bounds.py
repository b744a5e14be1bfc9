"""C7 checker: the measured functional perturbation never exceeds the Lipschitz bounds.

Parts (each a batch of trials in the report):

* **activations**: ``sup|σ'| ≤ L_σ`` on a fine grid (autodiff), and ``L_σ`` is sharp (the grid
  maximum is within 1e-6 of it); ``σ(0)`` as registered;
* **MLPs** (random, from every family and activation, and trained on the digits), compressed
  by magnitude pruning at ``k``, the *certified* fold at ``k + 1`` (C4(ii)) and a random
  partition at ``k``: (a) at each hidden layer, (b) each layer alone, (c) every
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

The slack (bound / measured) is summarised per bound in the details. The single-layer parts
(activations, layers, spectral norms) live in :mod:`proofs_check._c7_layers`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import projgeo
from projgeo import (
    FoldProjector,
    bounds,
    compress_network,
    magnitude_prune,
    networks,
    projection_error,
    pruning_partition,
)
from proofs_check import _c7_constructed, _c7_layers, _digits, _instances, _networks
from proofs_check.frame import Claim, Context, Tally, work_dtype

CLAIM = Claim(
    "C7",
    "Lipschitz functional-perturbation bounds",
    "||f(x) - f^(x)|| <= bounds (a)-(e) built from L_sigma, ||W_j||_2 and ||Delta W_l|| = "
    "||(I - P) W_l||; in the Frobenius form the fold at k + 1 gives a bound no larger than "
    "pruning at k",
)
RANK = 6  # channels kept per hidden layer of the MLPs
N_INPUTS = 8
TRAINED_SEEDS = 1
SETS = ("prune", "fold", "fold_random")
#: Channels kept in the gated blocks' hidden layer (h = 8).
_GATED_K = 3


def certified_fold(rows, k: int):
    """Labels of the certified fold at ``k + 1`` (C4(ii), :func:`projgeo.certified_fold`)."""
    return projgeo.certified_fold(rows, k).result.labels


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

        outs = _networks.run_grouped(nets, run)
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
        ys = _networks.run_grouped(
            nets, lambda p: jax.vmap(lambda x: networks.gated(p, x, sig))(xs))
        x_norm = jnp.linalg.norm(xs, axis=1)
        scale = jnp.linalg.norm(jax.vmap(lambda x: networks.magnitude(params, x, lip, z0))(xs),
                                axis=1)
        return {s: {"measured": jnp.linalg.norm(ys["full"] - ys[s], axis=1),
                    "bound": jax.vmap(lambda xn, p=p: bounds.gated_bound(
                        params, p, xn, lip, z0))(x_norm),
                    "scale": scale} for s, p in sets.items()}

    return jax.vmap(one)(bank, xs, ai, labels)



# ---------------------------------------------------------------------------
# Host side: the checks and the report.

def _per_input(a, n: int):
    """Broadcast per-trial labels to the (trials, inputs) grid of the measurements."""
    return np.repeat(np.asarray(a)[:, None], n, axis=1)


def _mlp_instances(ctx: Context):
    """Random MLPs carved from the bank plus MLPs trained on the digits, with inputs."""
    bank, fam = _networks.bank(ctx.seed, _networks.PER_FAMILY * ctx.scale)
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
    folds = _instances.run_fast(_certified_folds, params)
    q = jax.tree.map(np.asarray, _instances.run_fast(_mlp_batch, params, xs, ys, ai, folds, labels))
    terms = sum(_networks.MLP_SIZES[:-1]) + len(_networks.MLP_SIZES)
    b = tally.batch(t, "MLPs (random and trained)")
    fam_in, act_in = _per_input(fam, N_INPUTS), _per_input(act, N_INPUTS)
    where = np.char.add(np.char.add(fam_in.astype(str), "/"), act_in.astype(str))
    kw = dict(dtype=work_dtype(), terms=terms, family=fam, activation=act)
    slack: dict = {}
    groups = {"random": fam != "trained_digits", "trained": fam == "trained_digits"}

    def record(name, measured, bound):
        for g, sel in groups.items():
            slack.setdefault(name, {})[g] = _c7_layers.slack(measured[sel], bound[sel], where[sel])

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
          dtype=work_dtype(), scale=e_pr, terms=16 * 65, family=fam)
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
    bank, fam = _networks.bank(ctx.seed, _networks.PER_FAMILY * ctx.scale)
    ai, act = _networks.activation_grid(fam)
    t, h = len(fam), _networks.GATED_SHAPE[1]
    gen = _networks.rng(ctx.seed, 7, 2)
    xs = gen.standard_normal((t, N_INPUTS, _networks.GATED_SHAPE[0]))
    q = jax.tree.map(np.asarray, _instances.run_fast(
        _gated_batch, bank, xs, ai, _networks.partitions(gen, t, h, _GATED_K)))
    b = tally.batch(t, "gated blocks")
    where = np.char.add(np.char.add(_per_input(fam, N_INPUTS).astype(str), "/"),
                        _per_input(act, N_INPUTS).astype(str))
    slack = {}
    for s, r in q.items():
        b.leq(f"gated {s}: ||f - f^|| <= gated_bound", r["measured"], r["bound"],
              dtype=work_dtype(), scale=r["scale"] + r["bound"], terms=2 * h,
              family=fam, activation=act)
        slack[s] = _c7_layers.slack(r["measured"], r["bound"], where)
    b.done()
    tally.details["gated"] = {"d_h_dout": list(_networks.GATED_SHAPE), "rank_k": _GATED_K,
                              "slack": slack}


def check(ctx: Context) -> Tally:
    tally = Tally()
    steps = (_c7_layers.check_activations, _c7_layers.check_spectral, _c7_layers.check_layers,
             _check_gated, _check_mlps, _c7_constructed.check)
    for i, step in enumerate(steps):
        ctx.progress.begin(i + 1, len(steps), f"{step.__module__.split('.')[-1]}."
                                              f"{step.__name__}")
        step(ctx, tally)
    tally.details |= {"families": list(_networks.FAMILIES)}
    return tally
