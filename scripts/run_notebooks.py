"""Execute the task notebooks with nbclient.

    python scripts/run_notebooks.py               # quick mode (ML_PORTFOLIO_QUICK=1), outputs discarded
    python scripts/run_notebooks.py --in-place    # normal mode, outputs saved into the .ipynb files
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbclient
import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, quick: bool, timeout: int = 900) -> nbformat.NotebookNode:
    """Run every cell of `path` from the repository root and return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("ML_PORTFOLIO_QUICK")
    os.environ["ML_PORTFOLIO_QUICK"] = "1" if quick else "0"
    try:
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(REPO_ROOT)}})
        client.execute()
    finally:
        if previous is None:
            os.environ.pop("ML_PORTFOLIO_QUICK", None)
        else:
            os.environ["ML_PORTFOLIO_QUICK"] = previous
    return notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--in-place", action="store_true", help="normal mode, save outputs")
    args = parser.parse_args()
    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} ({'normal' if args.in_place else 'quick'} mode)", flush=True)
        notebook = execute(path, quick=not args.in_place)
        if args.in_place:
            nbformat.write(notebook, path)
    return None


if __name__ == "__main__":
    sys.exit(main())
