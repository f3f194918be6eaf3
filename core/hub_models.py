"""Opt-in models from the Hugging Face Hub, shared by every task's `hub` module.

Nothing here runs unless a user types the install command: `fetch` refuses without
ALLOW_NETWORK=1, and `copy_into_cache` installs a folder (downloaded, or one the user already has
with `--from DIR`) into the project cache atomically, so the app never sees half a model.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from core.settings import Settings


def fetch(repo: str, files: Sequence[str], folder: Path) -> Path:
    """Download `files` of the Hub repository `repo` into `folder` (network opt-in)."""
    if not Settings.from_env().allow_network:
        raise SystemExit("Network access is off. Run with ALLOW_NETWORK=1 to download the model, or pass --from DIR.")
    from huggingface_hub import hf_hub_download

    for name in files:
        hf_hub_download(repo, name, local_dir=folder)
    return folder


def missing_files(source: Path, files: Sequence[str]) -> list[str]:
    """The names in `files` that `source` lacks."""
    return [name for name in files if not (Path(source) / name).exists()]


def copy_into_cache(source: Path, files: Sequence[str], target: Path) -> Path:
    """Copy `files` from `source` into `target`, replacing it atomically (staged beside it, then renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="hub_", dir=target.parent))
    try:
        for name in files:
            shutil.copyfile(Path(source) / name, staging / name)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def installer_main(argv: list[str] | None, description: str, source_help: str,
                   install: Callable[[Path], Path], download: Callable[[Path], Path], what: str) -> None:
    """The command line of a `hub` module: `--from DIR`, or a download into a temporary folder; then install."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--from", dest="source", type=Path, help=source_help)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        target = install(args.source or download(Path(work)))
    print(f"{what} installed in {target}.", file=sys.stderr)
