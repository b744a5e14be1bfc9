"""C8 checker (empirical, reported, never asserted): folding vs pruning on trained zoos.

Two zoos, the same checks and the same per-ratio table: MLPs (below) and CNNs
(:mod:`projgeo.experiments.cnn_zoo`: two 3×3 conv layers + a dense head, every conv layer
compressed channel-wise; its details under ``details["cnn"]``).

The zoo (:mod:`projgeo.experiments.zoo`: ReLU MLPs on scikit-learn's ``load_digits``, 48 training
setups × 4 shapes = 192 networks) is trained once and cached in ``$PROJGEO_ZOO_CACHE``
(default ``~/.cache/projgeo/zoo``). Every hidden layer is compressed at ratios 10 %…90 %
by magnitude pruning and by folding, same parameter count, no retraining.

Reported (details): per ratio, the fraction of networks where folding is at least as
accurate as pruning and the mean gap; per training setting, the gap at ratios ≥ 50 %.

Checked (a violation means the zoo or its evaluation is broken, never that folding lost):

* every uncompressed network reaches ≥ :data:`MIN_ACCURACY` test accuracy;
* the accuracy tables are finite, in [0, 1], of shape (networks, ratios);
* the stored accuracy of a few networks equals a fresh evaluation;
* for a few networks, the physically compressed network (``compress``) has the same
  test accuracy as the projected full network (``project``), folding and pruning (C6).

C8 is not in the default claim list of ``python -m proofs_check`` (training the zoo the
first time takes minutes, beyond the 60 s quick budget): run ``--claims C8``. The quick
budget uses the small :data:`projgeo.experiments.zoo.QUICK` zoo unless the full zoo is cached.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

from projgeo import compress_network, networks
from projgeo.experiments import cnn_zoo, zoo
from proofs_check.frame import Claim, Context, Tally

CLAIM = Claim(
    "C8",
    "Empirical: folding vs pruning accuracy on trained MLP and CNN zoos",
    "on trained MLP and CNN zoos, folding usually keeps more accuracy than pruning without "
    "retraining (reported, never asserted; checked: the zoos train and evaluate sanely)",
)
MIN_ACCURACY = 0.9
SPOT_CHECKS = 3


def cache_dir() -> Path:
    return Path(os.environ.get("PROJGEO_ZOO_CACHE", str(zoo.DEFAULT_CACHE)))


def check(ctx: Context) -> Tally:
    tally = Tally()
    data = zoo.load_data(0)
    mlp = zoo.for_budget(ctx.budget, cache_dir(), on_step=ctx.progress.step)
    cnn = cnn_zoo.for_budget(ctx.budget, cache_dir(), on_step=ctx.progress.step)
    tally.details.update(_check_zoo(tally, mlp, "MLP", data))
    tally.details["cnn"] = _check_zoo(tally, cnn, "CNN", data)
    return tally


def table(z: zoo.Zoo) -> list[dict]:
    """The per-ratio table reported for either zoo (:func:`projgeo.experiments.zoo.per_ratio`)."""
    return zoo.per_ratio(z)


def _check_zoo(tally: Tally, z: zoo.Zoo, arch: str, data) -> dict:
    """The sanity checks of one zoo (``arch`` names its batches); its reported details."""
    n, r = len(z.configs), len(z.ratios)
    b = tally.batch(n, f"{arch} zoo")
    b.true(f"{arch}: uncompressed accuracy >= 0.9", z.accuracy >= MIN_ACCURACY,
           accuracy=z.accuracy)
    for name, t in (("prune", z.prune_accuracy), ("fold", z.fold_accuracy)):
        b.true(f"{arch}: {name} accuracy table (N, R), finite, in [0, 1]",
               np.full(n, t.shape == (n, r))
               & np.all(np.isfinite(t) & (t >= 0) & (t <= 1), axis=1))
    b.done()

    spot = np.linspace(0, n - 1, min(SPOT_CHECKS, n)).astype(int)
    s = tally.batch(len(spot), f"{arch} spot checks")
    x_te, y_te = data[2], data[3]
    fresh = np.array([_fresh_accuracy(z.params[i], x_te, y_te) for i in spot])
    s.true(f"{arch}: stored accuracy = fresh evaluation",
           np.abs(fresh - z.accuracy[spot]) < 0.5 / len(y_te),
           stored=z.accuracy[spot], fresh=fresh)
    ratio = float(z.ratios[len(z.ratios) // 2])
    for method in ("prune", "fold"):
        same = []
        for i in spot:
            key = jax.random.key(int(i))
            small = zoo.compressed(z.params[i], method, ratio, key=key)
            projectors = zoo.projectors(z.params[i], method, ratio, key=key)
            full = compress_network.project(z.params[i], projectors)
            same.append(abs(float(zoo.accuracy(small, x_te, y_te))
                            - float(zoo.accuracy(full, x_te, y_te))) < 0.5 / len(y_te))
        s.true(f"{arch}: {method}: compressed accuracy = projected-network accuracy (C6)",
               same)
    s.done()
    return {
        "networks": n, "ratios": [float(x) for x in z.ratios],
        "train_seconds": round(z.train_seconds, 1), "eval_seconds": round(z.eval_seconds, 1),
        "uncompressed_accuracy": {"min": float(z.accuracy.min()),
                                  "median": float(np.median(z.accuracy))},
        "per_ratio": table(z),
        "by_setting_ratio_ge_50pct": zoo.by_setting(z),
    }


def _fresh_accuracy(params, x, y) -> float:
    """Accuracy recomputed in NumPy (independent of the jitted evaluation): an MLP, or a
    CNN on the ``(1, 8, 8)`` images (3×3 'SAME' convolutions as sums of shifted images)."""
    h = np.asarray(x, np.float64)
    if isinstance(params, networks.CNN):
        h = h.reshape(-1, 1, 8, 8)
        for layer in params.convs:
            w = np.asarray(layer.w, np.float64)
            kh, kw = w.shape[2:]
            pad = np.pad(h, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
            out = np.zeros((h.shape[0], w.shape[0]) + h.shape[2:])
            for a in range(kh):
                for c in range(kw):
                    patch = pad[:, :, a:a + h.shape[2], c:c + h.shape[3]]
                    out += np.einsum("nihw,oi->nohw", patch, w[:, :, a, c])
            h = np.maximum(out + np.asarray(layer.b, np.float64)[None, :, None, None], 0.0)
        head = params.head
        logits = h.reshape(h.shape[0], -1) @ np.asarray(head.w, np.float64).T + np.asarray(
            head.b)
        return float(np.mean(np.argmax(logits, axis=1) == y))
    for layer in params[:-1]:
        h = np.maximum(h @ np.asarray(layer.w, np.float64).T + np.asarray(layer.b), 0.0)
    logits = h @ np.asarray(params[-1].w, np.float64).T + np.asarray(params[-1].b)
    return float(np.mean(np.argmax(logits, axis=1) == y))
