"""The command lines check every argument and output path before any work (issue 11).

A bad argument exits with status 2 and one line on stderr, and nothing is written.
"""

from __future__ import annotations

import importlib

import pytest

from proofs_check import cli as pc_cli


def _no_work(monkeypatch):
    """Make any checker, figure or benchmark import fail loudly: no work may start."""
    real = importlib.import_module

    def guard(name, *a, **k):
        if name.startswith(("proofs_check.c", "figures.f")):
            raise AssertionError(f"work started: imported {name}")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", guard)


def _run_usage_error(main, argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err, err
    return err


@pytest.mark.parametrize("argv, match", [
    (["--json", "/nonexistent/r.json"], "does not exist"),
    (["--seed", str(2**70)], "seed must be an integer in"),
    (["--seed", "-1"], "seed must be an integer in"),
    (["--seed", "x"], "expected an integer seed"),
    (["--budget", "fast"], "invalid choice"),
    (["--claims", "C99"], "expected a comma-separated list"),
    (["--no-such-option"], "unrecognized arguments"),
])
def test_proofs_check_usage_errors(argv, match, capsys, monkeypatch):
    _no_work(monkeypatch)
    assert match in _run_usage_error(pc_cli.main, argv, capsys)


def test_proofs_check_json_path_that_is_a_directory(tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    assert "is a directory" in _run_usage_error(pc_cli.main, ["--json", str(tmp_path)], capsys)
    assert list(tmp_path.iterdir()) == []


def test_figures_out_must_be_a_directory(tmp_path, capsys, monkeypatch):
    from figures import cli as fig_cli

    _no_work(monkeypatch)
    f = tmp_path / "afile"
    f.write_text("keep me")
    assert "not a directory" in _run_usage_error(fig_cli.main, ["--out", str(f)], capsys)
    assert "not a directory" in _run_usage_error(fig_cli.main, ["--out", str(f / "sub")],
                                                 capsys)
    assert f.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    assert "expected figure IDs" in _run_usage_error(fig_cli.main, ["--only", "F9"], capsys)


@pytest.mark.parametrize("argv, match", [
    (["--batched-size", "0"], "positive integer"),
    (["--only", "cases", "--shapes", "bogus"], "expected comma-separated shape names"),
    (["--families", "cauchy"], "expected comma-separated families"),
    (["--scale-sizes", "9"], "expected an integer in [0, 3]"),
    (["--seed", str(2**70)], "seed must be"),
    (["--json", "/nonexistent/b.json"], "does not exist"),
    (["--quick", "--only", "cases", "--shapes", "large", "--families", "gaussian"],
     "no benchmark case matches"),
])
def test_benchmarks_usage_errors(argv, match, capsys, monkeypatch):
    from benchmarks import cli as b_cli

    def boom(*a, **k):
        raise AssertionError("work started")

    monkeypatch.setattr(b_cli, "run_case", boom)
    monkeypatch.setattr(b_cli, "run_scale", boom)
    assert match in _run_usage_error(b_cli.main, argv, capsys)


def test_float32_mode_runs_a_claim_with_float32_tolerances(tmp_path):
    """``--dtype float32``: x64 off, every quantity float32, tolerances from float32's eps."""
    import json
    import subprocess
    import sys

    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "proofs_check", "--dtype", "float32",
                           "--claims", "C2", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["dtype"] == "float32" and report["x64"] is False
    margin = report["claims"][0]["worst_margin"]
    assert margin is not None and margin < -1e-12  # float32 rounding, far above float64's
