"""C8 zoo: training, compression at equal parameter count, and accuracy evaluation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import projgeo as pg
from projgeo import networks
from projgeo.experiments import zoo
from projgeo.networks import Dense


@pytest.fixture(scope="module")
def tiny():
    return zoo.build(zoo.TINY, cache_dir=None)


def test_tiny_zoo_trains_above_chance_and_tables_have_one_row_per_network(tiny):
    n = len(zoo.configs(zoo.TINY))
    assert len(tiny.params) == n == 2
    assert tiny.prune_accuracy.shape == tiny.fold_accuracy.shape == (n, len(zoo.TINY.ratios))
    assert np.all(tiny.accuracy > 0.5)  # 10 classes: chance is 0.1
    assert np.all((tiny.fold_accuracy >= 0) & (tiny.fold_accuracy <= 1))


@pytest.mark.parametrize("method", ["prune", "fold"])
def test_compression_keeps_k_channels_and_equal_parameter_count(tiny, method):
    params = tiny.params[0]
    n = params[0].w.shape[0]
    small = zoo.compressed(params, method, 0.5, key=jax.random.key(0))
    k = pg.keep_count(n, 0.5)
    assert (n, k) == (16, 8)
    assert networks.hidden_widths(small) == (k,)
    assert small[0].w.shape == (k, params[0].w.shape[1])
    assert small[1].w.shape == (params[1].w.shape[0], k)
    other = zoo.compressed(params, "fold" if method == "prune" else "prune", 0.5,
                           key=jax.random.key(0))
    assert networks.count(small) == networks.count(other)


def test_accuracy_on_a_hand_case():
    eye = jnp.eye(2)
    params = (Dense(eye, jnp.zeros(2)), Dense(eye, jnp.zeros(2)))
    x = jnp.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]])
    y = jnp.array([0, 1, 0])
    assert float(zoo.accuracy(params, x, y)) == pytest.approx(2 / 3)


def test_per_ratio_counts_ties_as_fold_at_least_prune():
    cfg = zoo.configs(zoo.TINY)
    z = zoo.Zoo(cfg, [], np.array([0.95, 0.95]), np.array([0.1, 0.5]),
                prune_accuracy=np.array([[0.9, 0.5], [0.8, 0.6]]),
                fold_accuracy=np.array([[0.9, 0.7], [0.7, 0.6]]),
                train_seconds=0.0, eval_seconds=0.0)
    rows = zoo.per_ratio(z)
    assert [r["fold_at_least_prune"] for r in rows] == [0.5, 1.0]
    assert [r["mean_gap"] for r in rows] == pytest.approx([-0.05, 0.1])
    by = {(r["setting"], r["value"]): r for r in zoo.by_setting(z, min_ratio=0.5)}
    assert by[("label_smoothing", 0.0)]["mean_gap"] == pytest.approx(0.2)
    assert by[("label_smoothing", 0.1)]["mean_gap"] == pytest.approx(0.0)


def test_cache_round_trip(tiny, tmp_path):
    zoo.save(tiny, tmp_path / "z")
    back = zoo.load(tmp_path / "z")
    assert back.configs == tiny.configs
    np.testing.assert_array_equal(back.fold_accuracy, tiny.fold_accuracy)
    for a, b in zip(jax.tree.leaves(back.params), jax.tree.leaves(tiny.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(("method", "ratio"), [("cut", 0.5), ("fold", 1.0), ("prune", -0.1)])
def test_bad_method_or_ratio_is_refused(tiny, method, ratio):
    with pytest.raises(ValueError, match="method|ratio"):
        zoo.projectors(tiny.params[0], method, ratio, key=jax.random.key(0))


def test_c8_is_registered_but_not_in_the_default_quick_run():
    from proofs_check import cli, registry

    assert registry.CHECKERS["C8"] == "proofs_check.c8_empirical"
    assert cli.build_parser().parse_args([]).claims == registry.DEFAULT_CLAIMS
    assert "C8" not in registry.DEFAULT_CLAIMS
    assert cli.build_parser().parse_args(["--claims", "C8"]).claims == ["C8"]


def test_build_names_every_training_and_compression_step(tmp_path):
    steps: list[str] = []
    zoo.build(zoo.TINY, cache_dir=tmp_path, on_step=steps.append)
    assert steps == ["train 2 MLPs width=16 depth=1 (60 steps, vmapped)",
                     "compress 2 MLPs width=16 depth=1 at ratio 50 %: prune, fold"]
    again: list[str] = []
    zoo.build(zoo.TINY, cache_dir=tmp_path, on_step=again.append)
    assert len(again) == 1 and again[0].startswith("load cached MLP zoo")


def test_a_zoo_cached_by_an_older_fold_is_evaluated_again_not_retrained(tmp_path):
    import json

    zoo.build(zoo.TINY, cache_dir=tmp_path)
    path = tmp_path / f"zoo-{zoo.spec_hash(zoo.TINY)}"
    fresh = zoo.load(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["compression_version"] == zoo.COMPRESSION_VERSION
    # An old cache: no version field, and accuracies from another fold.
    del meta["compression_version"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    stale = fresh._replace(fold_accuracy=np.zeros_like(fresh.fold_accuracy))
    zoo.save(stale, path)
    meta = json.loads(path.with_suffix(".json").read_text())
    del meta["compression_version"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    steps: list[str] = []
    again = zoo.build(zoo.TINY, cache_dir=tmp_path, on_step=steps.append)
    assert steps[0].startswith("load cached MLP zoo")
    assert not any(s.startswith("train") for s in steps)
    assert any(s.startswith("compress") for s in steps)
    np.testing.assert_array_equal(again.fold_accuracy, fresh.fold_accuracy)
    assert again.train_seconds == fresh.train_seconds  # training kept, not redone
    for a, b in zip(jax.tree.leaves(again.params), jax.tree.leaves(fresh.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert json.loads(path.with_suffix(".json").read_text())["compression_version"] == \
        zoo.COMPRESSION_VERSION
    # Now current: loaded as it is.
    steps.clear()
    zoo.build(zoo.TINY, cache_dir=tmp_path, on_step=steps.append)
    assert len(steps) == 1


@pytest.fixture(scope="module")
def tiny_cnn():
    from projgeo.experiments import cnn_zoo

    return cnn_zoo.build(cnn_zoo.TINY, cache_dir=None)


def test_tiny_cnn_zoo_trains_above_chance_with_two_conv_layers(tiny_cnn):
    from projgeo.experiments import cnn_zoo

    assert len(tiny_cnn.params) == len(zoo.configs(cnn_zoo.TINY)) == 2
    net = tiny_cnn.params[0]
    assert isinstance(net, networks.CNN) and networks.hidden_widths(net) == (4, 8)
    assert net.convs[0].w.shape == (4, 1, 3, 3) and net.head.w.shape == (10, 8 * 64)
    assert np.all(tiny_cnn.accuracy > 0.5)
    assert tiny_cnn.prune_accuracy.shape == tiny_cnn.fold_accuracy.shape == (2, 1)


@pytest.mark.parametrize("method", ["prune", "fold"])
def test_cnn_compression_is_channel_wise_in_every_conv_layer(tiny_cnn, method):
    net = tiny_cnn.params[0]
    small = zoo.compressed(net, method, 0.5, key=jax.random.key(0))
    assert networks.hidden_widths(small) == (2, 4)
    assert small.convs[0].w.shape == (2, 1, 3, 3) and small.convs[1].w.shape == (4, 2, 3, 3)
    assert small.head.w.shape == (10, 4 * 64)  # the head's channel blocks follow
    other = zoo.compressed(net, "fold" if method == "prune" else "prune", 0.5,
                           key=jax.random.key(0))
    assert networks.count(small) == networks.count(other)


def test_cnn_numpy_reference_accuracy_equals_the_jitted_one(tiny_cnn):
    from proofs_check import c8_empirical

    x, y = zoo.load_data(0)[2:]
    for net in tiny_cnn.params:
        small = zoo.compressed(net, "fold", 0.5, key=jax.random.key(1))
        for p in (net, small):
            assert c8_empirical._fresh_accuracy(p, x, y) == pytest.approx(
                float(zoo.accuracy(p, x, y)), abs=0.5 / len(y))


def test_cnn_cache_round_trip(tiny_cnn, tmp_path):
    from projgeo.experiments import cnn_zoo

    zoo.save(tiny_cnn, tmp_path / "c")
    back = zoo.load(tmp_path / "c", init=cnn_zoo.init_cnn)
    assert isinstance(back.params[0], networks.CNN)
    for a, b in zip(jax.tree.leaves(back.params), jax.tree.leaves(tiny_cnn.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_ratios_with_the_same_kept_widths_are_evaluated_once():
    steps: list[str] = []
    spec = zoo.TINY._replace(ratios=(0.2, 0.3, 0.5))
    z = zoo.build(spec._replace(widths=(4,)), cache_dir=None, on_step=steps.append)
    # width 4: k = round(3.2) = 3, round(2.8) = 3, 2: the first two ratios share k = 3
    assert sum(s.startswith("compress") for s in steps) == 2
    np.testing.assert_array_equal(z.fold_accuracy[:, 0], z.fold_accuracy[:, 1])


def test_checker_prints_the_per_ratio_table_of_both_zoos(capsys):
    from proofs_check import cli

    def zoo_details(n, win, gap):
        return {"networks": n, "per_ratio": [{"ratio": r, "fold_at_least_prune": win,
                                              "mean_gap": gap} for r in (0.1, 0.9)]}

    cli._print_c8({**zoo_details(12, 0.75, 0.031), "cnn": zoo_details(96, 0.5, -0.2)})
    lines = capsys.readouterr().out.splitlines()
    assert "12 MLPs | 96 CNNs" in lines[1]
    assert lines[3].split() == ["10%", "75.0", "+3.10", "50.0", "-20.00"]
    assert lines[4].split() == ["90%", "75.0", "+3.10", "50.0", "-20.00"]


def test_the_zoo_does_not_depend_on_the_x64_flag(tiny):
    import json
    import subprocess
    import sys

    code = ("from projgeo import config; config.setup(x64=False)\n"
            "from projgeo.experiments import zoo; import json\n"
            "z = zoo.build(zoo.TINY, cache_dir=None)\n"
            "print(json.dumps([z.accuracy.tolist(), z.fold_accuracy.tolist()]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=True).stdout
    acc, fold_acc = json.loads(out.splitlines()[-1])
    assert acc == tiny.accuracy.tolist() and fold_acc == tiny.fold_accuracy.tolist()


@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_zoo_tables_are_the_accuracies_of_the_compressed_networks(tiny, tiny_cnn, which):
    """The vmapped, compile-once evaluation gives, network by network, the accuracy of
    ``compressed(params, method, ratio, key)`` with the key the zoo derives from the seed."""
    from projgeo.experiments import cnn_zoo

    z, spec = (tiny, zoo.TINY) if which == "mlp" else (tiny_cnn, cnn_zoo.TINY)
    _, _, x_te, y_te = zoo.load_data(spec.seed)
    x_te, y_te = jnp.asarray(x_te), jnp.asarray(y_te)
    for i, (params, cfg) in enumerate(zip(z.params, z.configs, strict=True)):
        key = jax.random.fold_in(jax.random.key(spec.seed), cfg.seed)
        for r, ratio in enumerate(spec.ratios):
            for method, table in (("prune", z.prune_accuracy), ("fold", z.fold_accuracy)):
                small = zoo.compressed(params, method, float(ratio), key=key)
                assert table[i, r] == pytest.approx(float(zoo.accuracy(small, x_te, y_te)),
                                                    abs=1e-12), (method, ratio)
