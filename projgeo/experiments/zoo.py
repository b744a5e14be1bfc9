"""A zoo of small MLPs trained on ``load_digits``, compressed without retraining (C8).

C8 is empirical (THEORY.md): on trained networks, folding usually keeps more accuracy than
magnitude pruning at the same parameter count. This module trains the zoo and measures it.

* **Data**: scikit-learn's bundled 8×8 digits (1797 images, nothing downloaded), scaled to
  [0, 1], centred by the training mean, one fixed split (:data:`N_TRAIN` train, rest test).
* **Networks**: ReLU MLPs ``64 → width × depth → 10`` in float32. Configurations with
  the same shape (width, depth) train together in *one* ``jax.vmap``-ed, jit-compiled run
  (one compilation per shape): the optimizer is selected per network by a traced flag
  (SGD / SGD + momentum via ``optax.trace``, Adam via ``optax.adamw``; both updates are
  computed, one is kept), and the training length by freezing the parameters after
  ``steps`` steps of a scan over the group's longest run. Minibatches of :data:`BATCH`.
* **Compression** of every hidden layer at the same ``k = round((1 − r)·n)`` for ratio
  ``r``: magnitude pruning (L2 norm of ``[W_l b_l]``) and folding (default seeding,
  on the rows ``[W_l b_l]``, :func:`projgeo.fold`), both applied physically by
  :func:`projgeo.compress_network.compress` (C6). Both small networks have the same
  shape, hence the same parameter count. No retraining.

The zoo is cached as ``.npz`` (parameters and accuracies) plus a JSON of the configs in
``cache_dir``, keyed by a hash of the spec, so figures and the C8 checker reuse it.

Reference: arXiv 2602.18116, Sec. 5 (>1000 checkpoints); THEORY.md C8.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from projgeo import compress_network, networks
from projgeo.kmeans import fold, lloyd
from projgeo.kmeans.lloyd import capacity
from projgeo.projectors import FoldProjector
from projgeo.pruning import keep_count, magnitude_prune

N_TRAIN = 1200
BATCH = 128
RATIOS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
OPTIMIZERS = ("sgd", "momentum", "adam")
#: Learning rates per optimizer (low, high).
LEARNING_RATES = {"sgd": (0.1, 0.3), "momentum": (0.01, 0.05), "adam": (1e-3, 5e-3)}
#: Weight decay per optimizer (off, on): coupled (added to the gradient) for SGD, decoupled
#: (AdamW, multiplied by the learning rate) for Adam.
WEIGHT_DECAYS = {"sgd": (0.0, 1e-3), "momentum": (0.0, 1e-3), "adam": (0.0, 0.1)}
DEFAULT_CACHE = Path.home() / ".cache" / "projgeo" / "zoo"
#: Bumped when a trained zoo changes: 2 = minibatch indices drawn as int32 (were int64 with
#: x64 on, so the zoo depended on the x64 flag).
VERSION = 2
#: Bumped when the compressed accuracies of a trained zoo change (not its training): a zoo
#: cached under an older one is re-evaluated, not retrained. 1 = folds seeded by the default
#: rule of :func:`projgeo.kmeans.lloyd.seeding_for` (Ward-like where n ≤ 4·capacity); 0
#: (caches without the field) = bisecting seeding.
COMPRESSION_VERSION = 1
#: A progress callback: called with the name of each step as it starts.
OnStep = Callable[[str], None] | None


class Config(NamedTuple):
    """One training run. ``optimizer`` in :data:`OPTIMIZERS`."""

    width: int
    depth: int
    optimizer: str
    lr: float
    weight_decay: float
    label_smoothing: float
    steps: int
    seed: int


class Spec(NamedTuple):
    """The grid of a zoo: every combination of these values (learning rates and weight
    decays are indices into :data:`LEARNING_RATES` / :data:`WEIGHT_DECAYS`)."""

    widths: tuple[int, ...] = (32, 64)
    depths: tuple[int, ...] = (1, 2)
    optimizers: tuple[str, ...] = OPTIMIZERS
    lr_levels: tuple[int, ...] = (0, 1)
    wd_levels: tuple[int, ...] = (0, 1)
    label_smoothings: tuple[float, ...] = (0.0, 0.2)
    steps: tuple[int, ...] = (300, 1500)
    ratios: tuple[float, ...] = RATIOS
    seed: int = 0


#: The default zoo: 4 shapes × 48 training setups = 192 MLPs.
DEFAULT = Spec()
#: The quick-budget zoo of the C8 checker: one shape, 12 setups.
QUICK = Spec(widths=(32,), depths=(1,), wd_levels=(0,), steps=(400,))
#: A zoo small enough for tests and quick checks (2 networks, a few steps).
TINY = Spec(widths=(16,), depths=(1,), optimizers=("adam",), lr_levels=(1,), wd_levels=(0,),
            label_smoothings=(0.0, 0.1), steps=(60,), ratios=(0.5,))


class Zoo(NamedTuple):
    """A trained, evaluated zoo.

    Attributes:
      configs: one :class:`Config` per network.
      params: one MLP (tuple of :class:`~projgeo.networks.Dense`, float32) per network.
      accuracy: (N,) test accuracy of the uncompressed networks.
      ratios: (R,) compression ratios (fraction of hidden channels removed).
      prune_accuracy, fold_accuracy: (N, R) test accuracy after compression.
      train_seconds, eval_seconds: wall-clock times of training and evaluation.
    """

    configs: list[Config]
    params: list
    accuracy: np.ndarray
    ratios: np.ndarray
    prune_accuracy: np.ndarray
    fold_accuracy: np.ndarray
    train_seconds: float
    eval_seconds: float


def load_data(seed: int = 0):
    """``(x_train, y_train, x_test, y_test)`` of ``load_digits``, float32 / int32, fixed split."""
    from sklearn.datasets import load_digits

    images, digits = load_digits(return_X_y=True)
    order = np.random.default_rng([seed, 8]).permutation(len(digits))
    x, y = (images[order] / 16.0).astype(np.float32), digits[order].astype(np.int32)
    x = x - x[:N_TRAIN].mean(axis=0)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def configs(spec: Spec) -> list[Config]:
    """Every configuration of the grid, grouped by shape (width, depth)."""
    out = []
    for width, depth, opt, lr_i, wd_i, ls, steps in itertools.product(
            spec.widths, spec.depths, spec.optimizers, spec.lr_levels, spec.wd_levels,
            spec.label_smoothings, spec.steps):
        out.append(Config(width, depth, opt, LEARNING_RATES[opt][lr_i],
                          WEIGHT_DECAYS[opt][wd_i], ls, steps, len(out) + 1000 * spec.seed))
    return out


def _logits(params, x):
    """Logits of one network on the flattened 8×8 images ``x`` (N, 64): an MLP, or a CNN
    (each row reshaped to a ``(1, 8, 8)`` image)."""
    if isinstance(params, networks.CNN):
        return jax.vmap(lambda xi: networks.cnn(params, xi.reshape(1, 8, 8), jax.nn.relu))(x)
    return jax.vmap(lambda xi: networks.mlp(params, xi, jax.nn.relu))(x)


def accuracy(params, x, y) -> jax.Array:
    """Fraction of ``x`` whose arg-max logit is the label ``y`` (one MLP or CNN)."""
    return jnp.mean(jnp.argmax(_logits(params, x), axis=1) == y)


@jax.jit
def _batched_accuracy(params, x, y):
    return jax.vmap(accuracy, in_axes=(0, None, None))(params, x, y)


@functools.partial(jax.jit, static_argnames=("max_steps",))
def _train_group(params, hyper, x, y, key, *, max_steps: int):
    """Train a vmapped group of same-shape MLPs; ``hyper`` holds per-network arrays."""
    batches = jax.random.randint(key, (max_steps, BATCH), 0, x.shape[0], dtype=jnp.int32)

    def one(p, h):
        adam = optax.adamw(h["lr"], weight_decay=h["wd"])
        sgd = optax.chain(optax.add_decayed_weights(h["wd"]), optax.trace(decay=h["momentum"]),
                          optax.scale_by_learning_rate(h["lr"]))

        def loss(p, idx):
            logits = _logits(p, x[idx])
            target = optax.smooth_labels(jax.nn.one_hot(y[idx], 10, dtype=logits.dtype),
                                         h["smoothing"])
            return jnp.mean(optax.softmax_cross_entropy(logits, target))

        def step(carry, inp):
            p, sa, ss = carry
            t, idx = inp
            g = jax.grad(loss)(p, idx)
            ua, sa2 = adam.update(g, sa, p)
            us, ss2 = sgd.update(g, ss, p)
            u = jax.tree.map(lambda a, b: jnp.where(h["is_adam"], a, b), ua, us)
            live = t < h["n"]
            p2 = jax.tree.map(lambda a, b: jnp.where(live, a, b), optax.apply_updates(p, u), p)
            return (p2, sa2, ss2), None

        ts = jnp.arange(batches.shape[0])
        (p, _, _), _ = jax.lax.scan(step, (p, adam.init(p), sgd.init(p)), (ts, batches))
        return p

    return jax.vmap(one)(params, hyper)


def _init(key, width: int, depth: int):
    return networks.init_mlp(key, (64,) + (width,) * depth + (10,), dtype=jnp.float32,
                             bias_scale=0.0, family="gaussian")


def init_mlp(cfg: Config):
    """The untrained MLP ``64 → width × depth → 10`` of a configuration (its seed's key)."""
    return _init(jax.random.key(cfg.seed), cfg.width, cfg.depth)


def train(cfgs: Sequence[Config], data, *, on_step: OnStep = None,
          init: Callable[[Config], object] = init_mlp, what: str = "MLPs") -> list:
    """Train every configuration (one vmapped run per shape); return their networks in order.

    ``init(cfg)`` gives a configuration's untrained network (default :func:`init_mlp`;
    :mod:`projgeo.experiments.cnn_zoo` passes CNNs); ``on_step(name)`` is called as each
    shape's run starts."""
    x_tr, y_tr = jnp.asarray(data[0]), jnp.asarray(data[1])
    out: list = [None] * len(cfgs)
    for (width, depth), idx in _groups(cfgs).items():
        group = [cfgs[i] for i in idx]
        _announce(on_step, f"train {len(group)} {what} width={width} depth={depth} "
                           f"({max(c.steps for c in group)} steps, vmapped)")
        inits = [init(c) for c in group]
        params = jax.tree.map(lambda *a: jnp.stack(a), *inits)
        max_steps = max(c.steps for c in group)
        hyper = {
            "lr": jnp.array([c.lr for c in group], jnp.float32),
            "wd": jnp.array([c.weight_decay for c in group], jnp.float32),
            "momentum": jnp.array([0.9 if c.optimizer == "momentum" else 0.0 for c in group],
                                  jnp.float32),
            "is_adam": jnp.array([c.optimizer == "adam" for c in group]),
            "smoothing": jnp.array([c.label_smoothing for c in group], jnp.float32),
            "n": jnp.array([c.steps for c in group], jnp.int32),
        }
        key = jax.random.fold_in(jax.random.key(group[0].seed), width * 100 + depth)
        trained = _train_group(params, hyper, x_tr, y_tr, key, max_steps=max_steps)
        for j, i in enumerate(idx):
            out[i] = jax.tree.map(lambda a, j=j: a[j], trained)
    return out


def _announce(on_step: OnStep, name: str) -> None:
    if on_step is not None:
        on_step(name)


def _groups(cfgs: Sequence[Config]) -> dict[tuple[int, int], list[int]]:
    groups: dict[tuple[int, int], list[int]] = {}
    for i, c in enumerate(cfgs):
        groups.setdefault((c.width, c.depth), []).append(i)
    return groups


def projectors(params, method: str, ratio: float, *, key) -> list:
    """One projector per hidden layer of an MLP, ``k = max(1, round((1 − r)·n))`` rows kept.

    Args:
      params: an MLP (tuple of Dense).
      method: ``"prune"`` (magnitude, L2 of ``[W_l b_l]``) or ``"fold"`` (:func:`projgeo.fold`
        on the same rows, each layer of the *uncompressed* network).
      ratio: fraction of each hidden layer's channels removed, in [0, 1).
      key: ``jax.random`` key of the folds' seeding (one per layer, split here).

    Raises:
      ValueError: on an unknown method or a ratio outside [0, 1).
    """
    if method not in ("prune", "fold"):
        raise ValueError(f"method must be 'prune' or 'fold'; got {method!r}.")
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"ratio must be in [0, 1); got {ratio!r}.")
    out = []
    keys = jax.random.split(key, len(networks.hidden_widths(params)))
    for layer, n in enumerate(networks.hidden_widths(params)):
        k = keep_count(n, ratio)
        rows = compress_network.layer_rows(params, layer)
        if method == "prune":
            out.append(magnitude_prune(rows, k))
        else:
            out.append(fold(rows, k, key=keys[layer]).projector())
    return out


