"""C7 on constructed networks: the σ(0) offsets and ``max(L_σ, 1)`` enter as THEORY.md says.

Random networks leave the bounds (b), (c) loose, so dropping a term of them goes unseen.
Two constructed checks pin the terms:

* **x = 0, no bias**, σ(0) ≠ 0 (sigmoid, softplus, ...): every hidden layer outputs
  ``σ(0)·1``, so compressing layer 1 moves the output although ``||x|| = 0``; the bound
  without the offsets ``|σ(0)|√n_j`` would be 0, below the measured change.
* **the documented recursion**, recomputed on the host from the layer norms:
  ``a_0 = √(||x||² + 1)``, ``a_{j+1} = L̃ ||W̃_j|| a_j + |σ(0)|√n_j`` with ``L̃ = max(L_σ, 1)``
  for a biased network, ``T_l = Π_{j>l} L̃ ||W̃_j||``; (b) and (c) must equal it.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import FoldProjector, PruneProjector, activations, bounds, compress_network, networks
from proofs_check._instances import run_fast
from proofs_check.frame import work_dtype

SIZES = (3, 4, 5, 2)


FOLD1 = FoldProjector(np.array([0, 1, 1, 0, 2], np.int32), 3)
PRUNE1 = PruneProjector(np.array([1, 3], np.int32), 4)


@jax.jit
def _measured(keys0):
    """``||f(0) − f̂(0)||`` of every activation's unbiased network, in one program."""
    out = []
    for i, name in enumerate(activations.NAMES):
        act = activations.get(name)
        net = networks.init_mlp(keys0[i], SIZES, bias=False)
        x = jnp.zeros(SIZES[0], net[0].w.dtype)
        f = networks.mlp(net, x, act)
        g = networks.mlp(compress_network.project(net, (None, FOLD1)), x, act)
        out.append(jnp.linalg.norm(f - g))
    return jnp.stack(out)


@jax.jit
def _bounds(keys0, keys1, lipschitz, at_zero):
    """Bound (c) at x = 0 of the unbiased networks and (b), (c) of the biased ones with the
    layer and Δ norms behind them; vmapped over the activations' constants."""
    def one(k0, k1, lip, z0):
        net = networks.init_mlp(k0, SIZES, bias=False)
        biased = networks.init_mlp(k1, SIZES)
        ps = (PRUNE1, FOLD1)
        nb = bounds.mlp_bound(biased, ps, 2.0, lip, z0)
        return {"bound": bounds.mlp_bound(net, (None, FOLD1), 0.0, lip, z0).one_layer[1],
                "norms": jnp.stack(bounds.layer_norms(biased)),
                "deltas": jnp.stack(bounds.delta_norms(biased, ps)),
                "all_layers": nb.all_layers, "one_layer": nb.one_layer[1]}

    return jax.vmap(one)(keys0, keys1, lipschitz, at_zero)


def check(ctx, tally) -> None:
    names = list(activations.NAMES)
    b = tally.batch(len(names), "C7 constructed networks")
    keys0 = jnp.stack([ctx.key(71, i) for i in range(len(names))])
    keys1 = jnp.stack([ctx.key(72, i) for i in range(len(names))])
    acts = [activations.get(name) for name in names]
    lips = np.array([a.lipschitz for a in acts])
    zeros = np.array([a.at_zero for a in acts])
    measured = np.asarray(run_fast(_measured, keys0)).tolist()
    q = jax.tree.map(np.asarray, run_fast(_bounds, keys0, keys1, lips, zeros))
    bound, doc, got = [], [], []
    for i, act in enumerate(acts):
        r = {name: v[i] for name, v in q.items()}
        bound.append(float(r["bound"]))
        # the documented recursion on a biased network, x_norm = 2
        norms = [float(v) for v in r["norms"]]
        deltas = [float(v) for v in r["deltas"]]
        lip, z0 = max(float(act.lipschitz), 1.0), abs(float(act.at_zero))
        a = [math.sqrt(2.0**2 + 1.0)]
        for j in range(len(norms) - 1):
            a.append(lip * norms[j] * a[-1] + z0 * math.sqrt(SIZES[j + 1]))
        tails = [lip * norms[1] * lip * norms[2], lip * norms[2], 1.0]  # σ after each hidden
        doc.append([deltas[0] * a[0] * tails[0] + deltas[1] * a[1] * tails[1],
                    deltas[1] * a[1] * tails[1]])
        got.append([float(r["all_layers"]), float(r["one_layer"])])
    measured, bound = np.array(measured), np.array(bound)
    b.leq("constructed: x = 0, no bias: ||f - f^|| <= (b) (needs the sigma(0) offsets)",
          measured, bound, dtype=work_dtype(), scale=np.maximum(bound, 1e-300), terms=64,
          activation=np.array(names))
    doc, got = np.array(doc), np.array(got)
    b.equal("constructed: (b), (c) = documented recursion (max(L, 1), offsets)", got, doc,
            dtype=work_dtype(), scale=doc, terms=64, activation=np.array(names))
    b.done()
    tally.details["constructed"] = {"activations": names, "x0_measured": measured.tolist(),
                                    "x0_bound": bound.tolist()}

