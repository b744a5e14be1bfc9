"""Shared look and output of the figures: Okabe–Ito palette, PNG + PDF + data side by side."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: Okabe–Ito colour-blind-safe palette (Okabe & Ito, 2008).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")
PRUNE, FOLD, CERT, C3 = "#D55E00", "#009E73", "#0072B2", "#56B4E9"

plt.rcParams.update({
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 9, "axes.spines.top": False,
    "axes.spines.right": False, "legend.frameon": False, "axes.titlesize": 9,
    "svg.hashsalt": "projgeo", "pdf.compression": 6,
})


def family_colors(names) -> dict[str, str]:
    """One Okabe–Ito colour per family name, in the given order."""
    return {n: OKABE_ITO[i % len(OKABE_ITO)] for i, n in enumerate(names)}


def save(fig, out: Path, name: str, data) -> list[Path]:
    """Write ``name.png``, ``name.pdf`` and the data (``name.csv`` for a list of dict rows,
    ``name.json`` otherwise) into ``out``; close the figure."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        paths.append(out / f"{name}.csv")
        with paths[-1].open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(data[0]))
            w.writeheader()
            w.writerows(data)
    else:
        paths.append(out / f"{name}.json")
        paths[-1].write_text(json.dumps(data, indent=1, default=float) + "\n")
    return paths
