"""MkDocs hooks: math to MathML at build time, and the figure gallery from figures/.

* ``on_page_content``: ``pymdownx.arithmatex`` (generic mode) leaves TeX in
  ``<span class="arithmatex">\\(…\\)</span>`` and ``<div class="arithmatex">\\[…\\]</div>``;
  each is replaced by the MathML that ``latex2mathml`` writes, which browsers render natively
  (no MathJax, no CDN). A formula latex2mathml cannot convert fails the build. Sphinx roles
  left in docstrings (``:func:``) are dropped, keeping the name in code.
* ``on_files`` / ``on_page_markdown``: the gallery page is ``figures/README.md`` (the captions
  ``python -m figures`` writes), with its images copied from ``figures/out/``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from latex2mathml.converter import convert
from mkdocs.structure.files import File, InclusionLevel

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "figures"

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[\[(])(?P<tex>.*?)\\[\])]\s*</(?P=tag)>',
    re.S)


def _mathml(match: re.Match) -> str:
    tex = html.unescape(match["tex"]).replace(r"\*", "*").strip()
    display = "block" if match["open"] == "[" else "inline"
    try:
        return convert(tex, display=display)
    except Exception as e:  # noqa: BLE001 - any converter error is a broken formula
        raise ValueError(f"latex2mathml cannot convert {tex!r}: {e}") from e


#: Sphinx roles in docstrings (``:func:`fold```): the name stays, in code, the role goes.
_ROLE = re.compile(r":(?:mod|func|class|data|attr|meth|obj|exc):(?=<code>)")


def on_page_content(html_text: str, **_) -> str:
    return _ROLE.sub("", _MATH.sub(_mathml, html_text))


def on_files(files, config, **_):
    for png in sorted((FIGURES / "out").glob("*.png")):
        files.append(File.generated(config, f"figures/out/{png.name}", abs_src_path=str(png),
                                          inclusion=InclusionLevel.INCLUDED))
    return files


def on_page_markdown(markdown: str, page, **_) -> str:
    if page.file.src_uri != "gallery.md":
        return markdown
    text = (FIGURES / "README.md").read_text()
    text = re.sub(r"\]\(out/", "](figures/out/", text)
    text = re.sub(r"^# .*\n", "", text, count=1)
    return markdown + "\n" + text
