"""Train task 12's fusion model on the emoji corpus.

    .venv/bin/python -m core.train multimodal_fusion            # full run (about 15 min on 2 cores)
    .venv/bin/python -m core.train multimodal_fusion --quick    # a minute, into a temporary folder

`corpus.build()` fetches and encodes the data once (cached in data/multimodal_fusion/). Each epoch
shows every training emoji `REPEATS` times, each time with a random picture variant (augmented),
description and spoken clip, and a random subset of the three modalities (modality dropout: all
three in 40 % of the samples, otherwise any of the 7 non-empty subsets). The loss is the fused
cross-entropy plus half the mean of the present modalities' own heads. After each epoch the
validation accuracy of every subset goes to train.log and history.json; the epoch with the best
mean over the 7 subsets is kept, and a temperature per subset is fitted on validation (calibration).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.artifacts import training_log
from core.settings import Settings, apply_offline_defaults
from core.tasks.multimodal_fusion.corpus import Split, build, build_minutes
from core.tasks.multimodal_fusion.data import DATA_DIR
from core.tasks.multimodal_fusion.model import MODALITIES

apply_offline_defaults()

SEED = 0
SUBSETS = ("image", "text", "audio", "image+text", "image+audio", "text+audio", "image+text+audio")


def subset_mask(name: str) -> np.ndarray:
    return np.array([m in name.split("+") for m in MODALITIES])


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    repeats: int = 4          # samples per training emoji per epoch
    batch: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.05
    all_share: float = 0.4    # samples that keep all three modalities
    own_loss: float = 0.5
    name: str = "fusion_v2"


FULL = TrainConfig()
QUICK = TrainConfig(epochs=2, repeats=1, batch=32, name="quick")


def random_masks(n: int, rng: np.random.Generator, all_share: float) -> np.ndarray:
    """(n, 3) modality masks: all three for `all_share` of the rows, else a uniform non-empty subset."""
    chosen = rng.integers(0, len(SUBSETS), n)
    chosen[rng.random(n) < all_share] = len(SUBSETS) - 1
    return np.stack([subset_mask(SUBSETS[c]) for c in chosen])


def pick(item_rows: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each of `items`, a random row of an array whose rows belong to items (`item_rows`)."""
    order = np.argsort(item_rows, kind="stable")
    starts = np.searchsorted(item_rows[order], items, side="left")
    counts = np.searchsorted(item_rows[order], items, side="right") - starts
    return order[starts + (rng.random(len(items)) * counts).astype(int)]


def evaluation_inputs(split: Split) -> dict[str, np.ndarray]:
    """The evaluation samples of a split: one per spoken clip, with its emoji's base picture (on
    white) and label text. Returns pictures (n, 3, 64, 64) in [0, 1], text and audio vectors, labels,
    and each sample's item."""
    items = split.audio_item
    first_image = {int(i): k for k, i in reversed(list(enumerate(split.image_item)))}
    first_text = {int(i): k for k, i in reversed(list(enumerate(split.text_item)))}
    rgba = split.images[[first_image[int(i)] for i in items]].astype(np.float32) / 255.0
    pictures = rgba[:, :3] * rgba[:, 3:] + (1 - rgba[:, 3:])
    return {"pictures": pictures.astype(np.float32), "text": split.text_vectors[[first_text[int(i)] for i in items]],
            "audio": split.audio_vectors, "labels": split.labels[items], "items": items}


