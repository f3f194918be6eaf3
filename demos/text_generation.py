"""Task 05 tab: continue a prompt with the project's GPT-2, streamed token by token.

UI wiring only: decoding lives in core/tasks/text_generation/adapter.py. The model is small and
runs in the server process (each request has its own cache and seeded generator; the network is
only read), so the tokens stream to the page as they are generated. Public endpoint:
/generate_text(prompt, strategy="nucleus", max_new_tokens=60, temperature=0.8, num_beams=4,
top_k=40, top_p=0.92, repetition_penalty=1.2, no_repeat_ngram_size=3, num_return_sequences=1,
seed=0, penalty_alpha=0.6, contrastive_k=4): through the API, the final result.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import gradio as gr
import pandas as pd

from core.registry import get_model
from core.tasks.text_generation.adapter import STRATEGIES, Settings, Token, settings_from
from demos.common import CONCURRENCY_LIMIT, api_json, card_link, show_first_result, user_errors

TASK = "text_generation"
DEFAULTS = Settings()
PROMPTS = ["Call me Ishmael. Some years ago", "Fellow-Citizens of the Senate and House of Representatives:",
           "The whale", "In the course of the past year, our country"]
COLUMNS = ["return", "#", "token", "probability", "top alternatives"]
MODELS = ("scratch", "hub")


def model_choice() -> gr.Radio:
    """The model picker: the Hub variant says when it is not installed (choosing it then explains how)."""
    from core.tasks.text_generation import hub

    hub_label = "distilgpt2 from the Hub (opt-in)" + ("" if hub.available() else ": not installed")
    return gr.Radio([("GPT-2 trained here (2.6 M parameters)", "scratch"), (hub_label, "hub")], value="scratch",
                    label="Model", info=None if hub.available() else
                    "The Hub model is installed once with ALLOW_NETWORK=1 python -m core.tasks.text_generation.hub")


def highlighted(prompt: str, sequences: dict[int, list[Token]]) -> list[tuple[str, float | None]]:
    """The prompt, then each generated token scored by how unlikely the model found it: the score
    p - 1 is in [-1, 0], which gr.HighlightedText shades darker as it nears -1."""
    out: list[tuple[str, float | None]] = []
    for i in sorted(sequences):
        if i:
            out.append((f"\n\n[return {i + 1}]\n", None))
        out.append((prompt, None))
        out += [(t.text, round(t.probability - 1, 3)) for t in sequences[i]]
    return out


def token_table(sequences: dict[int, list[Token]]) -> pd.DataFrame:
    rows = [[i + 1, n + 1, repr(t.text)[1:-1], t.probability, "  ".join(f"{a!r} {p:.2f}" for a, p in t.alternatives)]
            for i in sorted(sequences) for n, t in enumerate(sequences[i])]
    return pd.DataFrame(rows, columns=COLUMNS)


@user_errors
def generate_text(prompt: str, strategy: str = DEFAULTS.strategy, max_new_tokens: int = DEFAULTS.max_new_tokens,
                  temperature: float = DEFAULTS.temperature, num_beams: int = DEFAULTS.num_beams,
                  top_k: int = DEFAULTS.top_k, top_p: float = DEFAULTS.top_p,
                  repetition_penalty: float = DEFAULTS.repetition_penalty,
                  no_repeat_ngram_size: int = DEFAULTS.no_repeat_ngram_size,
                  num_return_sequences: int = DEFAULTS.num_return_sequences, seed: int = DEFAULTS.seed,
                  penalty_alpha: float = DEFAULTS.penalty_alpha,
                  contrastive_k: int = DEFAULTS.contrastive_k, model: str = "scratch") -> Iterator[tuple]:
    """Stream the continuation of `prompt`: (highlighted tokens, token table, summary, JSON). The
    JSON is filled once the text is complete (the API returns that last value). `model`: "scratch"
    (trained here) or "hub" (opt-in pretrained distilgpt2, once installed)."""
    if model not in MODELS:
        raise gr.Error(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.", print_exception=False)
    settings = settings_from({"strategy": strategy, "max_new_tokens": int(max_new_tokens), "temperature": float(temperature),
                              "num_beams": int(num_beams), "top_k": int(top_k), "top_p": float(top_p),
                              "repetition_penalty": float(repetition_penalty),
                              "no_repeat_ngram_size": int(no_repeat_ngram_size),
                              "num_return_sequences": int(num_return_sequences), "seed": int(seed),
                              "penalty_alpha": float(penalty_alpha), "contrastive_k": int(contrastive_k)})
    language_model = get_model(TASK, model)
    started = time.perf_counter()
    sequences: dict[int, list[Token]] = {}
    for part in language_model.stream(prompt or "", settings):
        sequences[part["sequence"]] = part["tokens"]
        count = sum(len(tokens) for tokens in sequences.values())
        rate = count / max(time.perf_counter() - started, 1e-6)
        yield (highlighted(prompt, sequences), gr.skip(), f"Generating... {count} tokens, {rate:.0f} tokens/s", gr.skip())
    result = language_model.result(prompt, settings, sequences, time.perf_counter() - started)
    count, seconds = result["token_count"], result["latency_ms"] / 1000
    summary = (f"**{count} tokens** in {seconds:.2f} s ({result['tokens_per_s']} tokens/s), {settings.strategy}. "
               "The darker a token, the less likely the model found it; the table lists the alternatives it weighed.")
    yield highlighted(prompt, sequences), token_table(sequences), summary, result


def build() -> gr.Blocks:
    """The tab's UI (loads no model until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Text generation\nA small GPT-2 (2.6 M parameters) trained from scratch by this project on Moby-Dick and "
            "two centuries of State of the Union addresses. It writes text in that style, with little sense beyond a "
            "sentence or two: it is here to show how decoding works. " + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                prompt = gr.Textbox(PROMPTS[0], label="Prompt", lines=3, max_length=2000)
                strategy = gr.Radio(list(STRATEGIES), value=DEFAULTS.strategy, label="Decoding strategy")
                model = model_choice()
                max_new_tokens = gr.Slider(1, 128, value=DEFAULTS.max_new_tokens, step=1, label="Max new tokens")
                with gr.Accordion("Settings", open=False):
                    temperature = gr.Slider(0.05, 2.0, value=DEFAULTS.temperature, step=0.05,
                                            label="Temperature (sampling, top-k, nucleus)")
                    top_k = gr.Slider(1, 100, value=DEFAULTS.top_k, step=1, label="top_k (top-k sampling)")
                    top_p = gr.Slider(0.05, 1.0, value=DEFAULTS.top_p, step=0.01, label="top_p (nucleus)")
                    num_beams = gr.Slider(1, 8, value=DEFAULTS.num_beams, step=1, label="num_beams (beam search)")
                    repetition_penalty = gr.Slider(1.0, 2.0, value=DEFAULTS.repetition_penalty, step=0.05,
                                                   label="Repetition penalty")
                    no_repeat = gr.Slider(0, 6, value=DEFAULTS.no_repeat_ngram_size, step=1,
                                          label="No-repeat n-gram size (0: off)")
                    returns = gr.Slider(1, 4, value=DEFAULTS.num_return_sequences, step=1, label="Number of returns")
                    seed = gr.Number(DEFAULTS.seed, precision=0, minimum=0, label="Seed (sampling strategies)")
                    penalty_alpha = gr.Slider(0.0, 1.0, value=DEFAULTS.penalty_alpha, step=0.05,
                                              label="Degeneration penalty alpha (contrastive search)")
                    contrastive_k = gr.Slider(1, 20, value=DEFAULTS.contrastive_k, step=1,
                                              label="Candidates per step (contrastive search)")
                run = gr.Button("Generate", variant="primary")
                gr.Examples([[p] for p in PROMPTS], [prompt], label="Prompts", api_name="load_prompt",
                            api_visibility="private")
            with gr.Column(scale=3, min_width=300):
                summary = gr.Markdown(elem_classes="result-summary")
                text = gr.HighlightedText(label="Text (darker: a token the model found less likely)", combine_adjacent=False,
                                          show_legend=False, show_inline_category=False)
                table = gr.Dataframe(headers=COLUMNS, label="Tokens and the alternatives the model weighed",
                                     interactive=False, max_height=320, wrap=True)
                result = api_json()
        inputs = [prompt, strategy, max_new_tokens, temperature, num_beams, top_k, top_p, repetition_penalty,
                  no_repeat, returns, seed, penalty_alpha, contrastive_k, model]
        outputs = [text, table, summary, result]
        run.click(generate_text, inputs, outputs, api_name="generate_text", concurrency_limit=CONCURRENCY_LIMIT)
        show_first_result(demo, generate_text, [prompt], [PROMPTS[0]], outputs, name="first_text")
    return demo
