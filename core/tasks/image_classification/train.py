"""Train, evaluate and export both image classifiers: `python -m core.train image_classification`.

For each variant ("fashion", "digits"): seeded AdamW + OneCycle training with batch
augmentation, the epoch with the best validation accuracy kept, evaluation on the held-out
test split with `core.metrics.classification_metrics`, a robustness check on test images
re-rendered as user-style pictures, latency/size measurement, sample images, then
`<variant>.safetensors` + `config.json` (out_dir) and `metrics.json` + README.md + figures (card_dir).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file
from tqdm.auto import tqdm

from core.artifacts import file_size_mb, measure_latency_ms, now_iso, save_json
from core.metrics import classification_metrics
from core.model_card import metrics_table, write_model_card
from core.settings import Settings
from core.tasks.image_classification import domain, render
from core.tasks.image_classification.adapter import ImageClassifier, load
from core.tasks.image_classification.augmentation import DIGITS_AUGMENT, FASHION_AUGMENT, AugmentConfig, augment
from core.tasks.image_classification.data import DATASET_INFO, Splits, load_variant
from core.tasks.image_classification.model import CompactCNN, count_parameters

TASK = "image_classification"
VERSION = "1.0.0"
SEED = 1234


@dataclass
class TrainConfig:
    epochs: int
    batch_size: int = 128
    max_lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    width: int = 32
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    framing: str = "product"


CONFIGS = {
    "fashion": TrainConfig(epochs=10, augment=FASHION_AUGMENT, framing="product"),
    "digits": TrainConfig(epochs=20, augment=DIGITS_AUGMENT, framing="digit"),
}


def _subsample(splits: Splits, n_train: int, n_eval: int) -> Splits:
    """A small slice of every split, for the --quick smoke run."""
    return Splits(splits.x_train[:n_train], splits.y_train[:n_train], splits.x_val[:n_eval], splits.y_val[:n_eval],
                  splits.x_test[:n_eval], splits.y_test[:n_eval], splits.labels)


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)


@torch.inference_mode()
def _evaluate_loss(model: CompactCNN, x: torch.Tensor, y: torch.Tensor, mean: float, std: float) -> tuple[float, float]:
    model.eval()
    losses, correct = [], 0
    for i in range(0, len(x), 1024):
        logits = model((x[i:i + 1024] - mean) / std)
        losses.append(F.cross_entropy(logits, y[i:i + 1024], reduction="sum").item())
        correct += (logits.argmax(1) == y[i:i + 1024]).sum().item()
    return sum(losses) / len(x), correct / len(x)


def fit(splits: Splits, cfg: TrainConfig, seed: int = SEED, desc: str = "") -> tuple[CompactCNN, list[dict], dict]:
    """Train a CompactCNN; returns the best-validation model, the per-epoch history and the normalisation."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = _tensor(splits.x_train), torch.from_numpy(splits.y_train)
    x_val, y_val = _tensor(splits.x_val), torch.from_numpy(splits.y_val)
    mean, std = float(x_train.mean()), float(x_train.std())
    model = CompactCNN(num_classes=len(splits.labels), width=cfg.width)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.max_lr, weight_decay=cfg.weight_decay)
    steps = (len(x_train) + cfg.batch_size - 1) // cfg.batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.max_lr, epochs=cfg.epochs, steps_per_epoch=steps)
    history, best_acc, best_state = [], -1.0, None
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        total_loss, correct, seen = 0.0, 0, 0
        lr = optimiser.param_groups[0]["lr"]
        bar = tqdm(range(steps), desc=f"{desc} epoch {epoch}/{cfg.epochs}", leave=False)
        for step in bar:
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            xb = augment(x_train[idx], cfg.augment, gen)
            logits = model((xb - mean) / std)
            loss = F.cross_entropy(logits, y_train[idx], label_smoothing=cfg.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(1) == y_train[idx]).sum().item()
            seen += len(idx)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
        val_loss, val_acc = _evaluate_loss(model, x_val, y_val, mean, std)
        row = {"epoch": epoch, "train_loss": total_loss / seen, "val_loss": val_loss,
               "train_accuracy": correct / seen, "val_accuracy": val_acc, "lr": lr}
        history.append(row)
        tqdm.write(f"{desc} epoch {epoch}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
                   f"val loss {val_loss:.4f} acc {val_acc:.4f}")
        if val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model.eval(), history, {"mean": mean, "std": std}


