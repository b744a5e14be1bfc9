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

import jax.numpy as jnp
import numpy as np

from projgeo import FoldProjector, PruneProjector, activations, bounds, compress_network, networks
from proofs_check.frame import work_dtype

SIZES = (3, 4, 5, 2)


def check(ctx, tally) -> None:
    names = [a for a in activations.NAMES]
    b = tally.batch(len(names), "C7 constructed networks")
    fold1 = FoldProjector(jnp.array([0, 1, 1, 0, 2]), 3)
    measured, bound, doc, got = [], [], [], []
    for i, name in enumerate(names):
        act = activations.get(name)
        net = networks.init_mlp(ctx.key(71, i), SIZES, bias=False)
        projs = (None, fold1)
        x = jnp.zeros(SIZES[0], net[0].w.dtype)
        f = networks.mlp(net, x, act)
        g = networks.mlp(compress_network.project(net, projs), x, act)
        measured.append(float(jnp.linalg.norm(f - g)))
        bound.append(float(bounds.mlp_bound(net, projs, 0.0, act.lipschitz,
                                            act.at_zero).one_layer[1]))
        # the documented recursion on a biased network, x_norm = 2
        biased = networks.init_mlp(ctx.key(72, i), SIZES)
        ps = (PruneProjector(jnp.array([1, 3]), 4), fold1)
        nb = bounds.mlp_bound(biased, ps, 2.0, act.lipschitz, act.at_zero)
        norms = [float(v) for v in bounds.layer_norms(biased)]
        deltas = [float(v) for v in bounds.delta_norms(biased, ps)]
        lip, z0 = max(float(act.lipschitz), 1.0), abs(float(act.at_zero))
        a = [math.sqrt(2.0**2 + 1.0)]
        for j in range(len(norms) - 1):
            a.append(lip * norms[j] * a[-1] + z0 * math.sqrt(SIZES[j + 1]))
        tails = [lip * norms[1] * lip * norms[2], lip * norms[2], 1.0]  # σ after each hidden
        doc.append([deltas[0] * a[0] * tails[0] + deltas[1] * a[1] * tails[1],
                    deltas[1] * a[1] * tails[1]])
        got.append([float(nb.all_layers), float(nb.one_layer[1])])
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

