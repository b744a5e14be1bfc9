"""A zoo of small CNNs on ``load_digits``, every conv layer compressed channel-wise (C8).

The convolutional counterpart of :mod:`projgeo.experiments.zoo`, sharing its data
(:func:`~projgeo.experiments.zoo.load_data`, the same split), its vmapped training (one
compiled run per shape, optimizer selected by a traced flag), its compression (C6's
:func:`projgeo.compress_network.compress`: pruning and folding of the rows ``[W_l b_l]`` of
the flattened filters, the next layer's input channels, or the head's channel blocks, summed
or selected), its evaluation, its tables and its cache.

* **Networks**: ``1×8×8 → conv3×3(c) → ReLU → conv3×3(2c) → ReLU → dense(10)``, 'SAME'
  padding, stride 1, in float32; ``c`` is the configuration's ``width`` (``depth`` = 2
  conv layers). Every conv layer is compressed at the same ratio, both conv layers.
* **Grid** (:data:`DEFAULT`): widths c ∈ {4, 6} × 3 optimizers × 2 learning rates × 2
  weight decays × 2 label smoothings × 2 training lengths (200, 400 steps) = 96 CNNs;
  :data:`QUICK`: 12 (width 4, no weight decay, 150 steps: 94–98 % test accuracy).

Reference: arXiv 2602.18116, Sec. 5; THEORY.md C6, C8.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp

from projgeo import networks
from projgeo.experiments import zoo

DEFAULT = zoo.Spec(widths=(4, 6), depths=(2,), label_smoothings=(0.0, 0.1), steps=(200, 400))
#: The quick-budget CNN zoo: one width, 12 setups.
QUICK = zoo.Spec(widths=(4,), depths=(2,), wd_levels=(0,), label_smoothings=(0.0, 0.1),
                 steps=(150,))
#: Two CNNs, a few steps (tests).
TINY = zoo.Spec(widths=(4,), depths=(2,), optimizers=("adam",), lr_levels=(1,),
                wd_levels=(0,), label_smoothings=(0.0, 0.1), steps=(60,), ratios=(0.5,))


def channels(cfg: zoo.Config) -> tuple[int, ...]:
    """Conv channels of a configuration: ``(c, 2c, 4c, …)``, ``depth`` layers."""
    return tuple(cfg.width * 2**i for i in range(cfg.depth))


def init_cnn(cfg: zoo.Config) -> networks.CNN:
    """The untrained CNN of a configuration (N(0, 1/fan-in) weights, zero biases)."""
    return networks.init_cnn(jax.random.key(cfg.seed), (1, 8, 8), channels(cfg), 10,
                             kernel=3, bias_scale=0.0, family="gaussian", dtype=jnp.float32)


def build(spec: zoo.Spec = DEFAULT, *, cache_dir: Path | str | None = zoo.DEFAULT_CACHE,
          refresh: bool = False, on_step: zoo.OnStep = None) -> zoo.Zoo:
    """Train and evaluate the CNN zoo of ``spec`` (cached as ``cnn-zoo-<hash>``); see
    :func:`projgeo.experiments.zoo.build`."""
    return zoo.build(spec, cache_dir=cache_dir, refresh=refresh, on_step=on_step, arch="cnn",
                     init=init_cnn)


def for_budget(budget: str, cache_dir: Path | str = zoo.DEFAULT_CACHE, *,
               on_step: zoo.OnStep = None) -> zoo.Zoo:
    """:data:`QUICK` for the quick budget, else the full :data:`DEFAULT` zoo (trained and
    cached if missing)."""
    return build(QUICK if budget == "quick" else DEFAULT, cache_dir=cache_dir, on_step=on_step)