def compressed(params, method: str, ratio: float, *, key) -> tuple:
    """The physically smaller MLP (:func:`projgeo.compress_network.compress`, C6) with every
    hidden layer compressed by :func:`projectors` (same arguments)."""
    return compress_network.compress(params, projectors(params, method, ratio, key=key))


def evaluate(params_list: Sequence, cfgs: Sequence[Config], ratios: Sequence[float], data,
             *, seed: int = 0, on_step: OnStep = None, what: str = "MLPs"):
    """Test accuracy of every MLP, uncompressed and at each ratio by pruning and folding
    (``on_step(name)`` is called as each shape and ratio starts).

    The networks are those of :func:`compressed` (same keys, same partitions), computed in
    two stages so that compiling does not grow with the number of ratios: the folds of a
    shape's layers run vmapped over its networks with ``k`` traced (one program per layer and
    capacity bucket of :func:`projgeo.kmeans.lloyd.capacity`), then each ratio's compression
    (C6) and evaluation, small programs, compile per kept widths.

    Returns:
      ``(accuracy (N,), prune (N, R), fold (N, R))``.
    """
    x_te, y_te = jnp.asarray(data[2]), jnp.asarray(data[3])
    n_net = len(params_list)
    acc = np.zeros(n_net)
    prune_acc = np.zeros((n_net, len(ratios)))
    fold_acc = np.zeros((n_net, len(ratios)))
    for idx in _groups(cfgs).values():
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *[params_list[i] for i in idx])
        acc[idx] = np.asarray(_batched_accuracy(stacked, x_te, y_te))
        keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(seed), s))(
            jnp.array([cfgs[i].seed for i in idx]))
        c = cfgs[idx[0]]
        widths = networks.hidden_widths(params_list[idx[0]])
        layer_keys = jax.vmap(functools.partial(jax.random.split, num=len(widths)))(keys)
        seen: dict[tuple[int, ...], int] = {}
        for r, ratio in enumerate(ratios):
            ks = tuple(keep_count(n, float(ratio)) for n in widths)
            if ks in seen:  # the same kept widths as an earlier ratio: the same networks
                prune_acc[idx, r], fold_acc[idx, r] = (prune_acc[idx, seen[ks]],
                                                       fold_acc[idx, seen[ks]])
                continue
            seen[ks] = r
            _announce(on_step, f"compress {len(idx)} {what} width={c.width} depth={c.depth} "
                               f"at ratio {100 * ratio:g} %: prune, fold")
            small = _compress_batch(stacked, keys, method="prune", ratio=float(ratio))
            prune_acc[idx, r] = np.asarray(_batched_accuracy(small, x_te, y_te))
            labels = tuple(
                _fold_labels_batch(stacked, layer_keys[:, layer], np.int32(k), layer=layer,
                                   cap=capacity(n, k))
                for layer, (n, k) in enumerate(zip(widths, ks, strict=True)))
            small = _folded_batch(stacked, labels, ks=ks)
            fold_acc[idx, r] = np.asarray(_batched_accuracy(small, x_te, y_te))
    return acc, prune_acc, fold_acc


