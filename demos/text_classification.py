"""Task 04 tab: is an e-mail spam? With the words that pushed the decision highlighted.

UI wiring only: models and explanations live in core/tasks/text_classification/. Classification
with integrated gradients is CPU-heavy (a batch of 16 passes through the encoder), so it runs in
the task's worker pool (core/workers.py) like detection does. Public endpoint:
/classify_text(text, model="minilm") -> JSON with `predictions` [{label, score}] and `importance`
[{token, score}] (score in [-1, 1], positive: towards spam), the tokens read and the truncation point.
An uploaded .txt/.eml file is read into the text box first (headers are skipped by the parser).
"""
from __future__ import annotations

import json
import time

import gradio as gr
import pandas as pd

from core.registry import EXAMPLES_DIR
from core.tasks.text_classification.adapter import VARIANTS
from core.text_input import read_text_file
from core.workers import run_heavy
from demos.common import HEAVY_CONCURRENCY_LIMIT, api_json, card_link, show_first_result, timing, user_errors

TASK = "text_classification"
MODEL_CHOICES = [("MiniLM + LoRA (fine-tuned)", "minilm"), ("TF-IDF + logistic regression (baseline)", "tfidf")]
NAMES = {"minilm": "fine-tuned MiniLM", "tfidf": "TF-IDF baseline"}
EXAMPLES = json.loads((EXAMPLES_DIR / TASK / "examples.json").read_text(encoding="utf-8"))
SHOWN_AFTER_CUT = 800  # characters of the unread rest shown after the truncation mark


def highlighted(result: dict) -> list[tuple[str, float | None]]:
    """The message as the model read it: each word with its score, the text between words plain, and
    a mark where reading stopped."""
    text, out, position = result["text"], [], 0
    for (start, end), item in zip(result["spans"], result["importance"]):
        if start > position:
            out.append((text[position:start], None))
        out.append((text[start:end], item["score"] if abs(item["score"]) >= 0.05 else None))
        position = end
    cut = result["truncated_at"]
    if cut is not None:
        out.append((text[position:cut], None))
        rest = text[cut:]
        out.append((f"\n\n✂ the model stopped reading here ({result['tokens_seen']} tokens); not read:\n", None))
        out.append((rest[:SHOWN_AFTER_CUT] + ("…" if len(rest) > SHOWN_AFTER_CUT else ""), None))
    else:
        out.append((text[position:], None))
    merged: list[tuple[str, float | None]] = []
    for segment, score in out:  # one box per run of unscored text, not one per gap
        if score is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + segment, None)
        elif segment:
            merged.append((segment, score))
    return merged


def top_words(result: dict, n: int = 8) -> pd.DataFrame:
    """The words that pushed hardest each way (a word's scores summed over its occurrences)."""
    totals: dict[str, float] = {}
    for item in result["importance"]:
        key = item["token"].lower()
        totals[key] = totals.get(key, 0.0) + item["score"]
    ranked = sorted(totals.items(), key=lambda kv: kv[1])
    spam = [(w, s) for w, s in reversed(ranked) if s > 0][:n]
    ham = [(w, s) for w, s in ranked if s < 0][:n]
    rows = [["spam", w, round(s, 2)] for w, s in spam] + [["ham", w, round(s, 2)] for w, s in ham]
    return pd.DataFrame(rows, columns=["pushes towards", "word", "score"])


@user_errors
def classify_text(text: str, model: str = "minilm") -> tuple:
    """Classify `text` (a message, or a raw e-mail with headers) with `model` ("minilm" or "tfidf"):
    (probabilities, highlighted words, strongest words, summary, JSON)."""
    started = time.perf_counter()
    if model not in VARIANTS:
        raise gr.Error(f"Unknown model {model!r}; choose one of {', '.join(VARIANTS)}.", print_exception=False)
    result = run_heavy(TASK, model, "classify", text)
    best = result["predictions"][0]
    lines = [f"**{best['label']}** ({best['score']:.0%}) says the {NAMES[model]}. "
             "Red words pushed towards spam, blue ones towards ham.", *result["notes"],
             "" if result["truncated_at"] is not None or model != "minilm" else
             f"The encoder read the whole message ({result['tokens_seen']} tokens).",
             timing(result["latency_ms"], started)]
    label = {p["label"]: p["score"] for p in result["predictions"]}
    return label, highlighted(result), top_words(result), "\n\n".join(filter(None, lines)), result


@user_errors
def load_file(path: str | None) -> str:
    """The text of an uploaded .txt or .eml file, for the text box."""
    if not path:
        raise gr.Error("No file was uploaded.", print_exception=False)
    return read_text_file(path)


def build() -> gr.Blocks:
    """The tab's UI (loads no model until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Text classification: spam or ham?\nPaste an e-mail (or upload a .txt / .eml file). The models learned "
            "from the SpamAssassin corpus (real e-mails of 2002-2003) and are tested on threads they never saw. "
            + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                text = gr.Textbox(EXAMPLES[0]["text"], label="E-mail text", lines=10, max_lines=20)
                upload = gr.File(label="Or upload a .txt / .eml file", file_types=[".txt", ".eml"], height=70,
                                 elem_id="email-upload")
                model = gr.Radio(MODEL_CHOICES, value="minilm", label="Model")
                run = gr.Button("Classify", variant="primary")
                gr.Examples([[e["text"]] for e in EXAMPLES], [text], label="Held-out e-mails",
                            example_labels=[f"{e['folder']}: {e['text'].splitlines()[0][:40]}" for e in EXAMPLES],
                            api_name="load_email", api_visibility="private")
            with gr.Column(scale=3, min_width=300):
                summary = gr.Markdown(elem_classes="result-summary")
                label = gr.Label(label="Class probabilities", num_top_classes=2)
                words = gr.HighlightedText(label="What the model read, coloured by word importance (red: spam, blue: ham)",
                                           combine_adjacent=False, show_legend=False, show_inline_category=False)
                table = gr.Dataframe(headers=["pushes towards", "word", "score"], label="Strongest words",
                                     interactive=False, max_height=300)
                result = api_json()
        outputs = [label, words, table, summary, result]
        run.click(classify_text, [text, model], outputs, api_name="classify_text", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        model.input(classify_text, [text, model], outputs, api_name="classify_on_model", api_visibility="private",
                    concurrency_limit=HEAVY_CONCURRENCY_LIMIT, trigger_mode="always_last")
        upload.upload(load_file, upload, text, api_name="load_file", api_visibility="private").success(
            classify_text, [text, model], outputs, api_name="classify_upload", api_visibility="private",
            concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, classify_text, [text, model], [EXAMPLES[0]["text"], "minilm"], outputs,
                          name="first_classification")
    return demo
