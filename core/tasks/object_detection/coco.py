"""Opt-in variant "coco": Ultralytics' official YOLO11n-seg trained on COCO (80 classes, real photos).

It is not shipped and the app never downloads it. One explicit command installs it:

    ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.object_detection.coco          # fetch + convert
    .venv/bin/python -m core.tasks.object_detection.coco --from yolo11n-seg.pt     # a copy you already have

Ultralytics publishes the weights as a .pt checkpoint, which is a pickle. The command opens it
once (trusting its source: Ultralytics' GitHub release) and converts it to safetensors in the
cache (core.settings.cache_dir()); the app then loads only those, as it does the shipped model.
Until then the variant is shown as unavailable, with this module's instructions as the reason.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from core.settings import Settings, apply_offline_defaults, cache_dir

apply_offline_defaults()

CHECKPOINT = "yolo11n-seg.pt"  # the name Ultralytics' release assets use
IMGSZ = 640                    # what the COCO model was trained at


def coco_dir() -> Path:
    """Where the converted COCO weights live (config.json + safetensors)."""
    return cache_dir() / "object_detection" / "coco"


def available() -> bool:
    return (coco_dir() / "config.json").exists()


def unavailable_reason() -> str:
    return ("The COCO variant (Ultralytics' official YOLO11n-seg, 80 classes of real objects) is not installed on "
            "this machine, and the app does not download anything by itself. To install it once: "
            "`ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.object_detection.coco` (about 6 MB from Ultralytics' "
            "GitHub release), or `--from FILE` with a yolo11n-seg.pt you already have. Meanwhile use the 'scenes' model.")


def fetch(folder: Path) -> Path:
    """Download the official checkpoint into `folder` with Ultralytics' own downloader (network opt-in)."""
    if not Settings.from_env().allow_network:
        raise SystemExit("Network access is off. Run with ALLOW_NETWORK=1 to download the official weights, "
                         "or pass --from FILE.")
    from ultralytics.utils.downloads import attempt_download_asset

    return Path(attempt_download_asset(str(folder / CHECKPOINT)))


def install(checkpoint: Path) -> dict:
    """Convert an Ultralytics YOLO11n-seg checkpoint into the cache's safetensors + config.json."""
    from core.tasks.object_detection.export import export

    target = coco_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="coco_", dir=target.parent))
    try:
        config = export(checkpoint, staging, IMGSZ, onnx=False)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # all at once: the app never sees a half-installed variant
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, help="a yolo11n-seg.pt already on this machine")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        checkpoint = args.source or fetch(Path(work))
        if not Path(checkpoint).is_file():
            raise SystemExit(f"No checkpoint at {checkpoint}.")
        config = install(Path(checkpoint))
    print(f"COCO variant installed in {coco_dir()}: {len(config['classes'])} classes at {config['imgsz']} px.",
          file=sys.stderr)


if __name__ == "__main__":
    main()
