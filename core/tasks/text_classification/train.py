"""Train task 04's two classifiers on the SpamAssassin corpus with the grouped split (data.py).

    .venv/bin/python -m core.train text_classification        # full run (about 25 min on 2 cores)
    .venv/bin/python -m core.tasks.text_classification.train   # the encoder only, resumable

The baseline (TF-IDF + logistic regression, its C chosen on validation) trains in seconds. The
encoder (MiniLM + LoRA + head) trains for a few epochs; after each one, the validation loss goes
to data/text_classification/<run>/train.log and history.json and a checkpoint is written, so an
interrupted run resumes at the last finished epoch. The epoch with the lowest validation loss is kept.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.artifacts import training_log
from core.settings import Settings, apply_offline_defaults
from core.tasks.text_classification.data import DATA_DIR, Message, grouped_split, read_corpus

apply_offline_defaults()

SEED = 0


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 2
    batch: int = 16
    lr: float = 1e-3
    warmup: int = 30
    weight_decay: float = 0.01
    max_length: int = 192
    name: str = "minilm_lora_v1"


FULL = TrainConfig()
QUICK = TrainConfig(epochs=2, batch=8, lr=2e-3, warmup=1, max_length=32, name="quick")


def prepare(run: Path, messages: list[Message] | None = None) -> dict:
    """Texts, labels and split indices, computed once and kept in the run folder (split.json)."""
    path = run / "split.json"
    if path.exists():
        return json.loads(path.read_text())
    messages = messages if messages is not None else read_corpus()
    parts = grouped_split(messages)
    data = {"names": [m.name for m in messages], "folders": [m.folder for m in messages],
            "texts": [m.text for m in messages], "labels": [m.label for m in messages],
            **{name: idx.tolist() for name, idx in parts.items()}}
    run.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return data


def fit_baseline(data: dict, c_grid: tuple[float, ...] = (1, 5, 20, 100)):
    """The TF-IDF baseline with C chosen by validation accuracy; returns (vectorizer, classifier, C)."""
    from core.tasks.text_classification import baseline

    texts, labels = data["texts"], np.array(data["labels"])
    train, validation = data["train"], data["validation"]
    best = None
    for c in c_grid:
        vectorizer, classifier = baseline.fit([texts[i] for i in train], labels[train], c=c)
        accuracy = float((classifier.predict(vectorizer.transform([texts[i] for i in validation])) == labels[validation]).mean())
        if best is None or accuracy > best[0]:
            best = (accuracy, vectorizer, classifier, c)
    return best[1], best[2], best[3]


def _batches(lengths: np.ndarray, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar-length examples (less padding, same randomness per epoch)."""
    order = rng.permutation(len(lengths))
    chunks = [order[i:i + batch * 20] for i in range(0, len(order), batch * 20)]
    batches = []
    for chunk in chunks:
        chunk = chunk[np.argsort(lengths[chunk])]
        batches += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
    return [batches[i] for i in rng.permutation(len(batches))]