@functools.partial(jax.jit, static_argnames=("layer", "cap"))
def _fold_labels_batch(stacked, keys, k, *, layer: int, cap: int):
    """The labels of :func:`projgeo.fold` of layer ``layer``'s rows of every network, as in
    :func:`projectors`, with ``k ≤ cap`` traced: one program per capacity."""
    return jax.vmap(lambda p, key: lloyd.fold_at_capacity(
        compress_network.layer_rows(p, layer), k, key, cap=cap).labels)(stacked, keys)


@functools.partial(jax.jit, static_argnames=("method", "ratio"))
def _compress_batch(stacked, keys, *, method: str, ratio: float):
    """:func:`compressed` of every network (pruning: a small program per ratio)."""
    return jax.vmap(lambda p, k: compressed(p, method, ratio, key=k))(stacked, keys)


@functools.partial(jax.jit, static_argnames=("ks",))
def _folded_batch(stacked, labels, *, ks: tuple[int, ...]):
    def one(p, lab):
        return compress_network.compress(
            p, [FoldProjector(lb, k) for lb, k in zip(lab, ks, strict=True)])

    return jax.vmap(one)(stacked, labels)


def spec_hash(spec: Spec) -> str:
    """Short hash of a spec (and the module's version): the cache file name."""
    text = json.dumps([VERSION, N_TRAIN, BATCH, spec._asdict()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build(spec: Spec = DEFAULT, *, cache_dir: Path | str | None = DEFAULT_CACHE,
          refresh: bool = False, on_step: OnStep = None, arch: str = "mlp",
          init: Callable[[Config], object] = init_mlp) -> Zoo:
    """Train and evaluate the zoo of ``spec``, or load it from ``cache_dir`` if cached.

    Args:
      spec: the grid of configurations.
      cache_dir: where ``zoo-<hash>.npz`` / ``.json`` live; None disables the cache.
      refresh: retrain even if cached.
      on_step: called with the name of each training / compression step as it starts.
      arch, init: the architecture's name (the cache file's prefix; ``"mlp"`` keeps the
        historical ``zoo-<hash>``) and its untrained network per configuration.

    Returns:
      A :class:`Zoo`.
    """
    prefix = "zoo" if arch == "mlp" else f"{arch}-zoo"
    what = "MLPs" if arch == "mlp" else f"{arch.upper()}s"
    path = None if cache_dir is None else Path(cache_dir) / f"{prefix}-{spec_hash(spec)}"
    old: Zoo | None = None
    if path is not None and not refresh and path.with_suffix(".npz").exists():
        _announce(on_step, f"load cached {arch.upper()} zoo {path.name}")
        old = load(path, init=init)
        if _compression_version(path) == COMPRESSION_VERSION:
            return old
    data = load_data(spec.seed)
    if old is not None:  # trained the same way, compressed by an older fold: evaluate again
        cfgs, params, train_seconds = old.configs, old.params, old.train_seconds
    else:
        cfgs = configs(spec)
        t0 = time.perf_counter()
        params = jax.block_until_ready(train(cfgs, data, on_step=on_step, init=init, what=what))
        train_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    acc, pa, fa = evaluate(params, cfgs, spec.ratios, data, seed=spec.seed, on_step=on_step,
                           what=what)
    zoo = Zoo(cfgs, params, acc, np.asarray(spec.ratios), pa, fa, train_seconds,
              time.perf_counter() - t1)
    if path is not None:
        try:
            save(zoo, path)
        except OSError:
            if old is None:
                raise
            # a read-only cache of an older evaluation: the fresh one is used, not stored
    return zoo


def save(zoo: Zoo, path: Path) -> None:
    """Write ``path.npz`` (parameters, accuracies) and ``path.json`` (configs, timings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"accuracy": zoo.accuracy, "ratios": zoo.ratios,
              "prune_accuracy": zoo.prune_accuracy, "fold_accuracy": zoo.fold_accuracy}
    mlp = not isinstance(zoo.params[0], networks.CNN) if zoo.params else True
    for i, p in enumerate(zoo.params):
        if not mlp:  # any other network: its leaves, rebuilt on load from init(config)
            for j, leaf in enumerate(jax.tree.leaves(p)):
                arrays[f"net{i}/leaf{j}"] = np.asarray(leaf)
            continue
        for j, layer in enumerate(p):
            arrays[f"net{i}/layer{j}/w"] = np.asarray(layer.w)
            arrays[f"net{i}/layer{j}/b"] = np.asarray(layer.b)
    # numpy's stubs match **arrays against allow_pickle: bool too (its keys never are that)
    np.savez_compressed(path.with_suffix(".npz"), **arrays)  # pyright: ignore[reportArgumentType]
    meta = {"configs": [c._asdict() for c in zoo.configs], "train_seconds": zoo.train_seconds,
            "eval_seconds": zoo.eval_seconds, "leaves": not mlp,
            "compression_version": COMPRESSION_VERSION}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")


def load(path: Path, *, init: Callable[[Config], object] = init_mlp) -> Zoo:
    """Read a zoo written by :func:`save` (``init``: the architecture's untrained network,
    the template of non-MLP parameters)."""
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    cfgs = [Config(**c) for c in meta["configs"]]
    with np.load(Path(path).with_suffix(".npz")) as f:
        if meta.get("leaves"):
            params = []
            for i, c in enumerate(cfgs):
                tree = jax.tree.structure(init(c))
                params.append(jax.tree.unflatten(tree, [jnp.asarray(f[f"net{i}/leaf{j}"])
                                                        for j in range(tree.num_leaves)]))
        else:
            params = [tuple(networks.Dense(jnp.asarray(f[f"net{i}/layer{j}/w"]),
                                           jnp.asarray(f[f"net{i}/layer{j}/b"]))
                            for j in range(c.depth + 1)) for i, c in enumerate(cfgs)]
        return Zoo(cfgs, params, f["accuracy"], f["ratios"], f["prune_accuracy"],
                   f["fold_accuracy"], meta["train_seconds"], meta["eval_seconds"])


def _compression_version(path: Path) -> int:
    """The :data:`COMPRESSION_VERSION` a cached zoo was evaluated under (0 if unrecorded)."""
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    return int(meta.get("compression_version", 0))


#: Training settings by which :func:`by_setting` splits the zoo.
SETTINGS = ("optimizer", "lr", "weight_decay", "label_smoothing", "steps", "width", "depth")


def per_ratio(zoo: Zoo) -> list[dict]:
    """Per ratio: fraction of networks with fold accuracy ≥ prune accuracy, mean gap
    (fold − prune, in accuracy points), and mean accuracies."""
    gap = zoo.fold_accuracy - zoo.prune_accuracy
    return [{"ratio": float(r), "fold_at_least_prune": float(np.mean(gap[:, j] >= 0)),
             "mean_gap": float(gap[:, j].mean()), "median_gap": float(np.median(gap[:, j])),
             "mean_prune": float(zoo.prune_accuracy[:, j].mean()),
             "mean_fold": float(zoo.fold_accuracy[:, j].mean())}
            for j, r in enumerate(zoo.ratios)]


def by_setting(zoo: Zoo, *, min_ratio: float = 0.5) -> list[dict]:
    """Mean gap and fold ≥ prune rate over ratios ≥ ``min_ratio``, for every value of every
    training setting in :data:`SETTINGS` (which settings narrow or reverse the gap)."""
    cols = zoo.ratios >= min_ratio - 1e-9
    gap = (zoo.fold_accuracy - zoo.prune_accuracy)[:, cols]
    rows = []
    for s in SETTINGS:
        values = np.array([getattr(c, s) for c in zoo.configs])
        for v in sorted(set(values.tolist())):
            sel = values == v
            rows.append({"setting": s, "value": v, "networks": int(sel.sum()),
                         "mean_gap": float(gap[sel].mean()),
                         "fold_at_least_prune": float(np.mean(gap[sel] >= 0)),
                         "mean_accuracy": float(zoo.accuracy[sel].mean())})
    return rows


def for_budget(budget: str, cache_dir: Path | str = DEFAULT_CACHE, *,
               on_step: OnStep = None) -> Zoo:
    """The :data:`DEFAULT` zoo if cached (or if ``budget`` is not ``"quick"``: then it is
    trained and cached), else the small :data:`QUICK` zoo (trained in well under a minute)."""
    full = Path(cache_dir) / f"zoo-{spec_hash(DEFAULT)}.npz"
    spec = QUICK if budget == "quick" and not full.exists() else DEFAULT
    return build(spec, cache_dir=cache_dir, on_step=on_step)
