"""Every task has a notebook, and it runs end to end in quick mode."""
from __future__ import annotations

import pytest

from core.registry import TASKS

# notebooks that read a data set `make test` does not install (skipped without it, see conftest.py)
NEEDS_FASHION_MNIST = {"image_classification"}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_notebook_exists_with_outputs(task):
    import nbformat

    path = TASKS[task].notebook
    assert path.exists(), f"missing notebook {path}"
    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells, "notebook has no code"
    assert any(c.get("outputs") for c in code_cells), "notebook is committed without outputs"


@pytest.mark.parametrize("task", sorted(TASKS))
def test_notebook_runs_in_quick_mode(task, request):
    from scripts.run_notebooks import execute

    if task in NEEDS_FASHION_MNIST:
        request.getfixturevalue("requires_fashion_mnist")

    notebook = execute(TASKS[task].notebook, quick=True)
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("task", sorted(TASKS))
def test_notebook_matches_its_builder_script(task):
    """The committed notebook's cells are exactly those of scripts/make_notebook_<task>.py."""
    import importlib

    import nbformat

    from scripts.notebook_builder import build_notebook

    builder = importlib.import_module(f"scripts.make_notebook_{task}")
    expected = [cell.source for cell in build_notebook(builder.CELLS).cells]
    committed = [cell.source for cell in nbformat.read(TASKS[task].notebook, as_version=4).cells]
    assert committed == expected, f"regenerate with python scripts/make_notebook_{task}.py --execute"
