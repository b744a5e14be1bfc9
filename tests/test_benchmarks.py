"""Smoke test of the benchmarks package on tiny inputs; no timing is ever asserted."""

import json

import jax
import numpy as np
import pytest

from benchmarks import batched, cases, cli, methods, scale
from projgeo import fold_error, fold_projector

TINY = cases.Case("tiny", 40, 6, 5, "clustered")


def test_inertia64_is_the_fold_error():
    w = np.asarray(jax.random.normal(jax.random.key(0), (TINY.n, TINY.d)))
    labels = np.arange(TINY.n) % TINY.k
    assert methods.inertia64(w, labels) == pytest.approx(
        float(fold_error(w, fold_projector(labels, TINY.k))), rel=1e-12)


def test_one_case_gives_one_record_per_method_and_targets():
    records, ceiling = cli.run_case(TINY, 0, lambda s: None)
    assert [r["method"] for r in records] == list(cli.METHODS)
    for r in records:
        assert r["case"] == "tiny" and r["family"] == "clustered"
        if "skipped" not in r:
            assert r["seconds"] > 0 and np.isfinite(r["inertia"]) and r["inertia"] >= 0
            assert r["clusters_used"] <= TINY.k
    assert records[0]["inertia_ratio_to_projgeo"] == 1.0
    assert ceiling["matmul_gflops"] > 0 and ceiling["lloyd_step_gflops"] > 0
    b = batched.run(4, 12, 5, 4, steps=3)
    assert b["certified"] == 4 and b["violations"] == 0 and b["speed_ratio_to_naive"] > 0
    assert b["fixed_trip"]["bitwise_equal_to_default"]
    targets = cli._targets(records, [ceiling], None, b)
    assert {"target", "value", "threshold", "met"} <= set(targets[0])
    json.dumps(targets)


def test_scale_worker_reports_time_and_memory():
    r = scale.measure(40, 6, 5, cases.SCALE_OPTIONS)
    assert r["run_seconds"] > 0 and r["peak_rss_bytes"] > 0
    assert r["options"]["max_iter"] == cases.SCALE_OPTIONS["max_iter"]


def test_quick_mode_says_what_it_skips():
    assert len(cases.cases(True)) < len(cases.cases(False))
    assert cases.skipped(True) and not cases.skipped(False)
    large = next(c for c in cases.cases(True) if c.name == "large")
    assert cases.skip_methods(large, True) and not cases.skip_methods(large, False)


def test_a_skipped_method_gets_a_record_that_says_so():
    records, _ = cli.run_case(TINY, 0, lambda s: None, skip=("sklearn", "ward"))
    by = {r["method"]: r for r in records}
    assert "skipped" in by["sklearn"] and "skipped" in by["ward"] and "seconds" in by["projgeo"]


def test_bert_small_checkpoint_has_36_linear_layers_with_biases(tmp_path):
    from benchmarks import sweep
    from projgeo.io.checkpoint import Checkpoint, find_layers

    path = sweep.bert_small_checkpoint(tmp_path / "b.safetensors")
    layers, skipped = find_layers(Checkpoint(path))
    assert len(layers) == 36 and all(lay.bias for lay in layers)
    assert {lay.shape for lay in layers} == {(384, 385), (1536, 385), (384, 1537)}
    assert [s.reason for s in skipped] == ["embedding"]


def test_sweep_targets_say_met_or_by_how_much():
    from benchmarks import sweep

    res = {"compile_counts": {"n": 96, "d": 33, "five_ratio_compiles": 4, "all_k_compiles_after": 3,
                              "rule": 8},
           "certified_time_ratio": {"n": 1536, "d": 385, "ratio": 2.0},
           "checkpoint": {"wall_seconds": 200.0, "returncode": 0, "peak_rss_bytes": 1e9,
                          "load_average_before": [1.0], "load_average_after": [1.0],
                          "layers": 36}}
    out = []
    sweep.targets(res, lambda name, value, threshold, met, note="", why="": out.append(
        (name, value, threshold, met)))
    assert [t[3] for t in out] == [True, True, False, False, True]


def test_a_childs_peak_memory_is_its_own_not_an_earlier_childs():
    import sys

    from benchmarks import sweep

    big = [sys.executable, "-c", "import numpy as np; a = np.ones(400 * 2**20 // 8); a.sum()"]
    small = [sys.executable, "-c", "print('hi')"]
    code, _, _, _, _, rss_big = sweep.run_measured(big, None)
    assert code == 0 and rss_big > 400 * 2**20
    # A parent that has held 300 MB: a child forked from it counts that before its exec.
    ballast = np.ones(300 * 2**20 // 8)
    ballast.sum()
    code, out, _, wall, cpu, rss_small = sweep.run_measured(small, None)
    assert (code, out) == (0, "hi\n") and wall > 0 and cpu >= 0
    assert rss_small < 200 * 2**20 < rss_big
    code, _, err, _, _, _ = sweep.run_measured([sys.executable, "-c", "raise SystemExit(3)"],
                                               None)
    assert code == 3
