"""Latency of the detection/segmentation model on this machine (CPU): ONNX Runtime (what the tabs
serve) against eager PyTorch, the forward pass and the full adapter calls, with the one torch
thread a worker process uses and with two.

    python benchmarks/object_detection.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from core.artifacts import measure_latency_ms  # noqa: E402
from core.registry import TASKS  # noqa: E402
from core.tasks.object_detection.adapter import bgr, load  # noqa: E402
from core.tasks.object_detection.scenes import make_scene  # noqa: E402


def main() -> None:
    import torch

    model_dir = TASKS["object_detection"].model_dir
    served, eager = load("scenes", model_dir, backend="onnx"), load("scenes", model_dir, backend="torch")
    picture = make_scene(9001, "test", 480).image
    large = make_scene(9014, "test", 1600).image
    for threads in (1, 2):
        torch.set_num_threads(threads)
        ms = measure_latency_ms(lambda: eager.yolo.predict(bgr(picture), imgsz=eager.imgsz, verbose=False), repeats=20)
        print(f"{f'eager PyTorch predict, {threads} torch thread(s)':55s} {ms:8.1f} ms")
    ms = measure_latency_ms(lambda: served.yolo.predict(bgr(picture), imgsz=served.imgsz, verbose=False), repeats=20)
    print(f"{'ONNX Runtime predict (its default threads)':55s} {ms:8.1f} ms")
    torch.set_num_threads(1)
    for backend, model in (("ONNX", served), ("eager", eager)):
        for name, fn in [
            ("/detect_objects call, 480 px picture", lambda: model.detect(picture)),
            ("/segment_instances call, 480 px picture", lambda: model.segment(picture)),
            ("/detect_objects multi-scale (tiles), 1600 px", lambda: model.detect(large, multiscale=True)),
            ("/detect_objects_video, 8 frames of 480 px", lambda: model.detect_frames([picture] * 8)),
        ]:
            print(f"{f'{backend}: {name}':55s} {measure_latency_ms(fn, repeats=10):8.1f} ms")


if __name__ == "__main__":
    main()