def robustness_table(adapter: ImageClassifier, splits: Splits, n: int) -> dict:
    """Accuracy on held-out test images re-rendered as user-style inputs and sent through the app's preprocessing."""
    rng = np.random.default_rng(SEED)
    x, y = splits.x_test[:n], splits.y_test[:n]
    tints = [(200, 40, 40), (40, 90, 200), (30, 30, 30), (120, 120, 120), (60, 160, 60)]
    if adapter.framing == "product":
        renderings = {
            "data-set pixels, no preprocessing": lambda i: None,
            "data-set pixels through preprocessing": lambda i: Image.fromarray(x[i]),
            "colour product on white, 320 px, off-centre": lambda i: render.product_photo(x[i], 320, "white", tints[i % 5], rng),
            "colour product on black, 320 px, off-centre": lambda i: render.product_photo(x[i], 320, "black", tints[i % 5], rng),
        }
    else:
        renderings = {
            "data-set pixels, no preprocessing": lambda i: None,
            "data-set pixels through preprocessing": lambda i: Image.fromarray(x[i]),
            "sketch: small digit in a corner, thin strokes": lambda i: render.drawn_digit(x[i], 400, 0.25, (-0.3, 0.3), thickness=0),
            "sketch: large centred digit, thick strokes": lambda i: render.drawn_digit(x[i], 400, 0.8, (0.0, 0.0), thickness=8),
            "photo: dark ink on white paper, off-centre": lambda i: render.drawn_digit(x[i], 300, 0.5, (0.2, -0.2), thickness=2,
                                                                                        transparent=False),
        }
    rows = []
    for name, make in renderings.items():
        frames = np.stack([x[i] / 255.0 if make(i) is None else adapter.preprocess(make(i)) for i in range(len(x))])
        accuracy = float((adapter.forward(frames).argmax(1) == y).mean())
        rows.append([name, len(x), round(accuracy, 4)])
    return {"title": "Robustness: held-out test images re-rendered as user inputs, through the app's preprocessing",
            "columns": ["input", "images", "accuracy"], "rows": rows}


def _save_samples(adapter: ImageClassifier, splits: Splits, probs: np.ndarray, card_dir: Path, variant: str,
                  per_kind: int = 8) -> dict:
    """PNG thumbnails of correct and misclassified test images; returns the schema's samples dict."""
    figures = card_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    predicted = probs.argmax(1)
    samples: dict[str, list] = {"correct": [], "misclassified": []}
    for kind, hit in (("correct", predicted == splits.y_test), ("misclassified", predicted != splits.y_test)):
        for n, i in enumerate(np.flatnonzero(hit)[:per_kind]):
            name = f"figures/{variant}_{kind}_{n}.png"
            Image.fromarray(splits.x_test[i]).resize((84, 84), Image.Resampling.NEAREST).save(card_dir / name)
            samples[kind].append({"image": name, "label": splits.labels[splits.y_test[i]],
                                  "predicted": splits.labels[predicted[i]], "score": round(float(probs[i].max()), 4)})
    return samples


