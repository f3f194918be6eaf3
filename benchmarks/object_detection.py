"""Latency of the detection/segmentation model on this machine (CPU): eager PyTorch (what the tabs
serve) against ONNX Runtime (exported here, into a temporary folder), the model's forward pass
and the full adapter calls, with 1 and 2 torch threads.

    python benchmarks/object_detection.py
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from core.artifacts import measure_latency_ms  # noqa: E402
from core.registry import get_model  # noqa: E402
from core.tasks.object_detection.scenes import make_scene  # noqa: E402


def main() -> None:
    import torch
    from ultralytics import YOLO

    model = get_model("object_detection", "scenes")
    picture = make_scene(9001, "test", 480).image
    large = make_scene(9014, "test", 1600).image
    exported = Path(model.yolo.export(format="onnx", imgsz=model.imgsz, simplify=False, dynamic=False, verbose=False))
    onnx_path = Path(tempfile.mkdtemp()) / exported.name
    shutil.move(str(exported), onnx_path)
    onnx = YOLO(str(onnx_path), task="segment")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        eager = measure_latency_ms(lambda: model.yolo.predict(picture, imgsz=model.imgsz, verbose=False), repeats=20)
        print(f"{f'eager PyTorch predict, {threads} torch thread(s)':50s} {eager:8.1f} ms")
    onnx_ms = measure_latency_ms(lambda: onnx.predict(picture, imgsz=model.imgsz, verbose=False), repeats=20)
    print(f"{'ONNX Runtime predict (its own default threads)':50s} {onnx_ms:8.1f} ms")
    torch.set_num_threads(1)
    for name, fn in [
        ("/detect_objects adapter call, 480 px picture", lambda: model.detect(picture)),
        ("/segment_instances adapter call, 480 px picture", lambda: model.segment(picture)),
        ("/detect_objects multi-scale (tiles), 1600 px picture", lambda: model.detect(large, multiscale=True)),
    ]:
        print(f"{name:50s} {measure_latency_ms(fn, repeats=10):8.1f} ms")


if __name__ == "__main__":
    main()
