"""Small MLPs trained on scikit-learn's bundled ``load_digits`` (C7 on trained networks).

8×8 digit images (1797 samples, 64 features in 0…16, 10 classes) ship with scikit-learn,
so nothing is downloaded. Features are scaled to [0, 1] and centred by the training mean.
The networks have the checker MLP shape (``_networks.MLP_SIZES`` = 64 → 16 → 16 → 10), start
from gaussian-family networks of the shared bank, and are trained full-batch with Adam for
``STEPS`` steps on ``N_TRAIN`` examples, all activations in one ``lax.map`` (one
compilation); test accuracy comes out of the same compiled function.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from projgeo import networks
from projgeo.bounds import cross_entropy
from proofs_check import _networks

STEPS = 150
LEARNING_RATE = 1e-2
#: Training examples (the rest of the 1797 are the test set); a subset keeps training < 1 s.
N_TRAIN = 600


def load(seed: int):
    """``(x_train, y_train, x_test, y_test)`` as float64 / int32 NumPy arrays."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng([seed, 10]).permutation(len(data.target))
    x, y = data.data[order] / 16.0, data.target[order].astype(np.int32)
    mean = x[:N_TRAIN].mean(axis=0)
    x = x - mean
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def _loss(params, ai, x, y):
    sig = _networks.sigma(ai)
    logits = jax.vmap(lambda xi: networks.mlp(params, xi, sig))(x)
    return jnp.mean(jax.vmap(cross_entropy)(logits, y))


def _accuracy(params, ai, x, y):
    sig = _networks.sigma(ai)
    logits = jax.vmap(lambda xi: networks.mlp(params, xi, sig))(x)
    return jnp.mean(jnp.argmax(logits, axis=1) == y)


@functools.partial(jax.jit, static_argnames=("steps",))
def _train(params, ai, x, y, x_test, y_test, *, steps: int):
    opt = optax.adam(LEARNING_RATE)

    def one(params, ai):
        def step(carry, _):
            p, state = carry
            loss, g = jax.value_and_grad(_loss)(p, ai, x, y)
            updates, state = opt.update(g, state, p)
            return (optax.apply_updates(p, updates), state), loss

        (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, steps)
        return params, losses[-1], _accuracy(params, ai, x_test, y_test)

    # lax.map, not vmap: with a scalar activation index lax.switch is a conditional, so only
    # one activation (and its gradient) runs per network; it also compiles faster (measured).
    return jax.lax.map(lambda a: one(*a), (params, ai))


def train(init_params, ai, seed: int, steps: int = STEPS):
    """Train a batch of MLPs (one per activation index in ``ai``) on the digits.

    Returns:
      ``(params, final_train_loss, test_accuracy, (x_test, y_test))``.
    """
    x_tr, y_tr, x_te, y_te = load(seed)
    params, loss, acc = _train(init_params, ai, x_tr, y_tr, x_te, y_te, steps=steps)
    return params, np.asarray(loss), np.asarray(acc), (x_te, y_te)
