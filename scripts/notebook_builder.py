"""Build a notebook from a list of ("md" | "code", source) cells and write it, optionally executed.

Each `scripts/make_notebook_<task>.py` holds only its cells and calls `write_notebook`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

Cells = list[tuple[str, str]]


def build_notebook(cells: Cells) -> nbformat.NotebookNode:
    """A Python 3 notebook with one markdown or code cell per entry."""
    notebook = new_notebook()
    notebook.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def write_notebook(cells: Cells, path: Path, argv: list[str] | None = None) -> None:
    """Write the notebook to `path`; with `--execute` in argv, run it (normal mode) first and keep outputs."""
    argv = sys.argv[1:] if argv is None else argv
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(cells), path)
    if "--execute" in argv:
        from scripts.run_notebooks import execute

        nbformat.write(execute(path, quick=False, timeout=1800), path)
    print(f"wrote {path}")
