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
    "axes.spines.right": False, "axes.titlesize": 9, "axes.labelsize": 9,
    # legends sit outside the data or on an opaque box
    "legend.frameon": True, "legend.framealpha": 0.92, "legend.edgecolor": "0.85",
    "legend.fontsize": 7,
    # TrueType (Type 42) fonts in PDF/PS, as venues require (not Type 3)
    "pdf.fonttype": 42, "ps.fonttype": 42,
    "svg.hashsalt": "projgeo", "pdf.compression": 6,
})


#: Markers paired with the colours, so that a ninth family (the palette has eight colours)
#: and grey-scale prints stay distinguishable.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")


def family_colors(names) -> dict[str, str]:
    """One Okabe–Ito colour per family name, in the given order."""
    return {n: OKABE_ITO[i % len(OKABE_ITO)] for i, n in enumerate(names)}


def family_markers(names) -> dict[str, str]:
    """One marker per family name, in the given order (distinct for up to nine)."""
    return {n: MARKERS[i % len(MARKERS)] for i, n in enumerate(names)}


def letter(ax, i: int, *, x: float = -0.02, y: float = 1.02) -> None:
    """Panel letter ``(a)``, ``(b)``, … at the top left of ``ax``, outside the data."""
    ax.text(x, y, f"({'abcdefghijklmnopqrstuvwxyz'[i]})", transform=ax.transAxes,
            fontsize=10, fontweight="bold", ha="right", va="bottom")


def pct(x: float, digits: int = 1) -> str:
    """``x`` (a fraction) as a percentage with a fixed number of decimals: 12.5 %, 37.5 %
    (never rounded to different precisions within one figure)."""
    return f"{100 * x:.{digits}f} %"


def save(fig, out: Path, name: str, data, caption: tuple[str, str]) -> list[Path]:
    """Write ``name.png``, ``name.pdf``, the data (``name.csv`` for a list of dict rows,
    ``name.json`` otherwise) and the caption ``name.caption.md`` into ``out``; close the
    figure.

    ``caption = (title, text)``, both computed from ``data`` by the figure's script, so that
    the gallery (:mod:`figures.gallery`) always describes the run that drew the figure.
    """
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
    paths.append(out / f"{name}.caption.md")
    title, text = caption
    paths[-1].write_text(f"# {title}\n\n{text.strip()}\n")
    return paths
