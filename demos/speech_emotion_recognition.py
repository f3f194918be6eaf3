"""Task 07 tab: which emotion does a voice sound like, and how does it change over a recording?

UI wiring only: the models live in core/tasks/speech_emotion_recognition/. The whole request
(decoding the file, features, the model, the timeline) runs in the task's worker pool
(core/workers.py), like the other CPU-heavy tabs. Public endpoint:

    /recognize_emotion(audio, model="cnn") -> (summary, probabilities, timeline plot, audio plot, JSON with
        predictions [{label, score}] for the whole clip and timeline [{start, end, label, score,
        predictions, silent}] per 3-second window)

The default model learned acted prosody from eSpeak NG's synthetic voices: the tab says so.
"""
from __future__ import annotations

import json
import time

import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.settings import Settings
from core.tasks.speech_emotion_recognition.adapter import SYNTHETIC_NOTE, VARIANTS
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS
from core.workers import run_heavy
from demos.common import HEAVY_CONCURRENCY_LIMIT, api_json, card_link, show_first_result, timing, user_errors

TASK = "speech_emotion_recognition"
EXAMPLES = EXAMPLES_DIR / TASK
MODEL_CHOICES = [("Log-mel CNN", "cnn"), ("MFCC / pitch / energy baseline", "mfcc")]
NAMES = {"cnn": "log-mel CNN", "mfcc": "MFCC baseline"}
COLOURS = {"neutral": "#6b7280", "happy": "#d97706", "sad": "#2563eb", "angry": "#dc2626", "fearful": "#7c3aed"}
MANIFEST = json.loads((EXAMPLES / "examples.json").read_text(encoding="utf-8"))  # scripts/make_examples_...
EXAMPLE_ROWS = [[str(EXAMPLES / item["file"]), "cnn"] for item in MANIFEST]
EXAMPLE_LABELS = [f"{item['emotion']} ({item['seconds']:.0f} s)" if "emotion" in item else
                  f"{item['seconds']:.0f} s: " + " → ".join(s["emotion"] for s in item["segments"]) for item in MANIFEST]
FIRST = next(row for row, item in zip(EXAMPLE_ROWS, MANIFEST) if item.get("emotion") == "angry")
CAVEAT = ("**Synthetic voices.** Both models learned *acted prosody from a speech synthesiser* (eSpeak NG): they have "
          "never heard a person, so on real human voices they are unreliable. To retrain them on real acted speech, "
          "put RAVDESS, CREMA-D or TESS recordings in a folder and run "
          "`python -m core.train speech_emotion_recognition --data DIR`.")


