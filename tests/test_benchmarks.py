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
    b = batched.run(4, 12, 5, 4)
    assert b["certified"] == 4 and b["violations"] == 0
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
