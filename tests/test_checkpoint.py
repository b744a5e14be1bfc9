"""proofs_check checkpoint: formats, layer discovery, per-layer C3/C4 numbers, clear errors."""

import json

import numpy as np
import pytest
import safetensors.numpy

import projgeo as pg
from projgeo.io.checkpoint import Checkpoint, CheckpointError, find_layers, layer_rows, layer_shape
from proofs_check import cli

RNG = np.random.default_rng(0)


def _f32(*shape):
    return RNG.normal(size=shape).astype(np.float32)


HF_MLP = {
    "model.embed_tokens.weight": _f32(20, 6),
    "model.layers.0.input_layernorm.weight": _f32(6),
    "model.layers.0.mlp.up_proj.weight": _f32(8, 6),
    "model.layers.0.mlp.up_proj.bias": _f32(8),
    "model.layers.0.mlp.down_proj.weight": _f32(6, 8),
    "model.norm.weight": _f32(6),
    "lm_head.weight": _f32(8, 6),
}
CONV = {
    "conv1.weight": _f32(8, 1, 2, 3),
    "conv1.bias": _f32(8),
    "conv2.weight": _f32(8, 8, 1, 1),  # no bias
    "bn1.running_mean": _f32(8),
    "bn1.num_batches_tracked": np.array(3, np.int64),
}


def _run(*argv):
    return cli.main(["checkpoint", *map(str, argv)])


@pytest.fixture
def hf_file(tmp_path):
    path = tmp_path / "mlp.safetensors"
    safetensors.numpy.save_file(HF_MLP, path)
    return path


def test_hugging_face_names_are_paired_and_embeddings_norms_skipped(hf_file):
    layers, skipped = find_layers(Checkpoint(hf_file))
    by_name = {lay.name: lay for lay in layers}
    assert set(by_name) == {"model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj",
                            "lm_head"}
    assert by_name["model.layers.0.mlp.up_proj"].bias == "model.layers.0.mlp.up_proj.bias"
    assert by_name["model.layers.0.mlp.up_proj"].shape == (8, 7)  # bias appended
    reasons = {s.name: s.reason for s in skipped}
    assert reasons["model.embed_tokens.weight"] == "embedding"
    assert "1-D" in reasons["model.norm.weight"]


def test_conv_kernels_are_flattened_and_buffers_skipped(tmp_path):
    path = tmp_path / "conv.npz"
    np.savez(path, **CONV)
    ckpt = Checkpoint(path)
    layers, skipped = find_layers(ckpt)
    shapes = {lay.name: lay.shape for lay in layers}
    assert shapes == {"conv1": (8, 1 * 2 * 3 + 1), "conv2": (8, 8)}
    rows = layer_rows(ckpt, next(lay for lay in layers if lay.name == "conv1"))
    np.testing.assert_array_equal(rows[:, :-1], CONV["conv1.weight"].reshape(8, -1))
    np.testing.assert_array_equal(rows[:, -1], CONV["conv1.bias"])
    assert {s.name for s in skipped} == {"bn1.running_mean", "bn1.num_batches_tracked"}


def test_report_matches_the_library_on_the_same_tensors(hf_file, tmp_path):
    out = tmp_path / "r.json"
    assert _run(hf_file, "--ratios", "0.5", "--layers", "up_proj", "--json", out) == 0
    doc = json.loads(out.read_text())
    (layer,) = doc["layers"]
    (rec,) = layer["ratios"]
    w = np.concatenate([HF_MLP["model.layers.0.mlp.up_proj.weight"],
                        HF_MLP["model.layers.0.mlp.up_proj.bias"][:, None]], 1).astype(float)
    total = np.sum(w * w)
    p = pg.magnitude_prune(w, 4)
    assert rec["k"] == 4 and layer["shape"] == [8, 7]
    np.testing.assert_allclose(rec["prune"], pg.prune_error(w, p) / total, rtol=1e-12)
    np.testing.assert_allclose(rec["c3_fold"], pg.fold_error(w, pg.pruning_partition(p)) / total,
                               rtol=1e-12)
    assert rec["certified"] <= rec["prune"] and rec["c3_fold"] <= rec["prune"] + 1e-12
    assert rec["c3_holds"] and rec["c4_holds"]
    assert doc["summary"]["violations"] == 0
    assert any(s["reason"].startswith("does not match --layers") for s in doc["skipped"])