def _card_body(metrics: dict) -> str:
    parts = ["Two compact convolutional networks trained from scratch by this project on CPU. "
             "`fashion` classifies uploaded product photos into the 10 Fashion-MNIST classes; `digits` reads "
             "digits drawn on the sketchpad (MNIST).\n"]
    for variant, v in metrics["variants"].items():
        info, model, data = DATASET_INFO[variant], v["model"], v["data"]
        hist = v["history"]
        parts.append(f"## `{variant}`\n")
        parts.append(f"- **Data**: {info['name']}; licence {info['license']}; from {info['source']}.\n"
                     f"- **Split**: {info['split']} ({', '.join(f'{k} {n}' for k, n in data['splits'].items())}).\n"
                     f"- **Model**: {model['architecture']}; {model['parameters']:,} parameters, {model['size_mb']} MB "
                     f"(safetensors, float32); {model['latency_ms']} ms per image ({model['latency_note']}).\n"
                     f"- **Training**: {len(hist)} epochs, AdamW + OneCycle (max lr {v['training']['max_lr']}), batch "
                     f"{v['training']['batch_size']}, label smoothing {v['training']['label_smoothing']}, seed {SEED}; "
                     "the epoch with the best validation accuracy is kept. Augmentation: "
                     f"{'; '.join(data['augmentation'])}. Training accuracy is measured on augmented batches.\n"
                     f"- **Input framing**: {v['training']['framing_note']}\n")
        parts.append("### Held-out test metrics\n\n" + metrics_table(v["metrics"]) + "\n")
        per_class = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        per_class += [f"| {r['label']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
                      for r in v["per_class"]]
        parts.append("### Per class\n\n" + "\n".join(per_class) + "\n")
        for table in v["tables"]:
            rows = ["| " + " | ".join(table["columns"]) + " |", "|" + "---|" * len(table["columns"])]
            rows += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
            parts.append(f"### {table['title']}\n\n" + "\n".join(rows) + "\n")
        wrong = v["samples"]["misclassified"][:4]
        if wrong:
            parts.append("Misclassified test examples: " + " ".join(
                f"![{s['label']} -> {s['predicted']}]({s['image']})" for s in wrong) + "\n")
    check = metrics.get("domain_check")
    if check:
        parts.append("## Auto model choice and unusual inputs\n\n"
                     "The tab's default model, **auto**, sends a picture to `fashion` or `digits` with a small "
                     "perceptron (784-64-1) on its 28x28 product framing, fitted on both training sets. The tab warns when the "
                     "model's top-class probability is below its confidence floor: the 5th percentile of that "
                     "probability on the model's own validation images "
                     f"({', '.join(f'`{v}` {f:.3f}' for v, f in check['confidence_floor'].items())}). "
                     "A softmax probability is a weak detector of foreign inputs: the table says how weak.\n")
        for table in check["tables"]:
            rows = ["| " + " | ".join(table["columns"]) + " |", "|" + "---|" * len(table["columns"])]
            rows += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
            parts.append(f"### {table['title']}\n\n" + "\n".join(rows) + "\n")
    parts.append(
        "## Limits\n\n"
        "- 28x28 greyscale input: colour, texture and fine detail are discarded. Fashion-MNIST images are catalogue "
        "photos of single products on a plain background; cluttered scenes, people wearing clothes, several objects "
        "or objects outside the 10 classes give meaningless (but confident-looking) answers.\n"
        "- Shirt vs T-shirt/top vs Pullover vs Coat are the hardest classes (see the confusion matrix).\n"
        "- The digits model learned from only 3,500 MNIST training images (US census staff and students' handwriting); "
        "unusual handwriting styles, several digits or letters are out of scope.\n"
        "- The robustness rows are synthetic re-renderings of held-out images, not real photographs.\n"
        "\nLicence of this model: AGPL-3.0 (project licence). Data licences as stated above.\n")
    return "\n".join(parts)


