"""The scene generator of tasks 02/03: exact, deterministic ground truth on real photographs."""
from __future__ import annotations

import numpy as np
import pytest

from core.tasks.object_detection import scenes


@pytest.fixture(scope="module")
def sample() -> list[scenes.Scene]:
    return [scenes.make_scene(seed, split, 256) for split in ("train", "test") for seed in range(12)]


def test_every_class_has_pictures_and_the_splits_use_different_photographs():
    assert len(scenes.CLASSES) == 12 and all(scenes.sprites()[i] for i in range(12))
    train, val, test = (set(scenes.BACKGROUNDS[s]) for s in ("train", "val", "test"))
    assert not (train & val or train & test or val & test)
    for name in train | val | test:
        assert scenes.photograph(name).mode == "RGB"  # bundled with scikit-image: no download


def test_a_scene_is_the_same_for_the_same_seed_and_differs_across_seeds_and_splits():
    a, b = scenes.make_scene(7, "train", 128), scenes.make_scene(7, "train", 128)
    assert np.array_equal(a.image, b.image) and a.labels == b.labels and a.boxes == b.boxes
    assert not np.array_equal(a.image, scenes.make_scene(8, "train", 128).image)
    assert not np.array_equal(a.image, scenes.make_scene(7, "test", 128).image)


def test_boxes_and_masks_are_exact_and_occluded_parts_belong_to_the_front_object(sample):
    counts = []
    for scene in sample:
        assert scene.image.shape == (256, 256, 3) and scene.image.dtype == np.uint8
        assert len(scene.labels) == len(scene.masks) == len(scene.boxes) <= scenes.MAX_OBJECTS
        counts.append(len(scene.labels))
        if scene.masks:
            assert np.stack(scene.masks).sum(0).max() <= 1  # no pixel belongs to two objects
        for label, mask, (x1, y1, x2, y2) in zip(scene.labels, scene.masks, scene.boxes):
            assert 0 <= label < 12 and mask.sum() >= scenes.MIN_AREA_PX
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            assert (x1, y1, x2, y2) == (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)  # tight around the mask
    assert max(counts) >= 4 and len(set(counts)) >= 3


def test_yolo_polygons_trace_the_masks(sample):
    from PIL import Image, ImageDraw

    for scene in sample[:6]:
        segments = scene.yolo_segments()
        assert len(segments) == len(scene.labels) or not scene.labels
        for (label, polygon), mask in zip(segments, scene.masks):
            assert polygon.min() >= 0 and polygon.max() <= 1
            drawn = Image.new("1", (256, 256))
            ImageDraw.Draw(drawn).polygon([tuple(p) for p in polygon * 256], fill=1)
            drawn = np.asarray(drawn)
            iou = (drawn & mask).sum() / (drawn | mask).sum()
            assert iou > 0.6 if mask.sum() > 400 else iou > 0.3


def test_a_yolo_split_is_written_with_one_label_file_per_image(tmp_path):
    folder = scenes.write_yolo_split(tmp_path, "val", 3, size=96)
    images, labels = sorted((folder / "images").glob("*.jpg")), sorted((folder / "labels").glob("*.txt"))
    assert [p.stem for p in images] == [p.stem for p in labels] == ["000000", "000001", "000002"]
    for path in labels:
        for line in path.read_text().splitlines():
            values = line.split()
            assert 0 <= int(values[0]) < 12 and len(values) >= 7 and len(values) % 2 == 1
    yaml = scenes.write_dataset_yaml(tmp_path).read_text()
    assert "val: val/images" in yaml and "11: umbrella" in yaml and "10: sports ball" in yaml
