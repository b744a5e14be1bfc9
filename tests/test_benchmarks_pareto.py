"""The time-to-quality bookkeeping of the Pareto benchmark (no timing is ever asserted)."""

import json
import math

import numpy as np

from benchmarks import cases, pareto
from benchmarks import methods as M


def _pt(method, seconds, inertia, **setting):
    return {"method": method, "setting": setting, "seconds": seconds, "inertia": inertia}


POINTS = [
    _pt("projgeo", 0.1, 10.0, effort="fast"), _pt("projgeo", 0.3, 8.0, effort="default"),
    _pt("projgeo", 0.5, 8.0, effort="best"), _pt("projgeo", 0.2, 9.0, max_iter=3),
    _pt("faiss", 0.05, 9.5, niter=5), _pt("faiss", 0.06, 9.0, niter=50),
    _pt("ward", 0.4, 7.0),
    _pt("sklearn", 2.0, 8.5, n_init=1), _pt("sklearn", 20.0, 8.5, n_init=10),
]


def test_ratio_is_projgeo_time_to_reach_the_peers_best_over_the_peers_time():
    by = {r["peer"]: r for r in pareto.time_to_quality(POINTS)}
    # faiss's best is 9.0 at 0.06 s; the fastest projgeo point at ≤ 9.0 takes 0.2 s.
    assert by["faiss"]["reached"] and math.isclose(by["faiss"]["ratio"], 0.2 / 0.06)
    assert by["faiss"]["projgeo_setting"] == {"max_iter": 3}
    # sklearn's best inertia ties: the faster of the two points is its best.
    assert math.isclose(by["sklearn"]["ratio"], 0.3 / 2.0)
    # Nothing of projgeo is at or below Ward's 7.0.
    assert not by["ward"]["reached"] and by["ward"]["ratio"] is None
    assert math.isclose(by["ward"]["projgeo_best_inertia_over_peer_best"], 8.0 / 7.0)
    assert "ott" not in by


def test_front_keeps_only_points_no_other_point_beats():
    f = pareto.front([p for p in POINTS if p["method"] == "projgeo"])
    assert [(p["seconds"], p["inertia"]) for p in f] == [(0.1, 10.0), (0.2, 9.0), (0.3, 8.0)]
    # Nothing is both as fast and as good: Ward is slower, faiss worse, "best" slower.
    assert pareto.default_on_front(POINTS)
    assert not pareto.default_on_front(POINTS + [_pt("ward", 0.25, 8.0)])
    assert not pareto.default_on_front(POINTS + [_pt("faiss", 0.3, 7.9)])


def test_a_repeat_of_the_defaults_own_run_never_dominates_it():
    def run(seconds, inertia, iterations, seeding, **setting):
        return {**_pt("projgeo", seconds, inertia, **setting), "iterations": iterations,
                "seeding": seeding}

    d = run(0.3, 8.0, 40, "ward", effort="default")
    pts = [p for p in POINTS if p["setting"] != {"effort": "default"}] + [d]
    # "best" stopped where the default did (same seeding, iterations and inertia): only
    # timing noise makes it faster, so the default stays on the front.
    assert pareto.default_on_front(pts + [run(0.29, 8.0, 40, "ward", effort="best")])
    # Any difference in the run counts: more iterations, another seeding, a lower inertia.
    assert not pareto.default_on_front(pts + [run(0.29, 8.0, 41, "ward", effort="best")])
    assert not pareto.default_on_front(pts + [run(0.29, 8.0, 40, "bisect", max_iter=3)])
    assert not pareto.default_on_front(pts + [run(0.3, 7.9, 40, "ward", effort="best")])
    # Peers never count as repeats.
    assert not pareto.default_on_front(pts + [{**_pt("faiss", 0.29, 8.0), "iterations": 40,
                                               "seeding": "ward"}])


def test_projgeo_points_name_their_seeding_and_the_caps_sweep_bisects():
    ps = pareto.settings_of("projgeo", pareto.SETTINGS)
    caps = [p for p in ps if "effort" not in p]
    assert caps and all(p["seeding"] in ("bisect", "ward") for p in caps)
    assert {p["seeding"] for p in caps} == {"bisect", "ward"}
    w = np.asarray(np.random.default_rng(0).standard_normal((24, 3)), np.float32)
    _, _, extra = pareto._projgeo(w, 8, 0, effort="default")
    assert extra["seeding"] == "ward"  # 24 rows ≤ 4 × capacity 16
    _, _, extra = pareto._projgeo(w, 8, 0, seeding="bisect", max_iter=1)
    assert extra["seeding"] == "bisect"


def test_targets_say_not_reached_and_by_how_much():
    res = {"cases": [{"case": "c", "family": "f", "time_to_quality": pareto.time_to_quality(
        POINTS), "projgeo_default_on_front": False}]}
    out = []
    pareto.targets(res, lambda name, value, threshold, met, note="", why="": out.append(
        (name, value, met)))
    met = {name.split("reach ")[1].split("'")[0] if "reach " in name else "front": m
           for name, _, m in out}
    assert met == {"faiss": False, "ward": False, "sklearn": True, "front": False}
    json.dumps(out)


def test_one_tiny_case_gives_points_of_every_method_and_a_plot(tmp_path):
    table = {**pareto.QUICK_SETTINGS, "faiss": {"niter": (5,)}, "sklearn": {"n_init": (1,)},
             "ott": {"n_init": (1,)}, "projgeo": {"effort": ("fast",), "caps": ((1, 0, 0),)}}
    rng = np.random.default_rng(0)
    w = rng.standard_normal((40, 6)).astype(np.float32)
    pts = pareto.case_points(w, 5, seed=0, table=table)
    optional = {"ott"} if M.ott_available() else set()
    optional |= {"faiss"} if M.faiss_available() else set()
    assert {p["method"] for p in pts} == {"projgeo", "ward", "sklearn"} | optional
    assert all(p["seconds"] > 0 and p["inertia"] > 0 for p in pts)
    sk = next(p for p in pts if p["method"] == "sklearn")
    assert {"seconds_one_thread", "seconds_default_threads"} <= set(sk)
    c = cases.Case("tiny", 40, 6, 5, "gaussian")
    res = {"cases": [{"case": c.name, "family": c.family, "n": 40, "d": 6, "k": 5,
                      "points": pts, "fronts": {m: [pts.index(p) for p in pareto.front(
                          [p for p in pts if p["method"] == m])] for m in pareto.STYLE}}]}
    paths = pareto.plot(res, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths)


def test_quick_cases_are_the_four_of_the_issue_and_filters_apply():
    assert [(c.name, c.family) for c in pareto.cases(True)] == list(pareto.QUICK_CASES)
    assert len(pareto.cases(False)) == len(cases.cases(False))
    assert all(c.family == "gaussian" for c in pareto.cases(True, families=["gaussian"]))
