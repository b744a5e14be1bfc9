"""Figures: the command line, and two cheap figures written with their data."""

import csv
import json
import re

import numpy as np
import pytest

from figures import cli, f1_geometry, f3_c4_theorem, f7_c5_loss_rate, gallery
from projgeo import families


def test_f1_writes_png_pdf_and_data_and_folding_beats_pruning_there(tmp_path):
    paths = f1_geometry.make(tmp_path)
    assert [p.name.split(".", 1)[1] for p in paths] == ["png", "pdf", "json", "caption.md"]
    assert all(p.stat().st_size > 0 for p in paths)
    data = json.loads(paths[2].read_text())
    assert data["fold_error"] < data["prune_error"]
    assert len(set(map(tuple, data["folded"]))) == data["k"]  # k distinct cluster means
    pdf = paths[1].read_bytes()
    assert b"/CIDFontType2" in pdf and b"/Type3" not in pdf  # TrueType (Type 42) fonts only


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

    p = Progress(True, "zoo", total=3)
    p.step("train 12 MLPs")
    p.begin(2, 3, "compress at 10 %")
    p.step("compress at 20 %")
    Progress(False, "off").step("never shown")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3 and "never shown" not in err
    assert lines[0].startswith("zoo") and lines[0].endswith("[1/3] train 12 MLPs")
    assert lines[1].endswith("[2/3] compress at 10 %")
    assert lines[2].endswith("[3/3] compress at 20 %")


def _caption(path):
    title, _, text = path.read_text().partition("\n")
    return title, " ".join(text.split())


def test_f1_caption_numbers_are_those_of_its_data(tmp_path):
    paths = f1_geometry.make(tmp_path)
    data = json.loads(paths[2].read_text())
    title, text = _caption(paths[3])
    assert title == "# F1 geometry (C1, C3)"
    assert f"n = {data['n']} rows" in text and f"k = {data['k']}." in text
    assert f"(error {data['prune_error']:.2f})" in text
    assert f"(error {data['fold_error']:.2f}, " in text
    assert f"{data['prune_error'] / data['fold_error']:.1f}× smaller" in text
    assert data["fold_fixes_ones"] and not data["prune_fixes_ones"]


def test_f3_and_f7_captions_count_what_their_csv_holds(tmp_path):
    paths = f3_c4_theorem.make(tmp_path)
    with paths[2].open() as f:
        rows = list(csv.DictReader(f))
    _, text = _caption(paths[3])
    x = np.array([float(r["opt_prune_k"]) for r in rows])
    y0 = np.array([float(r["opt_fold_k"]) for r in rows])
    above = int(np.sum(y0 > x + 1e-12))
    m = re.search(r"(\d+) of (\d+) points \(([\d.]+) %\) lie above", text)
    assert m is not None, text
    assert (int(m[1]), int(m[2])) == (above, len(rows)) and above > 0
    assert m[3] == f"{100 * above / len(rows):.1f}"
    assert f"for {len({(r['family'], r['matrix']) for r in rows})} random matrices" in text

    paths = f7_c5_loss_rate.make(tmp_path)
    with paths[2].open() as f:
        rows = list(csv.DictReader(f))
    _, text = _caption(paths[3])
    rate = {}
    for r in rows:
        rate.setdefault(r["family"], []).append(float(r["loss_rate"]))
    mean = {k: float(np.mean(v)) for k, v in rate.items()}
    worst = max(mean, key=mean.__getitem__)
    assert f"highest: {worst.replace('_', '-')} ({mean[worst]:.2f})" in text
    overall = np.mean([float(r["loss_rate"]) for r in rows])
    assert f"loses on {overall:.2f} of the matrices" in text
    assert "from 12.5 % to 87.5 %" in text  # one precision for every ratio


def test_gallery_is_rebuilt_from_the_caption_files_between_its_markers(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "f1_geometry.caption.md").write_text("# F1 geometry (C1, C3)\n\nA 3-row layer.\n")
    (out / "f2_error_vs_compression.caption.md").write_text("# F2 curves\n\nAt 42 ranks.\n")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Figures\nintro\n{gallery.BEGIN}\nstale text 71 %\n{gallery.END}\nend\n")
    assert gallery.update(readme, out, ["f1_geometry", "f2_error_vs_compression", "f3_x"])
    text = readme.read_text()
    assert "stale" not in text and text.startswith("# Figures\nintro\n") and text.endswith("end\n")
    assert "## F1 geometry (C1, C3)\n![F1](out/f1_geometry.png)\n\nA 3-row layer." in text
    assert "## F2 curves\n![F2](out/f2_error_vs_compression.png)\n\nAt 42 ranks." in text
    assert "F3" not in text
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    assert not gallery.update(plain, out, ["f1_geometry"])
    assert plain.read_text() == "no markers\n"


def test_committed_gallery_is_the_one_generated_from_the_committed_captions():
    from pathlib import Path

    readme = Path(cli.README)
    text = readme.read_text()
    names = [m.split(".")[-1] for m in cli.FIGURES.values()]
    assert all((cli.DEFAULT_OUT / f"{n}.caption.md").exists() for n in names)
    inside = text.split(gallery.BEGIN, 1)[1].split(gallery.END, 1)[0]
    assert inside.strip() == gallery.render(cli.DEFAULT_OUT, names, readme.parent).strip()
