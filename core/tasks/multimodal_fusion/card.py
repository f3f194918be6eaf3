"""Task 12's metrics.json, figures and model card, from the evaluation's numbers (evaluate.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.artifacts import now_iso, save_json
from core.card_figures import pyplot, save_confusion_matrices, save_figure
from core.model_card import figure_links, table_markdown, write_model_card
from core.tasks.multimodal_fusion.corpus import CLIPS_PER_ITEM, TEXTS_PER_ITEM, Split
from core.tasks.multimodal_fusion.data import CATEGORIES, PACKAGES
from core.tasks.multimodal_fusion.model import MODALITIES
from core.tasks.multimodal_fusion.train import SUBSETS

DATA = {
    "name": "Emoji: Noto pictures, CLDR names and keywords, and spoken names (9 Unicode categories)",
    "source": f"npm {PACKAGES['datasource']} (emoji.json, 64 px Noto Color Emoji PNGs) and {PACKAGES['emojibase']} "
              "(CLDR English labels and keywords); speech synthesised here with eSpeak NG (PyPI espeakng-loader)",
    "license": "emoji-datasource MIT, Noto Color Emoji images Apache-2.0, emojibase-data MIT (CLDR data: Unicode "
               "licence); synthetic speech generated here",
}
ARCHITECTURE = ("picture: 64 px RGB -> stride-2 stem and three double-conv blocks (32-64-128 channels) -> mean pool -> "
                "linear (trained here); text: all-MiniLM-L6-v2 sentence vector (frozen) -> 2-layer MLP; speech: Whisper "
                "tiny.en encoder frames over the speech, mean and standard deviation (frozen) -> 2-layer MLP; each gives "
                "a 128-d vector; a learned gate (tanh MLP, softmax over the modalities present) weights them; "
                "layer norm, linear head over 9 categories; {parameters:,} trained parameters")


def figures(evaluation: dict, history: list[dict], folder: Path) -> list[str]:
    """Accuracy per subset, confusion matrices, the reliability diagram, gate weights and training curves."""
    plt = pyplot()
    results = evaluation["results"]
    fig, axis = plt.subplots(figsize=(7.5, 3.4))
    accuracy = [results[s]["metrics"]["accuracy"] for s in SUBSETS]
    f1 = [results[s]["metrics"]["f1_macro"] for s in SUBSETS]
    x = np.arange(len(SUBSETS))
    axis.bar(x - 0.2, accuracy, 0.4, label="accuracy")
    axis.bar(x + 0.2, f1, 0.4, label="macro F1")
    for i, value in enumerate(accuracy):
        axis.text(i - 0.2, value + 0.01, f"{value:.2f}", ha="center", fontsize=8)
    axis.set_xticks(x, [s.replace("+", "\n+") for s in SUBSETS], fontsize=8)
    axis.set_ylim(0, 1), axis.legend(loc="lower right"), axis.set_title("Every input subset, unseen test emoji")
    save_figure(fig, folder / "subsets.png")

    everything = SUBSETS[-1]
    best = evaluation["best_single"]
    short = [c.split(" ")[0] for c in CATEGORIES]
    save_confusion_matrices({f"{best} alone": results[best], "all three": results[everything]}, short,
                            folder / "confusion_matrices.png", panel_size=(5.2, 4.6), rotate_labels=45)

    fig, axis = plt.subplots(figsize=(4.6, 4.2))
    from core.tasks.multimodal_fusion.evaluate import reliability

    for name, p, style in (("calibrated (its temperature)", evaluation["probabilities"][everything], "o-"),
                           ("raw logits", evaluation["uncalibrated"][everything], "s--")):
        rows = np.array(reliability(p, evaluation["labels"]))
        axis.plot(rows[:, 1], rows[:, 2], style, label=name)
    axis.plot([0, 1], [0, 1], ":", color="grey")
    axis.set_xlabel("confidence"), axis.set_ylabel("accuracy"), axis.legend(loc="upper left")
    axis.set_title("Reliability, all three inputs")
    save_figure(fig, folder / "reliability.png")

    fig, axis = plt.subplots(figsize=(7.5, 3.2))
    weights, labels = evaluation["weights"], evaluation["labels"]
    bottom = np.zeros(len(CATEGORIES))
    for j, m in enumerate(MODALITIES):
        values = np.array([weights[labels == k, j].mean() if (labels == k).any() else 0 for k in range(len(CATEGORIES))])
        axis.bar(short, values, bottom=bottom, label=m)
        bottom += values
    axis.set_ylabel("mean gate weight"), axis.legend(loc="upper center", ncols=3), axis.set_ylim(0, 1.3)
    axis.set_title("How much each modality counted, per true category")
    axis.tick_params(axis="x", labelrotation=30)
    save_figure(fig, folder / "modality_weights.png")

    fig, axis = plt.subplots(figsize=(6.5, 3.2))
    epochs = [r["epoch"] for r in history]
    axis.plot(epochs, [r["train_loss"] for r in history], "o-", markersize=3, label="train loss")
    twin = axis.twinx()
    for s in (*MODALITIES, everything):
        twin.plot(epochs, [r["val_accuracy"][s] for r in history], "-", label=f"val {s}")
    axis.set_xlabel("epoch"), axis.set_ylabel("loss"), twin.set_ylabel("validation accuracy")
    axis.legend(loc="center left"), twin.legend(loc="lower right", fontsize=7)
    save_figure(fig, folder / "training_curves.png")
    return ["figures/subsets.png", "figures/confusion_matrices.png", "figures/reliability.png",
            "figures/modality_weights.png", "figures/training_curves.png"]


def _parameters(model_dir: Path) -> int:
    from safetensors import safe_open

    from core.tasks.multimodal_fusion.model import WEIGHTS

    with safe_open(str(Path(model_dir) / WEIGHTS), "pt") as handle:
        return int(sum(np.prod(handle.get_slice(k).get_shape()) for k in handle.keys()
                       if "running" not in k and "num_batches" not in k))


def build_metrics(splits: dict[str, Split], evaluation: dict, history: list[dict], extra: dict, quick: bool) -> dict:
    """metrics.json (core/artifacts.py's schema) from the evaluation's results."""
    everything = evaluation["results"][SUBSETS[-1]]
    cfg = extra["train_config"]
    sizes = {name: len(split.items) for name, split in splits.items()}
    data = dict(DATA, splits=sizes,
                class_distribution={name: {c: int((split.labels == k).sum()) for k, c in enumerate(CATEGORIES)}
                                    for name, split in splits.items()},
                samples={name: len(split.audio_item) for name, split in splits.items()},
                voices={name: sorted(set(split.clip_voices)) for name, split in splits.items()},
                augmentation=["pictures: position, size (x0.65-1.1), rotation (+-15 degrees), mirror, background "
                              "(white, a colour, a gradient, noise), contrast and brightness, blur (p 0.2), a line "
                              "drawing of the edges (p 0.12); skin-tone variants as extra pictures",
                              f"texts: up to {TEXTS_PER_ITEM} per training emoji (names, short names, keyword phrases)",
                              f"speech: {CLIPS_PER_ITEM['train']} clips per training emoji, random voice, speed and "
                              "pitch, task 07's recording conditions (noise, room, gain)",
                              "modality dropout: all three inputs for 40 % of the samples, else a random non-empty subset"])
    parameters = _parameters(extra["model_dir"])
    model = {"name": "gated fusion of a picture CNN, MiniLM and the Whisper encoder",
             "architecture": ARCHITECTURE.format(parameters=parameters), "parameters": parameters,
             "size_mb": extra["size_mb"], "hardware": extra["hardware"],
             "latency_ms": extra["latency"]["all_three"],
             "latency_note": f"a whole request with all three inputs (PNG, text, WAV: decoding, both encoders, fusion, "
                             f"Grad-CAM, word and speech explanations) on {extra['hardware']}, median; the picture alone: "
                             f"{extra['latency']['image_only']} ms",
             "temperatures": evaluation["temperatures"],
             "trained": {k: cfg[k] for k in ("epochs", "repeats", "batch", "lr", "weight_decay", "label_smoothing",
                                             "all_share", "own_loss", "name")},
             "minutes": extra["train_minutes"], "data_minutes": extra["data_minutes"]}
    history_rows = [{"epoch": r["epoch"], "train_loss": r["train_loss"], "train_accuracy": r["train_accuracy"],
                     "val_accuracy": r["val_accuracy"][SUBSETS[-1]],
                     **{k: r[k] for k in ("val_loss", "lr") if k in r}}  # older runs lack them
                    for r in history]
    where = f"{sizes['test']} test emoji unseen in every modality ({len(evaluation['labels'])} samples, unseen voices)"
    return {
        "task": "multimodal_fusion", "title": "Multimodal fusion", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "accuracy", "label": "accuracy, all three inputs",
                     "value": round(everything["metrics"]["accuracy"], 4), "variant": "fusion",
                     "higher_is_better": True, "split": where},
        "variants": {"fusion": {
            "model": model, "data": data,
            "metrics": {k: round(float(v), 4) for k, v in evaluation["metrics"].items()},
            "confusion_matrix": everything["confusion_matrix"], "per_class": everything["per_class"],
            "history": history_rows, "tables": extra["tables"],
            "best_single_modality": evaluation["best_single"],
        }},
        "figures": [],
    }


def card_body(metrics: dict) -> str:
    block = metrics["variants"]["fusion"]
    m, model, data = block["metrics"], block["model"], block["data"]
    best = block["best_single_modality"]
    verdict = "beats" if m["fusion_gain"] > 0 else "does not beat"
    lines = [
        "Reads a picture, a text and a spoken description, together or any one or two of them, and says which of the "
        "9 Unicode emoji categories the thing belongs to (" + ", ".join(CATEGORIES) + "). It shows how much each "
        "input counted (the gate weights), what the prediction would be without each one, and where it looked.",
        "",
        "> **Synthetic speech.** The spoken descriptions the model learned from were synthesised with eSpeak NG "
        "(robotic voices, several accents). Human speech is read by the same Whisper encoder, but the head on top "
        "of it never heard a person.",
        "",
        "## Model",
        f"- {model['architecture']}.",
        f"- Trained here on {model['hardware']}: {model['trained']['epochs']} epochs of {model['trained']['repeats']} "
        f"samples per training emoji (batch {model['trained']['batch']}, AdamW, one-cycle lr {model['trained']['lr']}, "
        f"weight decay {model['trained']['weight_decay']}, label smoothing {model['trained']['label_smoothing']}), in "
        f"{model['minutes']} minutes after {model['data_minutes']} minutes of data preparation (synthesis and encoding). "
        "Loss: the fused cross-entropy plus half the mean of each present modality's own head. The epoch with the best "
        "mean validation accuracy over the 7 input subsets is kept.",
        "- Calibration: one temperature per input subset, fitted on the validation emoji ("
        + ", ".join(f"{k} {v:g}" for k, v in model["temperatures"].items()) + ") by the negative log-likelihood.",
        f"- {model['size_mb']} MB of safetensors; the two frozen encoders come from pip wheels (nothing is downloaded).",
        f"- Latency: {model['latency_ms']} ms ({model['latency_note']}).",
        "",
        "## Data and split",
        f"- {data['name']}: {data['source']}. Licence: {data['license']}.",
        f"- Emoji: {', '.join(f'{k} {v:,}' for k, v in data['splits'].items())}; evaluation samples (one per spoken "
        f"clip): {', '.join(f'{k} {v:,}' for k, v in data['samples'].items())}.",
        "- **Split by emoji, in groups**: emoji that differ only by who is shown (man / woman / person running, every "
        "family) form one group, and a group is on one side only. Test emoji are unseen as pictures, as texts and as "
        "spoken names; their voices are eSpeak voices never heard in training (task 07's voice split).",
        "- Test inputs: the emoji's base picture on white, its CLDR label as the text, the label spoken by 2 unseen "
        "voices with random speed, pitch and recording conditions.",
        "- Hard cases are kept: nothing is filtered out where the picture, the name and the sound point different ways "
        "(a jack-o-lantern is an *activity*, a red heart a *smiley*, a keycap a *symbol*).",
        "- Augmentation: " + "; ".join(data["augmentation"]) + ".",
        "",
        "## Held-out test: emoji unseen in every modality",
        "",
        f"All three inputs: **accuracy {m['accuracy']:.4f}**, macro F1 {m['f1_macro']:.4f}, ECE {m['ece']:.4f} "
        f"(before its temperature: {m['ece_uncalibrated']:.4f}). The best single modality is **{best}** "
        f"(accuracy {m['accuracy_' + best]:.4f}); fusion {verdict} it by {m['fusion_gain']:+.4f} accuracy (95 % "
        f"bootstrap interval over emoji {m['fusion_gain_low']:+.4f} to {m['fusion_gain_high']:+.4f}) and "
        f"{m['f1_gain']:+.4f} macro F1.",
        "",
        "Mean gate weights with all three inputs: " + ", ".join(f"{k} {m['mean_weight_' + k]:.3f}" for k in MODALITIES)
        + f". On the hard cases, where the three single modalities disagree ({m['hard_share']:.0%} of the samples), "
        f"the fused model is right {m['accuracy_hard']:.0%} of the time.",
        "",
    ]
    lines += figure_links(metrics["figures"])
    for table in block["tables"]:
        lines += table_markdown(table)
    lines += [
        "## Limits",
        "- Categories are Unicode's, and some are arbitrary: a red heart is a *smiley*, sports are *activities* but "
        "a football player is *people*. The model learns these conventions, not common sense.",
        "- Pictures are Google's Noto emoji style; photos and sketches are far from them and are read less well "
        "(training adds line drawings and backgrounds, which helps only partly).",
        "- Spoken descriptions are synthetic speech only (see above). The speech branch knows no meanings, only "
        "sounds: it picks up words that recur across categories (flag, face, man, woman, button) and alone names "
        f"the category of {m['accuracy_audio']:.0%} of the test clips; it helps most next to a picture.",
        "- The texts are short names and keywords; long sentences are read, but the model never learned from them.",
        "",
        "Licence of this model: AGPL-3.0 (project licence).",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, evaluation: dict, history: list[dict], card_dir: Path) -> Path:
    """Figures, metrics.json and README.md into `card_dir` (`history`: train.py's rows, with the
    validation accuracy of every subset)."""
    block = metrics["variants"]["fusion"]
    metrics["figures"] = figures(evaluation, history, card_dir / "figures")
    save_json(metrics, card_dir / "metrics.json")
    rows = [(subset, "emoji unseen in every modality", key,
             block["metrics"][key if subset == SUBSETS[-1] else f"{key}_{subset.replace('+', '_')}"])
            for subset in SUBSETS for key in ("accuracy", "f1_macro")]
    return write_model_card(card_dir, task_name="multimodal_fusion",
                            title="Multimodal fusion (picture + text + speech, gated)",
                            pipeline_tag="any-to-any", license="agpl-3.0", datasets=["emoji-datasource", "emojibase"],
                            metrics=metrics, eval_metrics=rows, body=card_body(metrics),
                            tags=["multimodal", "late-fusion", "modality-dropout", "emoji", "synthetic-data"])