def validation_loss(model, tok, texts: list[str], labels: np.ndarray, max_length: int) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) on `texts`."""
    from core.tasks.text_classification.encoder import spam_probabilities

    model.eval()
    p = np.clip(spam_probabilities(model, tok, texts), 1e-7, 1 - 1e-7)
    model.train()
    loss = float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
    return loss, float(((p > 0.5) == labels).mean())


def fit_encoder(cfg: TrainConfig, run: Path, data: dict) -> Path:
    """Train (or resume) the LoRA encoder; writes best.safetensors (the trained tensors of the epoch
    with the lowest validation loss), history.json and train.log in `run`."""
    import torch
    from safetensors.torch import load_file, save_file

    from core.tasks.text_classification.encoder import EncoderConfig, SpamEncoder, tokenizer

    torch.manual_seed(SEED)
    threads = Settings.from_env().torch_threads
    if threads:
        torch.set_num_threads(threads)
    log = training_log("text_classification.train", run / "train.log")
    tok = tokenizer()
    model = SpamEncoder(EncoderConfig(max_length=cfg.max_length))
    texts, labels = data["texts"], np.array(data["labels"])
    train, validation = np.array(data["train"]), np.array(data["validation"])
    encoded = tok([texts[i] for i in train], truncation=True, max_length=cfg.max_length)["input_ids"]
    lengths = np.array([len(ids) for ids in encoded])
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train) / cfg.batch)
    total = cfg.epochs * steps_per_epoch

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        return cfg.lr * max(0.0, (total - step) / max(1, total - cfg.warmup))

    history: list[dict] = []
    epoch = 0
    if (run / "last.safetensors").exists():
        model.load_state_dict(load_file(str(run / "last.safetensors")), strict=False)
        state = torch.load(run / "optimizer.pt", weights_only=True)  # written by this script only
        optimizer.load_state_dict(state["optimizer"])
        epoch = int(state["epoch"])
        history = json.loads((run / "history.json").read_text())
        log.info("resumed after epoch %d", epoch)
    log.info("config %s; %d trainable parameters; train %d, validation %d", asdict(cfg),
             sum(p.numel() for p in trainable), len(train), len(validation))
    started = time.time() - (history[-1]["minutes"] * 60 if history else 0)
    model.train()
    while epoch < cfg.epochs:
        rng = np.random.default_rng([SEED, epoch])
        losses = []
        for n, batch in enumerate(_batches(lengths, cfg.batch, rng)):
            step = epoch * steps_per_epoch + n
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            inputs = tok.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            logits = model(inputs["input_ids"], inputs["attention_mask"])
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels[train[batch]]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            losses.append(float(loss.detach()))
            if n % 25 == 0:
                log.info("epoch %d step %d/%d loss %.4f (%.1f min)", epoch + 1, n, steps_per_epoch,
                         np.mean(losses[-25:]), (time.time() - started) / 60)
        epoch += 1
        val_loss, val_accuracy = validation_loss(model, tok, [texts[i] for i in validation], labels[validation],
                                                 cfg.max_length)
        row = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4), "val_loss": round(val_loss, 4),
               "val_accuracy": round(val_accuracy, 4), "minutes": round((time.time() - started) / 60, 2)}
        history.append(row)
        log.info("epoch %d/%d %s", epoch, cfg.epochs, row)
        state = model.trained_state()
        save_file(state, str(run / "last.safetensors"))
        if val_loss <= min(r["val_loss"] for r in history):
            save_file(state, str(run / "best.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "epoch": epoch}, run / "optimizer.pt")
        (run / "history.json").write_text(json.dumps(history, indent=1))
    log.info("training finished after %d epochs, %.1f min", epoch, (time.time() - started) / 60)
    return run


def sample_messages() -> list[Message]:
    """A committed sample of held-out e-mails (20 ham, 20 spam): the data of quick runs and tests."""
    from core.registry import EXAMPLES_DIR

    path = EXAMPLES_DIR / "text_classification" / "corpus_sample.json"
    return [Message(**m) for m in json.loads(path.read_text(encoding="utf-8"))]


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """`python -m core.train text_classification`: both models, evaluated on the grouped test split,
    exported into `out_dir`, with the card in `card_dir`."""
    from core.tasks.text_classification.evaluate import evaluate_and_export

    cfg = QUICK if quick else FULL
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    run = (out_dir.parent.parent / "runs" if quick else DATA_DIR) / cfg.name
    data = prepare(run, sample_messages() if quick else None)
    fit_encoder(cfg, run, data)
    return evaluate_and_export(cfg, run, data, out_dir, card_dir, quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run on the committed sample")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    run = DATA_DIR / cfg.name
    fit_encoder(cfg, run, prepare(run, sample_messages() if args.quick else None))


if __name__ == "__main__":
    main()
