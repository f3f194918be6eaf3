"""Task 08 tab: speech to text, from a file or live from the microphone.

UI wiring only: recognition lives in core/tasks/speech_recognition/. A file is read and checked
here (core.audio: formats, rates, limits), cut into chunks at pauses, and each chunk is recognised
in the task's worker pool (core/workers.py), so the progress bar moves between chunks, every chunk
has its own time budget, and other tabs stay responsive. Public endpoint:

    /transcribe(audio, engine="whisper") -> (summary, transcript, plot, segments table, SRT file,
        VTT file, JSON with text, segments [{start, end, text, words: [{start, end, word, probability}]}],
        language, engine, duration_s, real_time_factor, timings)

The Live sub-tab streams the microphone to `live_chunk` (private event) every second; see
core/tasks/speech_recognition/live.py for when words become final.
"""
from __future__ import annotations

import contextlib
import functools
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from gradio.utils import get_upload_folder

from core import audio as audio_input
from core.registry import EXAMPLES_DIR
from core.settings import Settings
from core.tasks.speech_recognition import hub, live
from core.tasks.speech_recognition.adapter import ENGINE_NAMES, ENVELOPE_S, RATE, Progress, transcribe_iter
from core.tasks.speech_recognition.subtitles import to_srt, to_vtt
from core.workers import run_heavy
from demos.common import HEAVY_CONCURRENCY_LIMIT, api_json, card_link, output_file, show_first_result, timing, \
    user_errors

TASK = "speech_recognition"
EXAMPLES = EXAMPLES_DIR / TASK
FIRST = [str(EXAMPLES / "austen_paragraph.mp3"), "whisper"]
EXAMPLE_ROWS = [FIRST, [str(EXAMPLES / "austen_amiable.flac"), "pocketsphinx"],
                [str(EXAMPLES / "cards_stereo_44k.ogg"), "whisper"]]
EXAMPLE_LABELS = ["Sense and Sensibility, 5 sentences (MP3)", "One sentence, PocketSphinx (FLAC)",
                  "Playing cards, stereo 44.1 kHz (OGG)"]
COLUMNS = ["start", "end", "text"]
SEGMENT_COLOURS = ("rgba(31, 119, 180, 0.18)", "rgba(255, 127, 14, 0.18)")
LIVE_ENGINE = "whisper"  # PocketSphinx, re-reading the open audio at every update, needed more CPU than Whisper
LIVE_SESSIONS = 8  # recordings streaming at once: each holds its stream event open while it records; its handler
# only appends audio, and decodes share the task's worker pool (busy: the decode waits for a later piece)
run_in_worker = functools.partial(run_heavy, TASK)


def engine_choices() -> list[tuple[str, str]]:
    """The engine picker; the Hub engine says when it is not installed (choosing it explains how)."""
    return [("Whisper tiny.en (most accurate)", "whisper"), ("PocketSphinx (classic HMM, less accurate)", "pocketsphinx"),
            ("Whisper base.en from the Hub (opt-in)" + ("" if hub.available() else ": not installed"), "hub")]


def clock(seconds: float) -> str:
    """12.34 -> "0:12.3"; 3723.4 -> "1:02:03.4"."""
    tenths = int(round(max(0.0, seconds) * 10))
    minutes, tenths = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    secs = f"{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes}:{secs}"


def timeline_figure(peaks: np.ndarray, segments: list[dict]) -> go.Figure:
    """The waveform's envelope with each segment shaded and its text on hover."""
    times = np.arange(len(peaks)) * ENVELOPE_S
    fig = go.Figure(go.Scatter(x=np.concatenate([times, times[::-1]]), y=np.concatenate([peaks, -peaks[::-1]]),
                               fill="toself", mode="lines", line_width=0.5, line_color="#4b5563", hoverinfo="skip",
                               name="waveform"))
    for i, segment in enumerate(segments):
        fig.add_vrect(x0=segment["start"], x1=segment["end"], fillcolor=SEGMENT_COLOURS[i % 2], line_width=0, layer="below")
    if segments:
        fig.add_trace(go.Scatter(x=[(s["start"] + s["end"]) / 2 for s in segments], y=[0] * len(segments), mode="markers",
                                 marker=dict(size=10, opacity=0), name="segments", hovertemplate="%{text}<extra></extra>",
                                 text=[f"{clock(s['start'])}-{clock(s['end'])}: {s['text'][:80]}" for s in segments]))
    fig.update_layout(height=200, margin=dict(l=10, r=10, t=10, b=30), showlegend=False, xaxis_title="seconds",
                      template="plotly_white",
                      yaxis=dict(visible=False, range=[-1.05 * max(float(peaks.max(initial=0)), 1e-3),
                                                       1.05 * max(float(peaks.max(initial=0)), 1e-3)]))
    return fig