def test_figures_are_written(hf_file, tmp_path):
    figs = tmp_path / "figs"
    assert _run(hf_file, "--ratios", "0.5", "--layers", "up_proj", "--figures", figs) == 0
    assert (figs / "summary.png").stat().st_size > 0
    assert (figs / "curve_model.layers.0.mlp.up_proj.png").stat().st_size > 0


def _broken_files(tmp_path):
    good = tmp_path / "good.safetensors"
    safetensors.numpy.save_file({"a.weight": _f32(4, 3)}, good)
    data = good.read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(data[:-7])
    (tmp_path / "header.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "notzip.npz").write_bytes(b"hello")
    (tmp_path / "model.onnx").write_bytes(b"x")
    (tmp_path / "adir.safetensors").mkdir()
    nan = _f32(4, 3)
    nan[1, 2] = np.nan
    safetensors.numpy.save_file({"bad.weight": nan}, tmp_path / "nan.safetensors")
    (tmp_path / "model.pt").write_bytes(b"x")
    return {
        "truncated.safetensors": "truncated.safetensors: not a readable",
        "header.safetensors": "header.safetensors: not a readable",
        "empty.npz": "empty.npz: empty file",
        "notzip.npz": "notzip.npz: not a readable .npz",
        "model.onnx": "unknown format '.onnx'",
        "adir.safetensors": "is a directory",
        "nan.safetensors": "tensor 'bad.weight' contains NaN",
        "missing.npz": "missing.npz: no such file",
        "model.pt": "PyTorch",
    }


def test_broken_files_give_clear_errors_and_write_nothing(tmp_path, capsys):
    pytest.importorskip("safetensors")
    cases = _broken_files(tmp_path)
    try:
        import torch  # noqa: F401

        cases.pop("model.pt")  # with torch installed the message differs
    except ImportError:
        pass
    for name, message in cases.items():
        out, figs = tmp_path / f"{name}.json", tmp_path / f"{name}-figs"
        assert _run(tmp_path / name, "--ratios", "0.5", "--json", out, "--figures", figs) == 2
        err = capsys.readouterr().err
        assert message in err, (name, err)
        assert not out.exists() and not figs.exists()


def test_checkpoint_error_is_a_value_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        Checkpoint(tmp_path / "nope.safetensors")
    assert issubclass(CheckpointError, ValueError)


@pytest.mark.parametrize("argv", [["--ratios", "1.5"], ["--ratios", "a"], ["--layers", "("],
                                  ["--score", "l3"], ["--seed", str(2**70)], ["--seed", "-1"],
                                  ["--jobs", "0"], ["--jobs", "two"]])
def test_usage_errors_exit_2(hf_file, argv):
    with pytest.raises(SystemExit) as e:
        _run(hf_file, *argv)
    assert e.value.code == 2


def test_the_readme_example_checkpoint_passes(tmp_path):
    from projgeo.io.checkpoint import example_checkpoint

    path = example_checkpoint(tmp_path / "example.safetensors")
    out = tmp_path / "r.json"
    assert _run(path, "--ratios", "0.5", "--json", out) == 0
    doc = json.loads(out.read_text())
    assert {lay["name"] for lay in doc["layers"]} == {
        "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj", "model.conv", "lm_head"}
    assert doc["summary"]["violations"] == 0


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_any_finite_weights_give_the_unit_scale_report_and_strict_json(tmp_path, scale):
    # float64 weights far outside float32's range: relative errors come from a rescaled
    # copy, so no NaN, no false violation, and the same numbers as at unit scale.
    state = {"up.weight": HF_MLP["model.layers.0.mlp.up_proj.weight"].astype(np.float64),
             "up.bias": HF_MLP["model.layers.0.mlp.up_proj.bias"].astype(np.float64)}
    docs = []
    for s in (1.0, scale):
        path = tmp_path / f"w{s:g}.safetensors"
        safetensors.numpy.save_file({k: v * s for k, v in state.items()}, path)
        out = tmp_path / f"w{s:g}.json"
        assert _run(path, "--ratios", "0.25,0.5,0.75", "--json", out) == 0
        docs.append(json.loads(out.read_text()))  # strict: bare NaN would not parse back
    ref, big = (d["layers"][0]["ratios"] for d in docs)
    assert docs[1]["summary"]["violations"] == 0
    for a, b in zip(ref, big, strict=True):
        for name in ("prune", "c3_fold", "certified", "fold_k"):
            np.testing.assert_allclose(b[name], a[name], rtol=1e-9, atol=1e-15)


def test_output_paths_are_checked_before_any_work(hf_file, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = tmp_path / "r.json"
    for argv in (["--figures", a_file], ["--json", tmp_path / "nodir" / "r.json"],
                 ["--json", tmp_path]):
        assert _run(hf_file, "--json", out, *argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err, err
        assert not out.exists()
    assert a_file.read_text() == "x"


def test_a_checkpoint_without_compressible_layers_exits_2(tmp_path, capsys):
    path = tmp_path / "norms.safetensors"
    safetensors.numpy.save_file({"norm.weight": _f32(6), "embed_tokens.weight": _f32(9, 4)}, path)
    assert _run(path, "--json", tmp_path / "r.json") == 2
    assert "no compressible layer" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_ratios_all_gives_every_rank_of_every_layer(hf_file, tmp_path):
    out = tmp_path / "r.json"
    assert _run(hf_file, "--ratios", "all", "--layers", "up_proj", "--json", out) == 0
    doc = json.loads(out.read_text())
    (layer,) = doc["layers"]
    assert [r["k"] for r in layer["ratios"]] == list(range(1, 8))
    assert all(r["certified"] <= r["prune"] for r in layer["ratios"])
    assert doc["summary"]["violations"] == 0 and "all" in doc["summary"]["equal_rank_win_rate"]


def test_sdp_lower_bound_option_tightens_the_gap_and_stays_below_the_fold(tmp_path):
    """--lower-bound sdp: the gap column's bound is ≥ the spectral one and ≤ the fold."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "m.npz", **{"layer.weight": rng.normal(size=(12, 3)) * 1e200})
    out = {}
    for how in ("spectral", "sdp"):
        path = tmp_path / f"{how}.json"
        assert _run(tmp_path / "m.npz", "--ratios", "0.25,0.5", "--lower-bound", how,
                    "--json", path) == 0
        out[how] = json.loads(path.read_text())
    for a, b in zip(out["spectral"]["layers"][0]["ratios"], out["sdp"]["layers"][0]["ratios"],
                    strict=True):
        assert a["fold_lower_bound"] <= b["fold_lower_bound"] <= b["fold_k"]
        # rank 3 < k: the spectral bound is 0 (no gap to report); the SDP bound is not
        assert a["fold_gap"] is None and b["fold_gap"] is not None and b["fold_gap"] >= 0


def test_layers_checked_in_threads_give_the_same_report_in_checkpoint_order(tmp_path, capsys):
    """--jobs only changes how many layers run at once: same JSON, same table order."""
    path = tmp_path / "mixed.safetensors"
    safetensors.numpy.save_file({**HF_MLP, **CONV}, path)
    docs, tables = [], []
    for jobs in (1, 3):
        out = tmp_path / f"r{jobs}.json"
        assert _run(path, "--jobs", jobs, "--json", out) == 0
        docs.append(json.loads(out.read_text()))
        tables.append(capsys.readouterr().out)
    assert docs[0] == docs[1]
    assert tables[0] == tables[1]
    assert [layer["name"] for layer in docs[0]["layers"]] == sorted(
        [layer["name"] for layer in docs[0]["layers"]],
        key=[layer.name for layer in find_layers(Checkpoint(path))[0]].index)


def test_layer_shape_is_the_shape_of_layer_rows_without_reading_data(tmp_path):
    path = tmp_path / "mixed.safetensors"
    safetensors.numpy.save_file({**HF_MLP, **CONV}, path)
    ckpt = Checkpoint(path)
    layers, _ = find_layers(ckpt)
    assert {layer.bias is None for layer in layers} == {True, False}
    for layer in layers:
        assert layer_shape(ckpt, layer) == layer_rows(ckpt, layer).shape, layer.name


def test_schedule_starts_every_distinct_shape_first_then_the_rest_in_order():
    from proofs_check.checkpoint import schedule

    assert schedule([(4, 3), (4, 3), (8, 3), (4, 3), (8, 2)]) == [0, 2, 4, 1, 3]
    assert sorted(schedule([(2, 2)] * 5)) == list(range(5))
