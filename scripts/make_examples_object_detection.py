"""Write the detection/segmentation tabs' examples from held-out test scenes (photographs no
training scene uses): assets/examples/object_detection/scene_<n>.jpg with their captions in
captions.json, and pan_<n>.mp4, a 3-second video of a camera panning over a larger scene.

    .venv/bin/python scripts/make_examples_object_detection.py
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.object_detection.scenes import CLASSES, make_scene  # noqa: E402
from core.tasks.object_detection.video import H264Writer  # noqa: E402

SEEDS = [9000, 9001, 9003, 9006, 9008, 9014]  # 3-8 objects each, most of the classes between them
SIZE = 480
VIDEO_SEED, VIDEO_SCENE, VIDEO_SIZE, VIDEO_FPS, VIDEO_SECONDS = 9014, 720, (480, 272), 15, 3


def caption(labels: list[int]) -> str:
    """"2 cats, dog, pizza": what a scene holds, in words."""
    counts = Counter(CLASSES[label] for label in labels)
    return ", ".join(f"{n} {name}s" if n > 1 else name for name, n in sorted(counts.items())) or "nothing"


def write_video(out: Path) -> Path:
    """A camera panning diagonally over a 720 px held-out scene, as an H.264 MP4."""
    scene = Image.fromarray(make_scene(VIDEO_SEED, "test", VIDEO_SCENE).image)
    width, height = VIDEO_SIZE
    frames = VIDEO_FPS * VIDEO_SECONDS
    writer = H264Writer(out / f"pan_{VIDEO_SEED}.mp4", VIDEO_SIZE, VIDEO_FPS)
    for i in range(frames):
        left = round((VIDEO_SCENE - width) * i / (frames - 1))
        top = round((VIDEO_SCENE - height) * i / (frames - 1))
        writer.write(np.asarray(scene.crop((left, top, left + width, top + height))))
    return writer.close()


def main() -> None:
    out = EXAMPLES_DIR / "object_detection"
    out.mkdir(parents=True, exist_ok=True)
    captions = {}
    for seed in SEEDS:
        scene = make_scene(seed, "test", SIZE)
        path = out / f"scene_{seed}.jpg"
        Image.fromarray(scene.image).save(path, quality=90)
        captions[path.name] = caption(list(scene.labels))
        print(path.name, captions[path.name])
    (out / "captions.json").write_text(json.dumps(captions, indent=1) + "\n")
    print(write_video(out))


if __name__ == "__main__":
    main()
