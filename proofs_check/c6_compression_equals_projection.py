"""C6 checker: the physically compressed network equals the projected full network.

For random MLPs, CNNs and gated MLP blocks with weights from every matrix family and every
activation, on random inputs, each network is compressed (``compress_network.compress``)
and compared with the projected full network (``compress_network.project``):

* folding (random partitions at every layer, and for the MLP at one chosen layer; for the
  gated block also the pruning-induced ``π_{S*}``): equal for every activation;
* pruning (random keep-sets at every layer, and for the MLP at one chosen layer; for the
  gated block also magnitude pruning ``S*``): equal iff ``σ(0) = 0``. For sigmoid
  and softplus the mismatch is the *expected counterexample*: it is counted and reported,
  not a violation, and it is explained exactly: absorbing ``σ(0)·W_{l+1}(1 − 1_S)`` into the
  next bias restores the equality (MLP). In the gated block pruning equals projection for
  every ``σ``, since the pruned channel's up row is zero too (``σ(0)·0 = 0``).

Parameter and FLOP counts before and after compression are reported in the details; their
ratios are the compression ratios. The identity holds for *any* partition or keep-set, so
random ones test it fully; structured ones (magnitude pruning, ``π_{S*}``) are used for the
gated block only, because every extra projector costs compile time in the quick budget.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import (
    FoldProjector,
    PruneProjector,
    activations,
    compress_network,
    magnitude_prune,
    networks,
    pruning_partition,
)
from projgeo.tolerance import tolerance
from proofs_check import _instances, _networks
from proofs_check.frame import Claim, Context, Tally, work_dtype

CLAIM = Claim(
    "C6",
    "Compression equals projection",
    "the folded small network computes exactly the full network with W_l <- P_pi W_l, b_l <- "
    "P_pi b_l (dense, conv, gated); the pruned one matches P_S iff sigma(0) = 0",
)
KINDS = ("mlp", "cnn", "gated")
#: Channels kept per compressible layer.
RANKS = {"mlp": (6, 9), "cnn": (2, 2), "gated": (3,)}
N_INPUTS = 4


def _configs(params, kind, labels, keeps):
    """Named projector tuples (one entry per compressible layer, None = uncompressed)."""
    widths, ranks = networks.hidden_widths(params), RANKS[kind]
    folds = tuple(FoldProjector(lab, k) for lab, k in zip(labels, ranks, strict=True))
    prunes = tuple(PruneProjector(keep, n) for keep, n in zip(keeps, widths, strict=True))
    star = tuple(magnitude_prune(compress_network.layer_rows(params, j), k)
                 for j, k in enumerate(ranks)) if kind == "gated" else None
    none = (None,) * len(widths)
    configs = {"fold_every": folds, "prune_every": prunes}
    if kind == "gated":  # structured projectors too; elsewhere they only cost compile time
        configs |= {"fold_pi_S*": tuple(pruning_partition(p) for p in star),
                    "prune_magnitude": star}
    if kind == "mlp":  # one chosen layer (the CNN's convolutions are costly to compile)
        configs["fold_first"] = (folds[0],) + none[1:]
        configs["prune_last"] = none[:-1] + (prunes[-1],)
    return configs


@functools.partial(jax.jit, static_argnames="kind")
def _batch(bank, xs, ai, labels, keeps, *, kind):
    def one(m, xs, ai, labels, keeps):
        params = _networks.carve(kind, m)
        sig, lip, z0 = _networks.sigma(ai), _networks.lipschitz(ai), _networks.at_zero(ai)

        def run(p):
            return jax.vmap(lambda x: networks.apply(p, x, sig))(xs)

        def scale(p):
            # Values of the projected net can exceed the full net's entrywise (a cluster
            # mean mixes rows of very different scales), so its own magnitude is the scale.
            return jnp.max(jax.vmap(lambda x: jnp.linalg.norm(
                networks.magnitude(p, x, lip, z0)))(xs))

        configs = _configs(params, kind, labels, keeps)
        projected = {n: compress_network.project(params, ps) for n, ps in configs.items()}
        small = {n: compress_network.compress(params, ps) for n, ps in configs.items()}
        if kind == "mlp":
            small |= {f"{n} absorbed": compress_network.compress(params, ps, pruned_value=z0)
                      for n, ps in configs.items() if n.startswith("prune")}
        mapper = jax.lax.map if kind == "cnn" else jax.vmap
        y_proj = _networks.run_grouped(projected, run, mapper)
        y_small = _networks.run_grouped(small, run, mapper)
        scales = _networks.run_grouped(projected, scale, mapper)

        def gap(a, b):
            return jnp.max(jnp.linalg.norm(a - b, axis=-1))

        out = {}
        for n in configs:
            out[n] = {"gap": gap(y_small[n], y_proj[n]), "scale": scales[n]}
            if f"{n} absorbed" in y_small:
                out[n]["absorbed_gap"] = gap(y_small[f"{n} absorbed"], y_proj[n])
        return out

    args = (bank, xs, ai, labels, keeps)
    if kind == "cnn":  # vmap over conv weights becomes a grouped conv: slow to compile and run
        return jax.lax.map(lambda a: one(*a), args)
    return jax.vmap(one)(*args)


def _counts(kind: str) -> dict:
    """Parameter/FLOP counts before and after each configuration (shapes only, no compute)."""
    widths = networks.hidden_widths(jax.eval_shape(
        lambda: _networks.carve(kind, jnp.zeros((_networks.BANK_ROWS, _networks.BANK_COLS)))))

    def build():
        params = _networks.carve(kind, jnp.zeros((_networks.BANK_ROWS, _networks.BANK_COLS)))
        labels = tuple(jnp.arange(n) % k for n, k in zip(widths, RANKS[kind], strict=True))
        keeps = tuple(jnp.arange(k) for k in RANKS[kind])
        return params, {name: compress_network.compress(params, ps)
                        for name, ps in _configs(params, kind, labels, keeps).items()}

    params, smalls = jax.eval_shape(build)
    before = networks.count(params)
    out = {"before": before._asdict()}
    for name, small in smalls.items():
        after = networks.count(small)
        out[name] = {**after._asdict(), "param_ratio": round(before.params / after.params, 3),
                     "flop_ratio": round(before.flops / after.flops, 3)}
    return out


def _terms(kind: str) -> int:
    """Summands behind one output: the row lengths of all layers (tolerance rule)."""
    params = jax.eval_shape(lambda: _networks.carve(
        kind, jnp.zeros((_networks.BANK_ROWS, _networks.BANK_COLS))))
    return int(sum(np.prod(x.shape[1:]) for x in jax.tree.leaves(params) if len(x.shape) >= 2))


def check(ctx: Context) -> Tally:
    tally = Tally()
    bank, fam = _networks.bank(ctx.seed, _networks.PER_FAMILY * ctx.scale)
    ai, act = _networks.activation_grid(fam)
    trials = len(fam)
    zero_ok = np.array([activations.ACTIVATIONS[a].zero_at_zero for a in act])
    counterexamples: dict = {}
    counts: dict = {}
    for step, kind in enumerate(KINDS):
        ctx.progress.begin(step + 1, len(KINDS), f"{kind} networks")
        gen = _networks.rng(ctx.seed, 6, step)
        widths = networks.hidden_widths(jax.eval_shape(lambda kind=kind: _networks.carve(
            kind, jnp.zeros((_networks.BANK_ROWS, _networks.BANK_COLS)))))
        xs = gen.standard_normal((trials, N_INPUTS) + _networks.input_shape(kind))
        labels = tuple(_networks.partitions(gen, trials, n, k)
                       for n, k in zip(widths, RANKS[kind], strict=True))
        keeps = tuple(_networks.keep_sets(gen, trials, n, k)
                      for n, k in zip(widths, RANKS[kind], strict=True))
        q = jax.tree.map(np.asarray, _instances.run_fast(_batch, bank, xs, ai, labels, keeps,
                                                         kind=kind))
        b = tally.batch(trials, kind)
        terms = _terms(kind)
        for name, x in q.items():
            kw = dict(dtype=work_dtype(), scale=x["scale"], terms=terms, family=fam, activation=act)
            tol = tolerance(work_dtype(), scale=x["scale"], terms=terms)
            if name.startswith("fold"):
                b.equal(f"{kind} {name}: small net = projected net (every sigma)",
                        x["gap"], 0.0, **kw)
                continue
            # Pruning: equality for sigma(0) = 0, and for the gated block with any sigma.
            must = zero_ok | (kind == "gated")
            b.equal(f"{kind} {name}: small net = projected net "
                    f"({'every sigma' if kind == 'gated' else 'sigma(0) = 0'})",
                    np.where(must, x["gap"], 0.0), 0.0, **kw)
            if kind != "gated":
                mism = (~must) & (x["gap"] > tol)
                for a in sorted(set(act[~must])):
                    sel = act == a
                    c = counterexamples.setdefault(f"{kind} {name} {a}", [0, 0])
                    c[0] += int(mism[sel].sum())
                    c[1] += int(sel.sum())
                b.true(f"{kind} {name}: sigma(0) != 0 gives the expected counterexamples",
                       np.full(trials, bool(mism.any())))
            if "absorbed_gap" in x:
                b.equal(f"{kind} {name}: absorbing sigma(0) W_(l+1)(1 - 1_S) into b_(l+1) "
                        "= projected net (every sigma)", x["absorbed_gap"], 0.0, **kw)
        b.done()
        counts[kind] = _counts(kind)
    tally.details = {
        "kinds": {"mlp": {"sizes": list(_networks.MLP_SIZES)},
                  "cnn": {"in_shape": list(_networks.CNN_SHAPE[0]),
                          "channels": list(_networks.CNN_SHAPE[1]),
                          "n_out": _networks.CNN_SHAPE[2], "kernel": _networks.KERNEL},
                  "gated": {"d_h_dout": list(_networks.GATED_SHAPE)}},
        "ranks": {k: list(v) for k, v in RANKS.items()},
        "families": list(_networks.FAMILIES), "activations": list(_networks.ACTS),
        "networks_per_family_and_kind": _networks.PER_FAMILY * ctx.scale,
        "inputs_per_network": N_INPUTS,
        "expected_counterexamples": {k: f"{v[0]}/{v[1]}" for k, v in counterexamples.items()},
        "counts": counts,
    }
    return tally