def caveat() -> str:
    """What the shipped models learned from (config.json; no model is loaded): the synthetic-voice warning,
    or the real data set they were retrained on."""
    from core.registry import get_task

    try:
        config = json.loads((get_task(TASK).model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return CAVEAT
    if config.get("synthetic", True):
        return CAVEAT
    return (f"**Trained on {config.get('trained_on', 'real acted speech')}**, tested on speakers it never heard. Acted "
            "emotions are clearer than everyday speech: expect less on spontaneous recordings.")


def timeline_figure(result: dict) -> go.Figure:
    """Each emotion's probability per window (plotted at the window's centre), with the emotion the
    model picked for each window as the hover text."""
    points = [w for w in result["timeline"] if not w["silent"]]
    times = [(w["start"] + w["end"]) / 2 for w in points]
    fig = go.Figure()
    for emotion in EMOTIONS:
        scores = [next(p["score"] for p in w["predictions"] if p["label"] == emotion) for w in points]
        fig.add_trace(go.Scatter(x=times, y=scores, name=emotion, mode="lines+markers", line_color=COLOURS[emotion],
                                 line_shape="spline", customdata=[[w["start"], w["end"]] for w in points],
                                 hovertemplate="%{customdata[0]:.1f}-%{customdata[1]:.1f} s: " + emotion
                                               + " %{y:.0%}<extra></extra>"))
    silent = [w for w in result["timeline"] if w["silent"]]
    for w in silent:
        fig.add_vrect(x0=w["start"], x1=w["end"], fillcolor="rgba(0,0,0,0.06)", line_width=0, layer="below")
    title = (f"Emotion over time: {len(points)} windows of {result['window_s']:g} s, one every {result['hop_s']:g} s"
             if len(result["timeline"]) > 1 else "A short clip: one window (longer recordings get a timeline)")
    fig.update_layout(title=title, height=330, margin=dict(l=10, r=10, t=50, b=70), xaxis_title="time (s)",
                      yaxis=dict(title="probability", range=[0, 1], tickformat=".0%"),
                      legend=dict(orientation="h", yanchor="top", y=-0.28, x=0, title=None),  # below: on a phone a legend above covers the title
                      xaxis_range=[0, max(result["duration_s"], 0.1)])
    return fig


def audio_figure(display: dict, duration: float) -> go.Figure:
    """The waveform and the log-mel spectrogram of the recording, on one time axis."""
    wave, spec = display["waveform"], display["spectrogram"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=list(wave["t"]) + list(wave["t"][::-1]), y=list(wave["max"]) + list(wave["min"][::-1]),
                             fill="toself", mode="lines", line_width=0.5, line_color="#374151", hoverinfo="skip",
                             name="waveform"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=spec["db"], x=spec["t"], y=spec["hz"], colorscale="Magma", zmin=-80, zmax=0,
                             colorbar=dict(title="dB", len=0.6, y=0.3),
                             hovertemplate="%{x:.2f} s, %{y:.0f} Hz: %{z:.0f} dB<extra></extra>"), row=2, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_yaxes(title_text="Hz (mel scale)", type="log", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", range=[0, max(duration, 0.1)], row=2, col=1)
    fig.update_layout(title="Waveform and log-mel spectrogram", height=380, showlegend=False,
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def summary(result: dict, started: float) -> str:
    best = result["predictions"][0]
    runner = result["predictions"][1]
    voiced = [w for w in result["timeline"] if not w["silent"]]
    lines = [f"**{best['label']}** ({best['score']:.0%}) says the {NAMES[result['model']]}; next: {runner['label']} "
             f"({runner['score']:.0%}). Speech from {result['speech_start_s']:.1f} to {result['speech_end_s']:.1f} s "
             f"of {result['duration_s']:.1f} s."]
    if len(result["timeline"]) > 1:
        changes = [w["label"] for w in voiced]
        runs = [label for i, label in enumerate(changes) if i == 0 or label != changes[i - 1]]
        lines.append(f"Over time ({len(voiced)} windows): {' → '.join(runs[:12])}{' …' if len(runs) > 12 else ''}.")
    lines += [f"_{note}_" for note in result["notes"] if note != SYNTHETIC_NOTE]  # the caveat is above the inputs
    lines.append(f"Time: {timing(result['latency_ms'], started)}.")
    return "\n\n".join(lines)


@user_errors
def recognize_emotion(audio: str | None, model: str = "cnn") -> tuple:
    """The emotion of a recording with `model` ("cnn" or "mfcc"): (summary, probabilities, timeline
    plot, waveform and spectrogram plot, JSON)."""
    started = time.perf_counter()
    if model not in VARIANTS:
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(VARIANTS)}.")
    if not audio:
        raise InputError("No audio received: record with the microphone or upload an audio file.")
    result = run_heavy(TASK, model, "recognize", audio, True)
    display = result.pop("display")
    label = {p["label"]: p["score"] for p in result["predictions"]}
    return (summary(result, started), label, timeline_figure(result), audio_figure(display, result["duration_s"]),
            result)


def build() -> gr.Blocks:
    """The tab's UI (loads no model until a request)."""
    max_minutes = Settings.from_env().max_audio_seconds / 60
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown("### Speech emotion recognition\nDoes a voice sound neutral, happy, sad, angry or fearful, and how "
                    "does that change over a longer recording (a 3-second window every second)? Upload a file (WAV, "
                    f"FLAC, MP3, OGG, M4A; up to {max_minutes:g} minutes) or record one. " + card_link(TASK))
        gr.Markdown(caveat(), elem_classes="synthetic-caveat")
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                audio = gr.Audio(FIRST[0], sources=["upload", "microphone"], type="filepath",
                                 label="Voice: upload or record", elem_id="ser-audio")
                model = gr.Radio(MODEL_CHOICES, value="cnn", label="Model")
                run = gr.Button("Recognise the emotion", variant="primary")
                examples = gr.Examples(EXAMPLE_ROWS, [audio, model], label="Examples (synthetic voices never heard in "
                                       "training)", example_labels=EXAMPLE_LABELS, api_name="load_emotion_example",
                                       api_visibility="private")
            with gr.Column(scale=3, min_width=300):
                info = gr.Markdown(elem_classes="result-summary")
                probabilities = gr.Label(label="Emotion probabilities (whole clip)", num_top_classes=5)
                timeline = gr.Plot(label="Emotion over time")
                signal = gr.Plot(label="Waveform and spectrogram")
                result = api_json()
        outputs = [info, probabilities, timeline, signal, result]
        run.click(recognize_emotion, [audio, model], outputs, api_name="recognize_emotion",
                  concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        for name, trigger in (("upload", audio.upload), ("recording", audio.stop_recording)):
            trigger(recognize_emotion, [audio, model], outputs, api_name=f"recognize_emotion_{name}",
                    api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT, trigger_mode="always_last")
        model.input(recognize_emotion, [audio, model], outputs, api_name="recognize_emotion_model",
                    api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT, trigger_mode="always_last")
        examples.load_input_event.then(recognize_emotion, [audio, model], outputs, api_name="run_emotion_example",
                                       api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, recognize_emotion, [audio, model], FIRST, outputs, name="first_emotion")
    return demo
