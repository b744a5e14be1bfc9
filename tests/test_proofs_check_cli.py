"""The proofs_check command line: table, JSON report, exit codes."""

import json
import subprocess
import sys
import types

import pytest

from proofs_check import cli, registry
from proofs_check.frame import Claim, Tally

KEYS = {"id", "title", "trials", "violations", "worst_margin", "seconds", "details"}


def test_c3_report_has_the_documented_schema(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["--claims", "C3", "--json", str(out), "--progress"]) == 0
    report = json.loads(out.read_text())
    assert {"backend", "devices", "x64", "budget", "seed", "claims"} <= report.keys()
    assert report["x64"] is True and report["budget"] == "quick"
    (claim,) = report["claims"]
    assert claim.keys() == KEYS and claim["id"] == "C3"
    assert claim["trials"] >= 100 and claim["violations"] == 0
    assert claim["details"]["exact"]["trials"] >= 100
    std = capsys.readouterr()
    assert "C3" in std.out and "[1/3]" not in std.out
    # Progress names each step as it starts, on stderr: the shapes, then the exact part.
    steps = [line.split("] ", 1)[1] for line in std.err.splitlines() if line.startswith("C3")]
    assert steps[0].startswith("n=6 d=3 k=2") and steps[-1] == "exact rational arithmetic"
    assert len(steps) == 3


def _fake_checker(violate: bool):
    def check(ctx):
        tally = Tally()
        b = tally.batch(3)
        b.leq("a <= b", [0.0, 1.0, 2.0 if violate else 0.5], [1.0, 1.0, 1.0],
              dtype=float, scale=1.0, terms=1)
        b.done()
        return tally

    return types.SimpleNamespace(CLAIM=Claim("CX", "fake", "fake claim"), check=check)


@pytest.mark.parametrize("violate, code", [(False, 0), (True, 1)])
def test_exit_status_follows_violations(monkeypatch, tmp_path, violate, code):
    monkeypatch.setitem(registry.CHECKERS, "CX", "fake_checker_module")
    monkeypatch.setitem(sys.modules, "fake_checker_module", _fake_checker(violate))
    out = tmp_path / "r.json"
    assert cli.main(["--claims", "CX", "--json", str(out)]) == code
    claim = json.loads(out.read_text())["claims"][0]
    assert claim["trials"] == 3 and claim["violations"] == int(violate)
    if violate:
        assert claim["worst_margin"] == pytest.approx(-1.0)
        assert claim["details"]["failing_examples"][0]["index"] == 2


@pytest.mark.parametrize("argv", [["--claims", "C99"], ["--claims", ""], ["--budget", "fast"],
                                  ["--seed", "x"], ["--jobs", "0"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2


def test_module_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "proofs_check", "--claims", "C9"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "expected a comma-separated list" in proc.stderr


def test_claims_run_side_by_side_give_the_same_report_in_the_order_asked(monkeypatch, tmp_path):
    """--jobs only changes how many claims run at once, never the report or its order."""
    import threading

    seen = []

    def checker(cid, violate):
        fake = _fake_checker(violate)

        def check(ctx):
            seen.append((cid, threading.get_ident()))
            return fake.check(ctx)

        return types.SimpleNamespace(CLAIM=Claim(cid, "fake", f"fake {cid}"), check=check)

    for cid, violate in (("CX", False), ("CY", True), ("CZ", False)):
        monkeypatch.setitem(registry.CHECKERS, cid, f"fake_{cid}")
        monkeypatch.setitem(sys.modules, f"fake_{cid}", checker(cid, violate))
    docs = []
    for jobs in ("1", "3"):
        out = tmp_path / f"r{jobs}.json"
        assert cli.main(["--claims", "CZ,CX,CY", "--jobs", jobs, "--json", str(out)]) == 1
        claims = json.loads(out.read_text())["claims"]
        docs.append([{k: v for k, v in c.items() if k != "seconds"} for c in claims])
    assert docs[0] == docs[1]
    assert [c["id"] for c in docs[1]] == ["CZ", "CX", "CY"]
    assert sorted(c for c, _ in seen) == ["CX", "CX", "CY", "CY", "CZ", "CZ"]


def test_a_tally_absorbs_a_part_run_on_its_own():
    """C4 runs its branch-and-bound part in another thread on its own Tally: absorbing it
    must add trials and violations and combine properties of one name."""
    import numpy as np

    from proofs_check.frame import Tally

    main, part = Tally(), Tally()
    b = main.batch(3, "main")
    b.true("shared", [True, True, False])
    b.done()
    b = part.batch(2, "part")
    b.true("shared", [False, True])
    b.leq("own", np.array([1.0, 2.0]), 2.0, dtype=np.float64, scale=1.0, terms=1)
    b.done()
    main.absorb(part)
    assert (main.trials, main.violations) == (5, 2)
    assert main.properties["shared"] == {"checked": 5, "violations": 2, "worst_margin": -1.0}
    assert main.properties["own"]["checked"] == 2 and main.worst_margin == -1.0
    assert [e["batch"] for e in main.examples] == ["main", "part"]
