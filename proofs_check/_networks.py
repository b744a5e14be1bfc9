"""Random network instances shared by the C6 and C7 checkers.

Compiling random-number generation dominates the quick budget on a CPU (each
``jax.random`` call costs about a second of XLA compilation, more under ``vmap``), so:

* every weight comes from **one bank** of family matrices, ``BANK_ROWS × BANK_COLS`` per
  trial, drawn by a single compiled sampler and cached, so C6 and C7 share it;
* a network is **carved** from one bank matrix: each layer is a disjoint block of rows
  ``[w_r, b_r]`` (columns truncated to the fan-in and rescaled by ``√(BANK_COLS/fan_in)`` so
  rows keep the family's N(0, 1/fan_in) scale; the last column, times ``BIAS_SCALE``, is the
  bias). The families are row-structured (row norms, clusters, duplicates, zero rows,
  scales), so every layer inherits its family's structure, and so does each row with its bias;
* inputs, keep-sets and partitions come from NumPy on the host (no compilation at all);
* the activation is a *traced* index into :data:`projgeo.activations.NAMES`
  (``activations.switch``), so one compiled kernel serves all activations;
* kernels whose run time is negligible are compiled without LLVM optimisation
  (:func:`run_fast`), as the C4/C5 fold jobs are.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from projgeo import activations, families, networks
from proofs_check._instances import IMPL, run_fast, shared

#: Weight families of the checker networks: all but ``shifted`` (a 1e8 offset in every weight
#: of a network tests nothing about C6/C7 that extreme_scales does not, and overflows float32).
FAMILIES = tuple(f for f in families.FAMILIES if f != "shifted")
ACTS = activations.NAMES

#: Checker shapes. MLP: layer sizes (the trained digits MLPs of C7 share them);
#: CNN: (in_shape, channels, n_out), 3×3 kernels; gated: (d, h, d_out).
MLP_SIZES = (64, 16, 16, 10)
CNN_SHAPE = ((2, 4, 4), (4, 3), 3)
KERNEL = 3
GATED_SHAPE = (6, 8, 4)
#: Rows of the bank matrix used by each kind (disjoint blocks).
ROWS = {"mlp": 0, "cnn": 42, "gated": 52}
BANK_ROWS, BANK_COLS = 72, 65
#: Bank matrices per family in the quick budget (3 per activation); C6 and C7 share them.
PER_FAMILY = 21
BIAS_SCALE = 0.1
# Kernels run through ``_instances.run_fast`` (no LLVM optimisation): measured cold in one
# process on the 2-core CPU, the C6 and C7 checks took 19.5 s of CPU with it for every
# kernel against 29.3 s with default options. The Monte Carlo layer kernel and the digits
# training run longer and keep the default options.


@functools.partial(jax.jit, static_argnames=("per_family",))
def _bank(key, per_family: int):
    keys = jax.random.split(key, len(FAMILIES))
    return jnp.concatenate([families.sample_batch(f, kk, per_family, BANK_ROWS, BANK_COLS)
                            for f, kk in zip(FAMILIES, keys, strict=True)])


@shared
def bank(seed: int, per_family: int):
    """``(W[F·per_family, BANK_ROWS, BANK_COLS], family_names)``, cached for the run.

    Drawn with JAX's default threefry generator (the same bits on every backend, so one
    seed gives the same networks on CPU, GPU and TPU), compiled with FAST_COMPILE.
    """
    key = jax.random.key(seed, impl=IMPL)
    return run_fast(_bank, key, per_family=per_family), np.repeat(np.array(FAMILIES), per_family)


def _block(m, row: int, n: int, fan_in: int):
    """Rows ``row:row+n`` as weights (n, fan_in) and bias (n,), rescaled (module docstring)."""
    w = m[row:row + n, :fan_in] * math.sqrt(BANK_COLS / fan_in)
    b = m[row:row + n, -1] * (BIAS_SCALE * math.sqrt(BANK_COLS))
    return w, b


def carve(kind: str, m, *, bias: bool = True):
    """The network of ``kind`` carved from one bank matrix ``m`` (module docstring)."""
    row = ROWS[kind]
    if kind == "mlp":
        layers = []
        for n_in, n_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=True):
            w, b = _block(m, row, n_out, n_in)
            layers.append(networks.Dense(w, b if bias else None))
            row += n_out
        return tuple(layers)
    if kind == "cnn":
        (c, h, wd), channels, n_out = CNN_SHAPE
        convs = []
        for c_out in channels:
            w, b = _block(m, row, c_out, c * KERNEL * KERNEL)
            convs.append(networks.Conv(w.reshape(c_out, c, KERNEL, KERNEL), b if bias else None))
            row, c = row + c_out, c_out
        w, b = _block(m, row, n_out, c * h * wd)
        return networks.CNN(tuple(convs), networks.Dense(w, b if bias else None))
    d, h, d_out = GATED_SHAPE
    g, _ = _block(m, row, h, d)
    u, _ = _block(m, row + h, h, d)
    down, _ = _block(m, row + 2 * h, d_out, h)
    return networks.Gated(g, u, down)


def run_grouped(nets: dict, fn, mapper=jax.vmap) -> dict:
    """``{name: fn(net)}``, same-shaped networks in one ``vmap`` (fewer ops to compile).

    ``mapper=jax.lax.map`` runs a group sequentially instead (for convolutions, whose
    weights batched by ``vmap`` become a grouped convolution, slow to compile and run).
    """
    groups: dict = {}
    for name, net in nets.items():
        sig = (jax.tree.structure(net), tuple(x.shape for x in jax.tree.leaves(net)))
        groups.setdefault(sig, []).append(name)
    out = {}
    for names in groups.values():
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *[nets[n] for n in names])
        res = mapper(fn, stacked) if mapper is jax.lax.map else mapper(fn)(stacked)
        out |= {n: jax.tree.map(lambda r, i=i: r[i], res) for i, n in enumerate(names)}
    return out


def input_shape(kind: str) -> tuple[int, ...]:
    if kind == "mlp":
        return (MLP_SIZES[0],)
    if kind == "cnn":
        return tuple(CNN_SHAPE[0])
    return (GATED_SHAPE[0],)


def sigma(ai):
    """The activation number ``ai`` (may be traced) as an elementwise callable."""
    return functools.partial(activations.switch, ai)


def lipschitz(ai):
    return activations.lipschitz_table()[ai]


def at_zero(ai):
    return activations.at_zero_table()[ai]


def activation_grid(family_names: np.ndarray):
    """Activation index of each trial: cycles through :data:`ACTS` within every family."""
    ai = np.arange(len(family_names)) % len(ACTS)
    return jnp.asarray(ai, jnp.int32), np.array(ACTS)[ai]


# ---------------------------------------------------------------------------
# Host-side randomness: inputs, keep-sets and partitions (NumPy, no compilation).


def rng(seed: int, *salt: int) -> np.random.Generator:
    return np.random.default_rng([seed, *salt])


def keep_sets(gen: np.random.Generator, trials: int, n: int, k: int) -> np.ndarray:
    """(trials, k) sorted random k-subsets of range(n), int32."""
    perm = gen.permuted(np.tile(np.arange(n), (trials, 1)), axis=1)
    return np.sort(perm[:, :k], axis=1).astype(np.int32)


def partitions(gen: np.random.Generator, trials: int, n: int, k: int) -> np.ndarray:
    """(trials, n) random labels in [0, k), every cluster non-empty, int32."""
    base = np.concatenate([np.tile(np.arange(k), (trials, 1)),
                           gen.integers(0, k, (trials, n - k))], axis=1)
    return gen.permuted(base, axis=1).astype(np.int32)
