"""Train task 07's two models on the synthetic acted-prosody corpus (or on real acted speech).

    .venv/bin/python -m core.train speech_emotion_recognition            # full run (about 30 min on 2 cores)
    .venv/bin/python -m core.train speech_emotion_recognition --quick    # seconds, into a temporary folder
    .venv/bin/python -m core.tasks.speech_emotion_recognition.train --data DIR   # RAVDESS / CREMA-D / TESS

The corpus is synthesised and featurised once into data/speech_emotion_recognition/<name>/ (a
finished split is reused). The baseline (logistic regression, C chosen on the validation voices)
fits in seconds. The CNN trains with AdamW, a cosine schedule and SpecAugment-style masks; after
each epoch its validation scores go to train.log and history.json and a checkpoint is written, so an
interrupted run resumes at the last finished epoch. The epoch with the best validation macro F1 is kept.

With --data DIR (or SPEECH_EMOTION_DATA=DIR) the same recipe trains on the real recordings found
there (real_datasets.py), split by speaker; the card then describes that data instead.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from core.artifacts import training_log
from core.settings import Settings, apply_offline_defaults
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS
from core.tasks.speech_emotion_recognition.data import DATA_DIR, Split, real_splits, synthetic_splits

apply_offline_defaults()

SEED = 0
DATA_ENV = "SPEECH_EMOTION_DATA"


@dataclass(frozen=True)
class TrainConfig:
    sizes: dict = field(default_factory=lambda: {"train": 8000, "validation": 1500, "test": 2500})
    epochs: int = 20
    batch: int = 64
    lr: float = 3e-3
    warmup_epochs: float = 1.0
    weight_decay: float = 0.02
    label_smoothing: float = 0.05
    time_masks: int = 2
    time_mask: int = 20     # frames (16 ms each)
    freq_masks: int = 2
    freq_mask: int = 8      # mel bands
    channels: tuple = (16, 32, 64, 96)
    dropout: float = 0.3
    c_grid: tuple = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    name: str = "synthetic_v1"


FULL = TrainConfig()
QUICK = TrainConfig(sizes={"train": 60, "validation": 25, "test": 25}, epochs=2, batch=16, name="quick")


def fit_baseline(splits: dict[str, Split], c_grid: tuple[float, ...]):
    """The baseline with C chosen by validation macro F1 (recordings scored as served: mean of their
    windows); returns (pipeline, C, {C: validation macro F1})."""
    from sklearn.metrics import f1_score

    from core.tasks.speech_emotion_recognition import baseline

    train, validation = splits["train"], splits["validation"]
    scores, best = {}, None
    for c in c_grid:
        pipeline = baseline.fit(train.stats, train.labels, c=c)
        predicted = recording_probabilities(pipeline.predict_proba(validation.stats), validation.groups).argmax(1)
        scores[c] = float(f1_score(validation.recording_labels, predicted, average="macro"))
        if best is None or scores[c] > scores[best[1]]:
            best = (pipeline, c)
    return best[0], best[1], scores


def recording_probabilities(window_probabilities: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per recording, the mean of its windows' probabilities (what the app reports for a whole clip)."""
    n = int(groups.max()) + 1 if len(groups) else 0
    sums = np.zeros((n, window_probabilities.shape[1]))
    np.add.at(sums, groups, window_probabilities)
    return sums / np.bincount(groups, minlength=n)[:, None]


def mask(batch, rng: np.random.Generator, cfg: TrainConfig):
    """SpecAugment: a few time and frequency stripes of each window set to the floor value (-1)."""
    n, mels, frames = batch.shape
    for i in range(n):
        for _ in range(cfg.time_masks):
            width = int(rng.integers(0, cfg.time_mask + 1))
            start = int(rng.integers(0, frames - width + 1))
            batch[i, :, start:start + width] = -1.0
        for _ in range(cfg.freq_masks):
            width = int(rng.integers(0, cfg.freq_mask + 1))
            start = int(rng.integers(0, mels - width + 1))
            batch[i, start:start + width, :] = -1.0
    return batch


def evaluate_cnn(model, split: Split, batch: int = 256) -> tuple[float, float, float, np.ndarray]:
    """(window cross-entropy, recording accuracy, recording macro F1, window probabilities) on `split`."""
    import torch
    from sklearn.metrics import f1_score

    model.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(split), batch):
            outputs.append(torch.softmax(model(torch.from_numpy(split.mel[start:start + batch].astype(np.float32))), -1))
    model.train()
    probabilities = torch.cat(outputs).numpy().astype(np.float64)
    loss = float(-np.mean(np.log(np.clip(probabilities[np.arange(len(split)), split.labels], 1e-7, 1))))
    predicted = recording_probabilities(probabilities, split.groups).argmax(1)
    truth = split.recording_labels
    return loss, float((predicted == truth).mean()), float(f1_score(truth, predicted, average="macro")), probabilities


