"""Build notebooks/07_speech_emotion_recognition.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_speech_emotion_recognition.py            # write the notebook
    python scripts/make_notebook_speech_emotion_recognition.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "07_speech_emotion_recognition.ipynb"

CELLS = [
    ("md", """# 07 Speech emotion recognition: a log-mel CNN and an MFCC baseline, on synthetic acted prosody

No emotional-speech corpus installs offline, so this project **generates one**: eSpeak NG's voices read
public-domain sentences with five emotions rendered as prosody profiles (pitch, range, rate, pauses, emphasis,
voice quality), with jitter for every clip and word, in random recording conditions. The models below have never
heard a human voice; on real recordings they are unreliable. With RAVDESS, CREMA-D or TESS on disk,
`python -m core.train speech_emotion_recognition --data DIR` retrains both on real acted speech.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run on a tiny corpus.
* default: the shipped models and their evaluation.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train speech_emotion_recognition`."""),
    ("code", """import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.plots import confusion_matrix_figure, training_curves_figure
from core.registry import EXAMPLES_DIR, TASKS
from core.tasks.speech_emotion_recognition import corpus, features
from core.tasks.speech_emotion_recognition.adapter import load
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS, PROFILES

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notebook check, no widgets here
QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["speech_emotion_recognition"]
COLOURS = {"neutral": "#6b7280", "happy": "#d97706", "sad": "#2563eb", "angry": "#dc2626", "fearful": "#7c3aed"}
print(f"quick={QUICK} retrain={RETRAIN}")"""),
    ("md", """## The corpus: voices, split by voice
A *voice* is an eSpeak NG voice variant (m1..m8, f1..f5, klatt, croak and 50 more); each clip also gets one of 8
English accents. Validation and test voices are never heard in training, and they read sentences from other
documents than the training sentences."""),
    ("code", """split = corpus.voice_split()
pd.DataFrame({name: {"voices": len(v), "female voices": len(set(v) & set(corpus.FEMALE)), "examples": ", ".join(v[:6]) + " ..."}
              for name, v in split.items()}).T"""),
    ("md", """## Emotions as prosody profiles
Each setting is drawn per clip around its profile's mean with the standard deviation shown (pitch and range on
eSpeak's 0-99 scales, rate in words per minute), plus each voice's own offsets, so neighbouring emotions overlap."""),
    ("code", """rows = {emotion: {name: f"{mean:g} ± {sd:g}" for name, (mean, sd) in vars(profile).items()}
        for emotion, profile in PROFILES.items()}
pd.DataFrame(rows).T"""),
    ("md", "One test voice says the same sentence with each emotion: waveform, log-mel spectrogram and pitch track (YIN)."),
    ("code", """import librosa

from core.tasks.speech_emotion_recognition.sentences import load as load_sentences
sentence = load_sentences()["test"][7]
fig = make_subplots(rows=2, cols=5, subplot_titles=EMOTIONS, vertical_spacing=0.12, row_heights=[0.6, 0.4])
pitch_rows = []
for k, emotion in enumerate(EMOTIONS):
    spec = corpus.ClipSpec(k, "test", emotion, "m2", "en-us", sentence, seed=42)
    samples, prosody = corpus.speech(spec)
    mel = features.log_mel(features.windows(samples)[0][2])
    fig.add_trace(go.Heatmap(z=mel[:, ::2].round(1), colorscale="Magma", showscale=False), row=1, col=k + 1)  # light
    f0 = librosa.yin(samples, fmin=65, fmax=500, sr=features.SAMPLE_RATE, frame_length=1024, hop_length=256)
    t = np.arange(len(f0)) * 256 / features.SAMPLE_RATE
    fig.add_trace(go.Scatter(x=t, y=f0, mode="markers", marker=dict(size=3, color=COLOURS[emotion]), showlegend=False),
                  row=2, col=k + 1)
    pitch_rows.append({"emotion": emotion, "seconds": round(len(samples) / features.SAMPLE_RATE, 2),
                       "median pitch (Hz)": round(float(np.median(f0)), 1), **{k2: round(prosody[k2], 2) for k2 in
                       ("pitch", "pitch_range", "rate", "pause", "tremolo", "drive", "tilt", "breath")}})
fig.update_yaxes(range=[60, 400], row=2)
fig.update_layout(height=520, title=f"“{sentence}”: log-mel window (top) and pitch (bottom)",
                  margin=dict(l=10, r=10, t=70, b=10))
fig.show()
pd.DataFrame(pitch_rows)"""),
    ("md", """## What separates the emotions
The baseline's statistics of a sample of training clips: pitch level (semitones above 100 Hz), pitch span,
energy peaks per second (a syllable-rate proxy) and spectral centroid. The overlap between boxes is the point."""),
    ("code", """from core.tasks.speech_emotion_recognition.data import DATA_DIR, load_split
stored = DATA_DIR / "synthetic_v1" / "features"
if not QUICK and (stored / "train.npz").exists():
    sample = load_split(stored, "train")
    stats, labels = sample.stats[:1000], sample.labels[:1000]
else:
    specs = corpus.plan("train", 40 if QUICK else 300)
    windows = [corpus.render(s)[0] for s in specs]
    stats = features.stats_batch(np.stack(windows))
    labels = np.array([EMOTIONS.index(s.emotion) for s in specs])
frame = pd.DataFrame(stats.round(3), columns=features.STAT_NAMES).assign(emotion=[EMOTIONS[i] for i in labels])
shown = ["f0_median_st", "f0_span_st", "energy_peaks_per_s", "centroid_mean_khz"]
long = frame.melt(id_vars="emotion", value_vars=shown)
px.box(long, x="emotion", y="value", color="emotion", facet_col="variable", color_discrete_map=COLOURS,
       points=False).update_yaxes(matches=None, showticklabels=True).update_layout(height=380, showlegend=False)"""),
    ("md", """## Training
`python -m core.train speech_emotion_recognition` synthesises and featurises the corpus once (kept in `data/`),
fits the baseline (C chosen on the validation voices) and trains the CNN (AdamW, cosine schedule, SpecAugment
masks; the epoch with the best validation macro F1 is kept). Here, a quick run trains on a tiny corpus."""),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_speech_emotion_")) if QUICK else None
    metrics, model_dir, card_dir = run("speech_emotion_recognition", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
cnn, mfcc = metrics["variants"]["cnn"], metrics["variants"]["mfcc"]
print(cnn["model"]["architecture"])
print(f"trained in {cnn['model']['minutes']} min (+ {cnn['model']['data_minutes']} min of synthesis and features) "
      f"on {cnn['model']['hardware']}")
print("clips:", cnn["data"]["splits"], "voices:", cnn["data"]["voices"])
training_curves_figure(cnn["history"], title="CNN: loss and accuracy per epoch (validation voices)")"""),
    ("code", """from core.tasks.speech_emotion_recognition.model import load as load_cnn
network = load_cnn(Path(model_dir))
print(network)
print(f"{sum(p.numel() for p in network.parameters()):,} parameters")"""),
    ("md", "## Evaluation on voices never heard in training"),
    ("code", """pd.DataFrame({"log-mel CNN": cnn["metrics"], "MFCC baseline": mfcc["metrics"]})"""),
    ("code", """for name, block in (("log-mel CNN", cnn), ("MFCC baseline", mfcc)):
    cm = block["confusion_matrix"]
    confusion_matrix_figure(cm["labels"], cm["matrix"], title=f"{name}: confusion matrix").update_layout(height=380).show()"""),
    ("md", """## Error analysis
Accuracy per emotion, per recording condition (noise, a room), per test voice and per accent; then the most
confident mistakes."""),
    ("code", """from IPython.display import display
for table in cnn["tables"] + mfcc["tables"]:
    print(table["title"])
    display(pd.DataFrame(table["rows"], columns=table["columns"]))"""),
    ("md", """## Interpretability
The baseline is linear: its standardised coefficients say which statistics push towards each emotion. For the CNN,
the gradient of an emotion's logit with respect to the input log-mel (a saliency map, taken on the request's own
input tensor) shows which time-frequency regions the decision rests on."""),
    ("code", """from core.tasks.speech_emotion_recognition.baseline import LinearBaseline
linear = LinearBaseline(Path(model_dir))
top = {emotion: ", ".join(f"{features.STAT_NAMES[i]} ({linear.coef[k, i]:+.2f})"
                          for i in np.argsort(-linear.coef[k])[:4]) for k, emotion in enumerate(EMOTIONS)}
pd.DataFrame.from_dict(top, orient="index", columns=["statistics that push towards it most"])"""),
    ("code", """import soundfile
import torch

clip, rate = soundfile.read(EXAMPLES_DIR / "speech_emotion_recognition" / "angry.wav", dtype="float32")
window = features.analysis_windows(clip)[0][2]
mel = torch.from_numpy(features.log_mel(window[None])).requires_grad_(True)
logits = network(mel)
target = int(logits.argmax())
saliency, = torch.autograd.grad(logits[0, target], mel)
fig = make_subplots(rows=1, cols=2, subplot_titles=("log-mel input", f"|gradient| of the {EMOTIONS[target]} logit"))
fig.add_trace(go.Heatmap(z=mel[0, :, ::2].detach().numpy().round(1), colorscale="Magma", showscale=False), row=1, col=1)
fig.add_trace(go.Heatmap(z=(saliency[0, :, ::2].abs() / saliency.abs().max()).numpy().round(2), colorscale="Viridis",
                         showscale=False), row=1, col=2)
fig.update_layout(height=320, margin=dict(l=10, r=10, t=50, b=10))"""),
    ("md", """## Inference through the adapter
What the tab and `/recognize_emotion` return: the whole clip's probabilities and a timeline (3-second windows, one
every second). This example is one test voice changing emotion every sentence."""),
    ("code", """served = load("cnn", Path(model_dir))
result = served.recognize(str(EXAMPLES_DIR / "speech_emotion_recognition" / "emotion_changes.flac"))
print(result["predictions"][:3], result["notes"][0][:80], "...")
times = [(w["start"] + w["end"]) / 2 for w in result["timeline"] if not w["silent"]]
fig = go.Figure([go.Scatter(x=times, y=[next(p["score"] for p in w["predictions"] if p["label"] == e)
                                        for w in result["timeline"] if not w["silent"]],
                            name=e, line_color=COLOURS[e]) for e in EMOTIONS])
manifest = load_json(EXAMPLES_DIR / "speech_emotion_recognition" / "examples.json")[-1]
for segment in manifest["segments"]:
    fig.add_vrect(x0=segment["start"], x1=segment["end"], fillcolor=COLOURS[segment["emotion"]], opacity=0.08,
                  line_width=0, annotation_text=segment["emotion"], annotation_position="top left")
fig.update_layout(height=320, yaxis_range=[0, 1], xaxis_title="time (s)", yaxis_title="probability",
                  title="Emotion over time (shaded: what the voice was told to sound like)")"""),
    ("md", "## Export\nThe CNN as safetensors, the baseline as numpy arrays (no pickle), and config.json."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:24s} {path.stat().st_size / 1e6:.3f} MB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