FRAMING_NOTES = {
    "product": "background read from the border pixels and subtracted (a light background is inverted), object "
               "cropped to its bounding box, padded to a square and resized to 28x28, like Fashion-MNIST's own pipeline.",
    "digit": "strokes found (dark on light or light on dark, or a sketch's alpha), cropped, stroke width brought to "
             "MNIST's, scaled into a 20x20 box and centred by centre of mass in 28x28, like MNIST.",
}


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """Train both variants, evaluate them on held-out data and write weights, config, metrics and card."""
    threads = Settings.from_env().torch_threads  # TORCH_THREADS=1 is much faster when the CPU is shared
    if threads > 0:
        torch.set_num_threads(threads)
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    card_dir.mkdir(parents=True, exist_ok=True)
    config = {"task": TASK, "version": VERSION, "variants": {}}
    metrics = {"task": TASK, "title": "Image classification", "generated_at": now_iso(), "quick": quick, "variants": {}}
    for variant, cfg in CONFIGS.items():
        splits = load_variant(variant)
        if quick:
            splits = _subsample(splits, 1500, 300)
            cfg = copy.replace(cfg, epochs=1) if hasattr(copy, "replace") else TrainConfig(**{**cfg.__dict__, "epochs": 1})
        model, history, norm = fit(splits, cfg, desc=variant)
        weights = out_dir / f"{variant}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
        config["variants"][variant] = {
            "weights": weights.name, "labels": splits.labels, "normalisation": norm, "framing": cfg.framing,
            "input_size": [28, 28], "architecture": {"width": cfg.width},
        }
        save_json(config, out_dir / "config.json")
        adapter = load(variant, out_dir)
        probs = adapter.forward(splits.x_test)
        result = classification_metrics(splits.y_test, probs.argmax(1), splits.labels)
        sample_image = render.product_photo(splits.x_test[0]) if cfg.framing == "product" else render.drawn_digit(splits.x_test[0])
        latency = measure_latency_ms(lambda: adapter.predict(sample_image), repeats=5 if quick else 30)
        metrics["variants"][variant] = {
            "model": {"name": f"CompactCNN ({variant})",
                      "architecture": "5 conv layers (32-64-64-128-128, BatchNorm, ReLU, 2 max-pools) + global "
                                      "average/max pooling + dropout + linear",
                      "parameters": count_parameters(model), "size_mb": file_size_mb(weights), "latency_ms": latency,
                      "latency_note": "one 320-400 px image: preprocessing + forward + top-5 on CPU, median"},
            "data": {"name": DATASET_INFO[variant]["name"], "license": DATASET_INFO[variant]["license"],
                     "splits": splits.sizes(), "class_distribution": splits.class_distribution(),
                     "augmentation": cfg.augment.describe()},
            "metrics": result["metrics"],
            "confusion_matrix": result["confusion_matrix"],
            "per_class": result["per_class"],
            "history": history,
            "samples": _save_samples(adapter, splits, probs, card_dir, variant),
            "tables": [robustness_table(adapter, splits, 24 if quick else 400)],
            "training": {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "max_lr": cfg.max_lr,
                         "weight_decay": cfg.weight_decay, "label_smoothing": cfg.label_smoothing, "seed": SEED,
                         "framing_note": FRAMING_NOTES[cfg.framing]},
        }
    fashion = metrics["variants"]["fashion"]["metrics"]
    metrics["headline"] = {"metric": "accuracy", "value": fashion["accuracy"], "variant": "fashion",
                           "split": f"official Fashion-MNIST test set ({metrics['variants']['fashion']['data']['splits']['test']:,} images)",
                           "higher_is_better": True}
    check, metrics["domain_check"] = domain.fit(
        {v: load_variant(v) if not quick else _subsample(load_variant(v), 1500, 300) for v in CONFIGS},
        {v: load(v, out_dir) for v in CONFIGS}, **({"max_train": 1500} if quick else {}))
    check.save(out_dir / domain.FILE)
    save_json(metrics, card_dir / "metrics.json")
    write_card(metrics, card_dir)
    return metrics


def write_card(metrics: dict, card_dir: Path) -> Path:
    """(Re)write the model card from metrics.json's content."""
    eval_rows = [(v, DATASET_INFO[v]["name"], m, metrics["variants"][v]["metrics"][m])
                 for v in metrics["variants"] for m in ("accuracy", "f1_macro")]
    return write_model_card(card_dir, task_name=TASK, title="Image classification: Fashion-MNIST and MNIST digits CNNs",
                            pipeline_tag="image-classification", license="agpl-3.0", datasets=["fashion_mnist", "mnist"],
                            metrics=metrics, eval_metrics=eval_rows, body=_card_body(metrics), tags=["cnn", "pytorch"])
