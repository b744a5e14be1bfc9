"""Every Python example in README.md and docs/ runs as written (pytest-examples).

A code block that raises, or whose ``assert`` fails, fails here; the bash blocks are run by
the tests of the commands they show (tests/test_proofs_check_cli.py, tests/test_checkpoint.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

ROOT = Path(__file__).resolve().parent.parent
#: The ```python blocks (find_examples skips the others).
EXAMPLES = list(find_examples(str(ROOT / "README.md"), str(ROOT / "docs")))


def test_the_docs_have_examples():
    files = {Path(ex.path).name for ex in EXAMPLES}
    assert {"README.md", "index.md", "checkpoint.md"} <= files


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_runs(example: CodeExample, eval_example: EvalExample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    eval_example.run(example)
