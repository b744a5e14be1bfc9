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