def fit_cnn(cfg: TrainConfig, run: Path, splits: dict[str, Split]) -> Path:
    """Train (or resume) the CNN; writes best.safetensors (best validation macro F1), last.safetensors,
    optimizer.pt, history.json and train.log in `run`."""
    import torch
    from safetensors.torch import load_file, save_file

    from core.tasks.speech_emotion_recognition.model import CNNConfig, EmotionCNN

    torch.manual_seed(SEED)
    torch.set_num_threads(Settings.from_env().torch_threads or 1)
    log = training_log("speech_emotion_recognition.train", run / "train.log")
    train, validation = splits["train"], splits["validation"]
    model = EmotionCNN(CNNConfig(channels=tuple(cfg.channels), n_classes=len(EMOTIONS), dropout=cfg.dropout))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train) / cfg.batch)
    total, warmup = cfg.epochs * steps_per_epoch, max(1, int(cfg.warmup_epochs * steps_per_epoch))

    def lr_at(step: int) -> float:
        if step < warmup:
            return cfg.lr * (step + 1) / warmup
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    history: list[dict] = []
    epoch = 0
    if (run / "last.safetensors").exists() and (run / "history.json").exists():
        model.load_state_dict(load_file(str(run / "last.safetensors")))
        state = torch.load(run / "optimizer.pt", weights_only=True)  # written by this function only
        optimizer.load_state_dict(state["optimizer"])
        epoch = int(state["epoch"])
        history = json.loads((run / "history.json").read_text())
        log.info("resumed after epoch %d", epoch)
    log.info("config %s; %d parameters; train %d windows, validation %d", asdict(cfg),
             sum(p.numel() for p in model.parameters()), len(train), len(validation))
    started = time.time() - (history[-1]["minutes"] * 60 if history else 0)
    labels = torch.from_numpy(train.labels)
    model.train()
    while epoch < cfg.epochs:
        rng = np.random.default_rng([SEED, epoch])
        order = rng.permutation(len(train))
        losses, correct = [], 0
        for n in range(steps_per_epoch):
            step = epoch * steps_per_epoch + n
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            index = np.sort(order[n * cfg.batch:(n + 1) * cfg.batch])
            batch = torch.from_numpy(mask(train.mel[index].astype(np.float32), rng, cfg))
            logits = model(batch)
            loss = torch.nn.functional.cross_entropy(logits, labels[index], label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            correct += int((logits.argmax(1) == labels[index]).sum())
            if n % 40 == 0:
                log.info("epoch %d step %d/%d loss %.4f (%.1f min)", epoch + 1, n, steps_per_epoch,
                         np.mean(losses[-40:]), (time.time() - started) / 60)
        epoch += 1
        val_loss, val_accuracy, val_f1, _ = evaluate_cnn(model, validation)
        row = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4),
               "train_accuracy": round(correct / len(train), 4), "val_loss": round(val_loss, 4),
               "val_accuracy": round(val_accuracy, 4), "val_f1_macro": round(val_f1, 4),
               "lr": round(lr_at(epoch * steps_per_epoch - 1), 6), "minutes": round((time.time() - started) / 60, 2)}
        history.append(row)
        log.info("epoch %d/%d %s", epoch, cfg.epochs, row)
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(run / "last.safetensors"))
        if row["val_f1_macro"] >= max(r["val_f1_macro"] for r in history):
            save_file(state, str(run / "best.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "epoch": epoch}, run / "optimizer.pt")
        (run / "history.json").write_text(json.dumps(history, indent=1))
    log.info("training finished after %d epochs, %.1f min", epoch, (time.time() - started) / 60)
    return run


def data_dir_from(data: Path | str | None) -> Path | None:
    """The real-data folder: the argument, else $SPEECH_EMOTION_DATA, else None (synthetic corpus)."""
    value = data if data is not None else os.environ.get(DATA_ENV) or None
    return Path(value).expanduser().resolve() if value else None


def prepare(cfg: TrainConfig, run: Path, data: Path | None) -> dict[str, Split]:
    """The three splits (generated or read once, then reused from `run`)."""
    log = training_log("speech_emotion_recognition.data", _mkdir(run) / "data.log")
    if data is None:
        return synthetic_splits(cfg.sizes, run / "features", log)
    return real_splits(data, run / "features", log)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def train(out_dir: Path, card_dir: Path, quick: bool = False, data_dir: Path | str | None = None) -> dict:
    """`python -m core.train speech_emotion_recognition [--data DIR]`: both models, evaluated on the
    unseen-voice test split, exported into `out_dir`, with the card in `card_dir`. `data_dir`: a folder
    of real RAVDESS / CREMA-D / TESS files to train on instead of the synthetic corpus."""
    from core.tasks.speech_emotion_recognition.evaluate import evaluate_and_export

    data_dir = data_dir_from(data_dir)
    cfg = QUICK if quick else FULL
    if data_dir is not None:
        cfg = replace(cfg, name=f"{cfg.name.split('_')[0]}_real_{data_dir.name}")
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    run = (out_dir.parent.parent / "runs" if quick else DATA_DIR) / cfg.name
    started = time.time()
    splits = prepare(cfg, run, data_dir)
    data_minutes = (time.time() - started) / 60
    fit_cnn(cfg, run, splits)
    return evaluate_and_export(cfg, run, splits, out_dir, card_dir, quick, data_dir=data_dir,
                               data_minutes=data_minutes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run into a temporary folder")
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder of RAVDESS / CREMA-D / TESS recordings to train on instead of the synthetic corpus")
    parser.add_argument("--out", type=Path, default=None, help="write the model and card under this folder instead")
    args = parser.parse_args()
    from core.train import main as train_main

    train_main(["speech_emotion_recognition", *(["--quick"] if args.quick else []),
                *(["--data", str(args.data)] if args.data else []), *(["--out", str(args.out)] if args.out else [])])


if __name__ == "__main__":
    main()
