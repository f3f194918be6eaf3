"""Write the detection/segmentation tabs' example pictures: held-out test scenes (photographs no
training scene uses), assets/examples/object_detection/scene_<n>.jpg.

    .venv/bin/python scripts/make_examples_object_detection.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.object_detection.scenes import CLASSES, make_scene  # noqa: E402

SEEDS = [9000, 9001, 9003, 9006, 9008, 9014]  # 3-8 objects each, most of the classes between them
SIZE = 480


def main() -> None:
    out = EXAMPLES_DIR / "object_detection"
    out.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS:
        scene = make_scene(seed, "test", SIZE)
        path = out / f"scene_{seed}.jpg"
        Image.fromarray(scene.image).save(path, quality=90)
        print(path.name, [CLASSES[label] for label in scene.labels])


if __name__ == "__main__":
    main()
