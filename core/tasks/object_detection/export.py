"""Shipped weights of the YOLO11n-seg model, and loading them back without unpickling anything.

`export(checkpoint, out_dir)` reads a training checkpoint (an ultralytics .pt, a pickle that only
training code opens) and writes `yolo11n_seg.safetensors` (float16, ~5.7 MB), `config.json`
(classes, image size, architecture) and `yolo11n_seg.onnx` (for the speed comparison).
`load_yolo(model_dir)` rebuilds the network from ultralytics' YAML and loads the safetensors;
`load_onnx(model_dir)` serves the same weights through ONNX Runtime (faster on CPU: see the card),
from an export made once per machine into core.settings.cache_dir().
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from core.settings import apply_offline_defaults, cache_dir

apply_offline_defaults()

ARCHITECTURE = "yolo11n-seg.yaml"
WEIGHTS = "yolo11n_seg.safetensors"
ONNX = "yolo11n_seg.onnx"


def export(checkpoint: Path, out_dir: Path, imgsz: int, onnx: bool = True) -> dict:
    """Write the safetensors weights, config.json and (optionally) the ONNX model into `out_dir`."""
    from safetensors.torch import save_file
    from ultralytics import YOLO

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = YOLO(str(checkpoint))
    state = {k: (v.detach().half() if v.is_floating_point() else v.detach()).contiguous()
             for k, v in model.model.state_dict().items()}
    save_file(state, str(out_dir / WEIGHTS))
    names = [model.model.names[i] for i in range(len(model.model.names))]
    config = {"task": "object_detection", "architecture": ARCHITECTURE, "weights": WEIGHTS, "classes": names,
              "imgsz": int(imgsz), "onnx": ONNX if onnx else None}
    if onnx:
        exported = Path(model.export(format="onnx", imgsz=imgsz, simplify=False, dynamic=False, verbose=False))
        shutil.move(str(exported), out_dir / ONNX)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    return config


def set_inference_size(model_dir: Path, imgsz: int) -> None:
    """Record in config.json the input size the model is served at (chosen on validation scenes)."""
    path = Path(model_dir) / "config.json"
    config = json.loads(path.read_text())
    config["train_imgsz"] = config.get("train_imgsz", config["imgsz"])
    config["imgsz"] = int(imgsz)
    path.write_text(json.dumps(config, indent=2))


def load_yolo(model_dir: Path) -> Any:
    """An ultralytics YOLO object with the shipped weights (float32), ready for `.predict`."""
    from safetensors.torch import load_file
    from ultralytics import YOLO
    from ultralytics.cfg import DEFAULT_CFG_DICT
    from ultralytics.nn.tasks import SegmentationModel

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    network = SegmentationModel(config["architecture"], nc=len(config["classes"]), verbose=False)
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(model_dir / config["weights"])).items()}
    network.load_state_dict(state, strict=True)
    network.names = dict(enumerate(config["classes"]))
    network.args = {**DEFAULT_CFG_DICT, "imgsz": config["imgsz"], "task": "segment"}  # what a checkpoint would carry
    network.task = "segment"
    network.requires_grad_(False).eval()
    yolo = YOLO(config["architecture"], task="segment")
    yolo.model = network
    return yolo


def onnx_file(model_dir: Path) -> Path:
    """The ONNX export of the weights in `model_dir` (made on first use, then reused): in the cache,
    named by the hash of the weights and config, so new weights get a new export."""
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    digest = hashlib.sha256((model_dir / config["weights"]).read_bytes() + json.dumps(config).encode()).hexdigest()[:16]
    target = cache_dir() / "onnx" / f"{Path(config['weights']).stem}-{digest}.onnx"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    yolo = load_yolo(model_dir)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        yolo.model.pt_path = str(Path(work) / "model.pt")  # ultralytics writes the export next to this name
        exported = Path(yolo.export(format="onnx", imgsz=config["imgsz"], simplify=False, dynamic=False, verbose=False))
        os.replace(exported, target)  # atomic: a worker exporting at the same time never sees half a file
    return target


def load_onnx(model_dir: Path) -> Any:
    """An ultralytics YOLO object that runs the weights of `model_dir` with ONNX Runtime."""
    from ultralytics import YOLO

    return YOLO(str(onnx_file(model_dir)), task="segment")