def subset_logits(model, inputs: dict[str, np.ndarray], batch: int = 256) -> dict[str, np.ndarray]:
    """Per modality subset, the fused logits of every evaluation sample (encoders run once)."""
    import torch

    from core.tasks.multimodal_fusion.pictures import normalise

    model.eval()
    out: dict[str, list] = {name: [] for name in SUBSETS}
    with torch.no_grad():
        for start in range(0, len(inputs["labels"]), batch):
            sl = slice(start, start + batch)
            n = len(inputs["labels"][sl])
            everything = torch.ones(n, 3, dtype=torch.bool)
            vectors = model.embed(normalise(torch.from_numpy(inputs["pictures"][sl])), torch.from_numpy(inputs["text"][sl]),
                                  torch.from_numpy(inputs["audio"][sl]), everything)
            for name in SUBSETS:
                present = torch.from_numpy(np.tile(subset_mask(name), (n, 1)))
                out[name].append(model.fuse(vectors * present.unsqueeze(-1), present)[0].numpy())
    return {name: np.concatenate(parts).astype(np.float64) for name, parts in out.items()}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood (grid 0.5-4)."""
    from scipy.special import log_softmax

    grid = np.round(np.arange(0.5, 4.01, 0.05), 2)
    nll = [-log_softmax(logits / t, axis=1)[np.arange(len(labels)), labels].mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def fit(cfg: TrainConfig, splits: dict[str, Split], run: Path):
    """Train; returns (model with the best epoch's weights, history). Writes train.log, history.json
    and best.safetensors in `run`."""
    import torch
    from safetensors.torch import save_file

    from core.tasks.multimodal_fusion.model import FusionModel
    from core.tasks.multimodal_fusion.pictures import augment, normalise

    run.mkdir(parents=True, exist_ok=True)
    finished = _finished_run(cfg, run)
    if finished is not None:
        return finished
    torch.manual_seed(SEED)
    torch.set_num_threads(Settings.from_env().torch_threads or 2)
    log = training_log("multimodal_fusion.train", run / "train.log")
    train, validation = splits["train"], splits["validation"]
    model = FusionModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    samples = len(train.items) * cfg.repeats
    steps_per_epoch = math.ceil(samples / cfg.batch)
    total = cfg.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total, pct_start=0.1)
    images = torch.from_numpy(train.images)
    labels = torch.from_numpy(train.labels)
    val_inputs = evaluation_inputs(validation)
    generator = torch.Generator().manual_seed(SEED)
    (run / "config.json").write_text(json.dumps(asdict(cfg)))
    log.info("config %s; %d parameters; %d training emoji, %d samples per epoch", asdict(cfg),
             sum(p.numel() for p in model.parameters()), len(train.items), samples)
    history, best, started = [], -1.0, time.time()
    for epoch in range(1, cfg.epochs + 1):
        rng = np.random.default_rng([SEED, epoch])
        order = np.tile(np.arange(len(train.items)), cfg.repeats)[rng.permutation(samples)]
        model.train()
        losses, correct = [], 0
        for step in range(steps_per_epoch):
            items = order[step * cfg.batch:(step + 1) * cfg.batch]
            present = torch.from_numpy(random_masks(len(items), rng, cfg.all_share))
            pictures = normalise(augment(images[pick(train.image_item, items, rng)].float() / 255.0, generator))
            text = torch.from_numpy(train.text_vectors[pick(train.text_item, items, rng)])
            audio = torch.from_numpy(train.audio_vectors[pick(train.audio_item, items, rng)])
            out = model(pictures, text, audio, present)
            target = labels[items]
            loss = torch.nn.functional.cross_entropy(out["logits"], target, label_smoothing=cfg.label_smoothing)
            own = torch.nn.functional.cross_entropy(out["own_logits"].reshape(-1, out["own_logits"].shape[-1]),
                                                    target.repeat_interleave(3), reduction="none").view(-1, 3)
            loss = loss + cfg.own_loss * (own * present).sum() / present.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            correct += int((out["logits"].argmax(1) == target).sum())
        logits = subset_logits(model, val_inputs)
        accuracy = {name: round(float((v.argmax(1) == val_inputs["labels"]).mean()), 4) for name, v in logits.items()}
        everything = logits[SUBSETS[-1]]
        val_loss = float(np.mean(np.logaddexp.reduce(everything, axis=1)
                                 - everything[np.arange(len(everything)), val_inputs["labels"]]))
        row = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4), "train_accuracy": round(correct / samples, 4),
               "val_loss": round(val_loss, 4), "val_accuracy": accuracy,
               "val_mean_accuracy": round(float(np.mean(list(accuracy.values()))), 4),
               "lr": round(float(scheduler.get_last_lr()[0]), 6), "minutes": round((time.time() - started) / 60, 2)}
        history.append(row)
        log.info("epoch %d/%d %s", epoch, cfg.epochs, row)
        if row["val_mean_accuracy"] > best:
            best = row["val_mean_accuracy"]
            save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(run / "best.safetensors"))
        (run / "history.json").write_text(json.dumps(history, indent=1))
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(run / "best.safetensors")))
    log.info("training finished: %d epochs, %.1f min; best validation mean accuracy %.4f", cfg.epochs,
             (time.time() - started) / 60, best)
    return model.eval(), history


def _finished_run(cfg: TrainConfig, run: Path):
    """The model and history of a run in `run` that already finished with this config, else None."""
    from safetensors.torch import load_file

    from core.tasks.multimodal_fusion.model import FusionModel

    history_file, weights = run / "history.json", run / "best.safetensors"
    if not (history_file.exists() and weights.exists() and (run / "config.json").exists()):
        return None
    if json.loads((run / "config.json").read_text()) != asdict(cfg):
        return None
    history = json.loads(history_file.read_text())
    if len(history) < cfg.epochs:
        return None
    model = FusionModel()
    model.load_state_dict(load_file(str(weights)))
    return model.eval(), history


def train(out_dir: Path, card_dir: Path, quick: bool = False, data_dir: Path | None = None) -> dict:
    """`python -m core.train multimodal_fusion`: build the corpus, train, fit the temperatures,
    export into `out_dir`, evaluate on the unseen test emoji and write the card into `card_dir`.
    `data_dir`: a folder with the two npm packages unpacked (default: fetched into data/)."""
    from core.tasks.multimodal_fusion.evaluate import evaluate_and_write_card
    from core.tasks.multimodal_fusion.model import save

    cfg = QUICK if quick else FULL
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    folder = Path(data_dir) if data_dir else DATA_DIR / "npm"
    run = (out_dir.parent.parent / "runs" if quick or data_dir else DATA_DIR) / cfg.name
    started = time.time()
    splits = build(quick=quick, folder=folder)
    data_minutes = build_minutes(quick, folder) or (time.time() - started) / 60
    model, history = fit(cfg, splits, run)
    validation_logits = subset_logits(model, evaluation_inputs(splits["validation"]))
    labels = evaluation_inputs(splits["validation"])["labels"]
    temperatures = {name: fit_temperature(logits, labels) for name, logits in validation_logits.items()}
    save(model, out_dir, extra={"temperatures": temperatures})
    return evaluate_and_write_card(cfg, splits, history, out_dir, card_dir, quick, data_minutes=data_minutes,
                                   train_minutes=history[-1]["minutes"], folder=folder)
