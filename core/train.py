"""Train, evaluate and export one task: `python -m core.train TASK [--quick] [--out DIR] [--data DIR]`.

Without --quick this overwrites the shipped artifacts in assets/models/<task>/ and
model_cards/<task>/. --quick is a seconds-long smoke run that writes into a temporary
folder (or --out) and never touches the shipped files.
"""
from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np

from core.registry import TASKS, get_task

SEED = 1234


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, numpy and (if imported) torch."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def run(task: str, quick: bool = False, out: Path | None = None, data: Path | None = None) -> tuple[dict, Path, Path]:
    """Train and evaluate `task` (on the data set in `data` where the task supports one); returns
    (metrics, model_dir, card_dir) that were written."""
    spec = get_task(task)
    if out is None and quick:
        out = Path(tempfile.mkdtemp(prefix=f"ml_portfolio_{task}_"))
    model_dir = (out / "models" / task) if out else spec.model_dir
    card_dir = (out / "model_cards" / task) if out else spec.card_dir
    seed_everything()
    metrics = spec.train(out_dir=model_dir, card_dir=card_dir, quick=quick, data_dir=data)
    return metrics, model_dir, card_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run into a temporary folder")
    parser.add_argument("--out", type=Path, default=None, help="write artifacts under this folder instead")
    parser.add_argument("--data", type=Path, default=None,
                        help="train on your own copy of a data set in this folder (tasks that support it, "
                             "e.g. speech_emotion_recognition with RAVDESS, CREMA-D or TESS)")
    args = parser.parse_args(argv)
    if args.data is not None and not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder")
    metrics, model_dir, card_dir = run(args.task, quick=args.quick, out=args.out, data=args.data)
    headline = metrics["headline"]
    print(f"{args.task}: {headline['metric']} = {headline['value']:.4f} ({headline['variant']})")
    print(f"weights -> {model_dir}\ncard    -> {card_dir}")
    if not args.quick and args.out is None:
        from scripts.update_readme import main as update_readme

        update_readme()


if __name__ == "__main__":
    main()
