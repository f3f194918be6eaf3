"""Task 06 tab: translate a text with Apertium (10 languages, through pivots) or the project's
neural model (English <-> Spanish), with detection, back-translation and a round-trip score.

UI wiring only: translation lives in core/tasks/machine_translation/adapter.py and runs in the
task's worker pool (a long text through the neural model is seconds of CPU, twice with the
back-translation), with the shared time budget and backpressure. Public endpoint:
/translate(text, source="auto", target="es", engine="auto") -> (translation, back-translation
diff, summary, JSON with the detected language and its confidence, the route, the translation,
the back-translation and its round-trip chrF).
"""
from __future__ import annotations

import time

import gradio as gr

from core.tasks.machine_translation.adapter import DIFF_LABELS, translate, word_diff
from core.tasks.machine_translation.apertium import LANGUAGES
from core.workers import task_pool
from demos.common import HEAVY_CONCURRENCY_LIMIT, api_json, card_link, show_first_result, timing, user_errors

TASK = "machine_translation"
SOURCES = [("Detect language", "auto")] + [(f"{name} ({code})", code) for code, name in LANGUAGES.items()]
TARGETS = [(f"{name} ({code})", code) for code, name in LANGUAGES.items()]
ENGINE_CHOICES = [("Auto (Apertium if installed)", "auto"), ("Apertium (10 languages)", "apertium"),
                  ("Neural (English ↔ Spanish)", "neural")]
EXAMPLES = [
    ["The committee will meet again next week to discuss the new budget.", "auto", "es", "auto"],
    ["¿Dónde está la estación de tren más cercana? Necesito llegar antes de las ocho.", "auto", "en", "auto"],
    ["Call me Ishmael. Some years ago, I thought I would sail about a little and see the watery part of the world.",
     "auto", "pt", "apertium"],
    ["Bonjour, je voudrais réserver une table pour deux personnes ce soir.", "auto", "ca", "apertium"],
    ["The whale swam slowly towards the ship, and the sailors watched in silence.", "en", "es", "neural"],
    ["Bo día! Hoxe fai moito frío na cidade.", "auto", "it", "apertium"],
]


def round_trip_words(score: float | None) -> str:
    if score is None:
        return "no round trip"
    return ("close to your text" if score >= 60 else "partly like your text" if score >= 40
            else "far from your text: meaning was probably lost")


def summary(result: dict, started: float) -> str:
    detected = result["detected"]
    detection = (f"detected: {detected['name']}, {detected['confidence']:.0%}{', unsure' if detected['unsure'] else ''}"
                 if result["requested_source"] == "auto" else
                 f"you chose {result['source_name']}; it looks like {detected['name']}, {detected['confidence']:.0%}")
    engine = "Apertium" if result["engine"] == "apertium" else "the neural model"
    score = result["round_trip_chrf"]
    lines = [f"**{result['source_name']} → {result['target_name']}** ({detection}), by {engine}, route "
             f"**{result['route']}**.",
             f"Round-trip chrF **{score if score is not None else '-'}** / 100: the back-translation is "
             f"{round_trip_words(score)}.",
             f"Time: {timing(result['timings_ms']['translate'] + result['timings_ms']['back_translate'], started)}."]
    lines += [f"_{note}_" for note in result["notes"]]
    return "\n\n".join(lines)


@user_errors
def translate_text(text: str, source: str = "auto", target: str = "es", engine: str = "auto") -> tuple:
    """Translate `text`: (translation, back-translation word diff, summary, JSON)."""
    started = time.perf_counter()
    result = task_pool(TASK).run(translate, text, source, target, engine)
    back = result["back_translation"]
    diff = word_diff(text[:result["characters"]], back) if back else []  # the text as translated (cut to the limit)
    return result["translation"], diff, summary(result, started), result


def swap(source: str, target: str, translation: str, result: dict | None) -> tuple:
    """Target becomes source and the other way round; the translation becomes the text."""
    detected = (result or {}).get("source") or "en"
    new_target = detected if source == "auto" else source
    return target, new_target, translation or gr.skip()


def build() -> gr.Blocks:
    """The tab's UI (loads no model and starts no Apertium until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Machine translation\nApertium, a rule-based system, translates between 10 languages (through a "
            "pivot language where no direct pair exists); the neural model is a small transformer this project "
            "trained to imitate Apertium for English ↔ Spanish. Each translation is translated back: the closer "
            "the round trip, the more likely the meaning survived. " + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                text = gr.Textbox(EXAMPLES[0][0], label="Text", lines=5)
                with gr.Row(equal_height=True):
                    source = gr.Dropdown(SOURCES, value="auto", label="From", scale=3, min_width=150)
                    swap_button = gr.Button("⇄", size="sm", scale=1, min_width=50)
                    target = gr.Dropdown(TARGETS, value="es", label="To", scale=3, min_width=150)
                engine = gr.Radio(ENGINE_CHOICES, value="auto", label="Engine",
                                  info="Auto uses the neural model for English ↔ Spanish where Apertium is not installed.")
                run = gr.Button("Translate", variant="primary")
                gr.Examples(EXAMPLES, [text, source, target, engine], label="Examples", api_name="load_translation_example",
                            api_visibility="private")
            with gr.Column(scale=1, min_width=280):
                translation = gr.Textbox(label="Translation", lines=5, interactive=False, buttons=["copy"])
                back = gr.HighlightedText(label="Back-translation (differences from your text highlighted)",
                                          combine_adjacent=True, show_legend=True,
                                          color_map={DIFF_LABELS[0]: "red", DIFF_LABELS[1]: "green"},
                                          elem_id="back-translation")
                info = gr.Markdown(elem_classes="result-summary")
                result = api_json()
        outputs = [translation, back, info, result]
        run.click(translate_text, [text, source, target, engine], outputs, api_name="translate",
                  concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        swap_button.click(swap, [source, target, translation, result], [source, target, text], api_name="swap_languages",
                          api_visibility="private", queue=False)
        show_first_result(demo, translate_text, [text, source, target, engine], EXAMPLES[0], outputs,
                          name="first_translation")
    return demo
