"""The emoji data set: one item per emoji, with a picture, names and keywords, and a category.

`fetch()` downloads two npm packages once into data/multimodal_fusion/npm/ (kept out of git):
- `emoji-datasource-google` (MIT code, Noto images Apache-2.0): `emoji.json` (name, short names,
  category, skin-tone variants) and the 64 px RGBA pictures;
- `emojibase-data` (MIT): the CLDR English label of each emoji ("Santa Claus") and its keywords.

`load_items()` joins them (the 5 skin-tone "Component" entries are left out: 9 categories).
`split()` assigns whole groups of near-identical emoji to train, validation or test, so a test
emoji is unseen in every modality: "man running", "woman running", "person running" and "person
running: facing right" are one group, as are all the family emoji (their pictures and names differ
by a word, a figure or a mirror).
"""
from __future__ import annotations

import json
import re
import subprocess
import tarfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.settings import REPO_ROOT

DATA_DIR = REPO_ROOT / "data" / "multimodal_fusion"
PACKAGES = {"datasource": "emoji-datasource-google@16.0.0", "emojibase": "emojibase-data@17.0.0"}
CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
              "Activities", "Objects", "Symbols", "Flags")
SPLIT_SEED = 12
SPLIT_SHARES = {"test": 0.25, "validation": 0.15}  # of each category's items; the rest is train
# words that only say who does something: "man / woman / person running" are one group
# and the direction one faces ("person running: facing right" is "person running" mirrored)
_WHO = {"man", "woman", "person", "men", "women", "people", "boy", "girl", "adult", "child", "older", "old", "and",
        "facing", "left", "right"}


@dataclass(frozen=True)
class Emoji:
    """One item. `label` is the CLDR name people use ("Santa Claus"); `texts` every other way to say
    it (Unicode name, short names, keyword phrases); `images` the base picture first, then its
    skin-tone variants."""

    code: str          # "1F385"
    char: str
    label: str
    category: str
    subcategory: str
    texts: tuple[str, ...]
    keywords: tuple[str, ...]
    images: tuple[str, ...]  # file names in the 64 px folder

    @property
    def category_index(self) -> int:
        return CATEGORIES.index(self.category)

    @property
    def group(self) -> str:
        words = [w for w in re.findall(r"[a-z]+", self.label.lower()) if w not in _WHO]
        return f"{self.subcategory}:{' '.join(words)}"


def _npm_fetch(package: str, folder: Path, keep: re.Pattern) -> Path:
    """`npm pack` one package and unpack the members matching `keep` into `folder`/package."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "pack", package, "--silent"], cwd=folder, capture_output=True, text=True,
                          timeout=900, check=True)
    archive = folder / done.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if keep.match(m.name)]
        tar.extractall(folder, members=members, filter="data")
    archive.unlink()
    return folder / "package"


def fetch(folder: Path = DATA_DIR / "npm") -> Path:
    """Download both packages (skipped when already there); returns the folder that holds them."""
    if not (folder / "datasource" / "package" / "emoji.json").exists():
        _npm_fetch(PACKAGES["datasource"], folder / "datasource",
                   re.compile(r"package/(emoji\.json|LICENSE|package\.json|img/google/64/[0-9a-f-]+\.png)$"))
    if not (folder / "emojibase" / "package" / "en" / "data.json").exists():
        _npm_fetch(PACKAGES["emojibase"], folder / "emojibase",
                   re.compile(r"package/(en/data\.json|LICENSE|package\.json)$"))
    return folder


def image_folder(folder: Path = DATA_DIR / "npm") -> Path:
    return folder / "datasource" / "package" / "img" / "google" / "64"


def _phrase(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("_", " ").replace("-", " ")).strip()


def load_items(folder: Path = DATA_DIR / "npm") -> list[Emoji]:
    """Every emoji with a Google picture, in the data set's order (the default folder is fetched on
    first use; another folder must hold the same layout: datasource/package/, emojibase/package/)."""
    folder = Path(folder)
    if folder == DATA_DIR / "npm":
        fetch(folder)
    elif not (folder / "datasource" / "package" / "emoji.json").exists():
        raise FileNotFoundError(f"{folder} lacks datasource/package/emoji.json (the layout of {PACKAGES['datasource']})")
    source = json.loads((folder / "datasource" / "package" / "emoji.json").read_text())
    cldr = {e["hexcode"]: e for e in json.loads((folder / "emojibase" / "package" / "en" / "data.json").read_text())}
    pictures = image_folder(folder)
    items = []
    for entry in sorted(source, key=lambda e: e["sort_order"]):
        if entry["category"] not in CATEGORIES or not entry.get("has_img_google"):
            continue
        base = cldr.get(entry["unified"]) or cldr.get(entry["unified"].replace("-FE0F", ""))
        if base is None or not (pictures / entry["image"]).exists():
            continue
        images = [entry["image"]] + sorted(v["image"] for v in (entry.get("skin_variations") or {}).values()
                                            if v.get("has_img_google") and (pictures / v["image"]).exists())
        label = base["label"]
        texts = {label, _phrase(entry["name"]).lower(), *(_phrase(s) for s in entry["short_names"])}
        texts.discard("")
        items.append(Emoji(
            code=entry["unified"], char="".join(chr(int(h, 16)) for h in entry["unified"].split("-")),
            label=label, category=entry["category"], subcategory=entry["subcategory"],
            texts=tuple(sorted(texts, key=lambda t: (t != label, t))),
            keywords=tuple(base.get("tags") or ()), images=tuple(images)))
    return items


def split(items: list[Emoji], seed: int = SPLIT_SEED) -> dict[str, list[Emoji]]:
    """{"train", "validation", "test"}: whole groups per category, shuffled with `seed`, until each
    category's test and validation shares are reached."""
    rng = np.random.default_rng(seed)
    by_category: dict[str, dict[str, list[Emoji]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_category[item.category][item.group].append(item)
    out: dict[str, list[Emoji]] = {"train": [], "validation": [], "test": []}
    for category in CATEGORIES:
        groups = list(by_category[category].values())
        total = sum(len(g) for g in groups)
        filled = {"test": 0, "validation": 0}
        for i in rng.permutation(len(groups)):
            group = groups[i]
            target = next((s for s in ("test", "validation") if filled[s] + len(group) / 2 <= SPLIT_SHARES[s] * total),
                          "train")
            if target != "train":
                filled[target] += len(group)
            out[target].extend(group)
    return {name: sorted(part, key=lambda e: e.code) for name, part in out.items()}


def training_texts(item: Emoji, rng: np.random.Generator, count: int) -> list[str]:
    """`count` ways to describe `item` in words: its names, and keyword phrases (2 to 4 of its CLDR
    keywords, shuffled), as someone typing a description might."""
    out = list(item.texts)
    keywords = list(item.keywords)
    while len(out) < count and keywords:
        n = int(rng.integers(1, min(4, len(keywords)) + 1))
        picked = [keywords[i] for i in rng.choice(len(keywords), n, replace=False)]
        out.append(" ".join(picked))
    return out[:count]