def segment_table(segments: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([[clock(s["start"]), clock(s["end"]), s["text"]] for s in segments], columns=COLUMNS)


def summary(result: dict, started: float) -> str:
    n = len(result["segments"])
    chunks = len(result["chunks"])
    lines = [f"**{result['engine_name']}** transcribed {result['duration_s']:.1f} s of audio into {n} segment"
             f"{'s' if n != 1 else ''} ({chunks} chunk{'s' if chunks != 1 else ''} at pauses): real-time factor "
             f"**{result['real_time_factor']:.2f}** (the model's time / the audio's duration; lower is faster).",
             *[f"_{note}_" for note in result["notes"]],
             f"Time: {timing(result['timings_ms']['model'], started)}."]
    return "\n\n".join(lines)


@user_errors
def transcribe_file(audio: str | None, engine: str = "whisper", progress: gr.Progress = gr.Progress()) -> tuple:
    """Transcribe an audio file with `engine` ("whisper", "pocketsphinx" or "hub"): (summary,
    transcript, waveform plot, segments, SRT file, VTT file, JSON)."""
    started = time.perf_counter()
    peaks = np.zeros(0, np.float32)
    result: dict = {}
    for step in transcribe_iter(audio, engine, run_in_worker):
        if isinstance(step, Progress):
            peaks = step.envelope if step.envelope is not None else peaks
            progress((step.done, step.total), desc="Transcribing", unit="chunks")
        else:
            result = step
    srt, vtt = output_file("transcript.srt"), output_file("transcript.vtt")
    srt.write_text(to_srt(result["segments"]), encoding="utf-8")
    vtt.write_text(to_vtt(result["segments"]), encoding="utf-8")
    return (summary(result, started), result["text"], timeline_figure(peaks, result["segments"]),
            segment_table(result["segments"]), str(srt), str(vtt), result)


# ----------------------------------------------------------------------------- live


def live_status(session: live.LiveSession) -> str:
    if session.stopped:
        return f"**{session.stopped}**"
    final = len(session.final)
    parts = [f"{ENGINE_NAMES[session.engine]}: {session.received_s:.0f} s heard, {final} segment"
             f"{'s' if final != 1 else ''} final"]
    if session.decodes:
        parts.append(f"last decodes took {session.decode_s / session.decodes:.2f} s on average")
    if session.busy_skips:
        parts.append(f"the server was busy {session.busy_skips} time{'s' if session.busy_skips != 1 else ''}, so words "
                     "may come late")
    return "; ".join(parts) + "."


def _discard(path: str) -> None:
    """Delete a streamed piece once read: a recording uploads up to ten a second, and Gradio does not
    use them again. Only files in Gradio's upload folder are touched (named by their content)."""
    file = Path(path).resolve()
    if Path(get_upload_folder()).resolve() in file.parents:
        file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            file.parent.rmdir()


def live_start() -> tuple:
    """A new recording: a fresh session."""
    session = live.LiveSession(engine=LIVE_ENGINE)
    return session, "", f"Listening with {ENGINE_NAMES[LIVE_ENGINE]}… speak; words appear every second or two."


@user_errors
def live_chunk(chunk: str | None, session: live.LiveSession | None) -> tuple:
    """One streamed piece of microphone audio: (session, transcript so far, status)."""
    if session is None:
        session = live.LiveSession(engine=LIVE_ENGINE)
    if chunk and Path(chunk).is_file():  # a piece identical to another one's may be gone already (see _discard)
        samples = audio_input.load(chunk, RATE, max_seconds=60)
        _discard(chunk)
        session = live.add_audio(session, samples, run_in_worker, Settings.from_env().max_audio_seconds)
    return session, session.text, live_status(session)


@user_errors
def live_stop(session: live.LiveSession | None) -> tuple:
    """The recording stopped: the rest of the audio is decoded and everything becomes final."""
    if session is None:
        return None, gr.skip(), "Not recording."
    session = live.finish(session, run_in_worker)
    return session, session.text, live_status(session) + " Recording stopped."


def build() -> gr.Blocks:
    """The tab's UI (loads no engine until a request)."""
    max_minutes = Settings.from_env().max_audio_seconds / 60
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Speech recognition\nWrites down English speech, with the time of every segment and word, and "
            "subtitles to download. Whisper tiny.en is a small pretrained neural model; PocketSphinx, a classic "
            f"HMM recogniser, needs less memory but is much less accurate. Files up to {max_minutes:g} minutes. " + card_link(TASK))
        with gr.Tabs():
            with gr.Tab("File"):
                with gr.Row():
                    with gr.Column(scale=2, min_width=280):
                        audio = gr.Audio(FIRST[0], sources=["upload", "microphone"], type="filepath",
                                         label="Audio: upload (WAV, FLAC, MP3, OGG, M4A) or record", elem_id="asr-audio",
                                         buttons=["download"])
                        engine = gr.Radio(engine_choices(), value="whisper", label="Engine",
                                          info=None if hub.available() else f"The Hub engine is installed once with {hub.COMMAND}")
                        run = gr.Button("Transcribe", variant="primary")
                        gr.Examples(EXAMPLE_ROWS, [audio, engine], label="Examples (LibriVox and CMU test recordings)",
                                    example_labels=EXAMPLE_LABELS, api_name="load_speech_example",
                                    api_visibility="private")
                    with gr.Column(scale=3, min_width=300):
                        info = gr.Markdown(elem_classes="result-summary")
                        transcript = gr.Textbox(label="Transcript", lines=5, max_lines=15, interactive=False,
                                                buttons=["copy"], elem_id="asr-transcript")
                        plot = gr.Plot(label="Waveform and segments (hover for the text)")
                        segments = gr.Dataframe(headers=COLUMNS, label="Segments", interactive=False, max_height=300,
                                                wrap=True, elem_id="asr-segments")
                        with gr.Row():
                            srt = gr.File(label="Subtitles (SRT)", height=60)
                            vtt = gr.File(label="Subtitles (WebVTT)", height=60)
                        result = api_json()
            with gr.Tab("Live"):
                gr.Markdown("Press record and speak: the transcript grows as you talk. The last words may still "
                            "change until the next update agrees with them, or you pause. Whisper tiny.en reads the "
                            "open audio again every 1.5 s (greedy decoding, so a little less accurate than a file). "
                            f"The audio is kept only while you record, at most {max_minutes:g} minutes.")
                with gr.Row():
                    with gr.Column(scale=2, min_width=280):
                        mic = gr.Audio(sources=["microphone"], streaming=True, type="filepath", label="Microphone",
                                       elem_id="asr-mic")
                    with gr.Column(scale=3, min_width=300):
                        live_text = gr.Textbox(label="Live transcript", lines=8, max_lines=20, interactive=False,
                                               buttons=["copy"], elem_id="asr-live-transcript")
                        live_info = gr.Markdown(elem_id="asr-live-status")
                session = gr.State(None)
        outputs = [info, transcript, plot, segments, srt, vtt, result]
        run.click(transcribe_file, [audio, engine], outputs, api_name="transcribe", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        live_outputs = [session, live_text, live_info]
        mic.start_recording(live_start, None, live_outputs, api_name="live_start", api_visibility="private",
                            queue=False)
        mic.stream(live_chunk, [mic, session], live_outputs, api_name="live_chunk",
                   api_visibility="private", stream_every=1.0, time_limit=Settings.from_env().max_audio_seconds,
                   concurrency_limit=LIVE_SESSIONS, show_progress="hidden")
        mic.stop_recording(live_stop, [session], live_outputs, api_name="live_stop", api_visibility="private",
                           concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, transcribe_file, [audio, engine], FIRST, outputs, name="first_transcription")
    return demo
