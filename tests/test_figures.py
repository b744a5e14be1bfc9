"""Figures: the command line, and two cheap figures written with their data."""

import csv
import json

import pytest

from figures import cli, f1_geometry, f7_c5_loss_rate
from projgeo import families


def test_f1_writes_png_pdf_and_data_and_folding_beats_pruning_there(tmp_path):
    paths = f1_geometry.make(tmp_path)
    assert [p.suffix for p in paths] == [".png", ".pdf", ".json"]
    assert all(p.stat().st_size > 0 for p in paths)
    data = json.loads(paths[2].read_text())
    assert data["fold_error"] < data["prune_error"]
    assert len(set(map(tuple, data["folded"]))) == data["k"]  # k distinct cluster means


def test_f7_loss_rates_cover_every_family_and_ratio(tmp_path):
    paths = f7_c5_loss_rate.make(tmp_path)
    with paths[2].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(families.FAMILIES) * 7  # families × ranks k = 1..n−1
    rates = [float(r["loss_rate"]) for r in rows]
    assert all(0.0 <= r <= 1.0 for r in rates)
    assert max(rates) > 0.0  # C5: folding at the same rank does lose somewhere


def test_cli_rejects_unknown_figure_ids():
    with pytest.raises(SystemExit):
        cli.main(["--only", "F9"])


def test_cli_progress_goes_to_stderr_naming_each_step_and_stdout_stays_clean(tmp_path):
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "figures", "--only", "F1,F7", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PROJGEO_JAX_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in out[:-1]] == ["F1", "F7"]  # the summary only
    assert out[-1].startswith("2 figures in")
    err = [line for line in proc.stderr.splitlines() if line.startswith("figs")]
    assert len(err) == 2
    assert "[1/2] F1 f1_geometry" in err[0] and "[2/2] F7 f7_c5_loss_rate" in err[1]
    quiet = subprocess.run([sys.executable, "-m", "figures", "--only", "F1", "--out",
                            str(tmp_path), "--no-progress"], capture_output=True, text=True,
                           timeout=600)
    assert quiet.returncode == 0 and "figs" not in quiet.stderr


def test_progress_writes_one_whole_line_per_step_to_stderr_only(capsys):
    from proofs_check.frame import Progress

    p = Progress(True, "zoo", total=2)
    p.step("train 12 MLPs")
    p.update(1, 2, "train")
    p.step("compress")
    Progress(False, "off").step("never shown")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3 and "never shown" not in err
    assert lines[0].startswith("zoo") and lines[0].endswith("[1/2] train 12 MLPs")
    assert lines[1].endswith("1/2 done: train") and lines[2].endswith("[2/2] compress")
