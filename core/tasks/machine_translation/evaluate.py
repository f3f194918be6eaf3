"""Export task 06's trained translator and measure it on the held-out sentences.

    .venv/bin/python -m core.tasks.machine_translation.evaluate [--run data/machine_translation/marian_v1] [--out DIR]

Export: float16 safetensors of the weights (the embedding shared by encoder, decoder and output
layer saved once), the model's config and the tokenizer (JSON), into
assets/models/machine_translation/. Evaluation, on sentences of documents never seen in training:
BLEU and chrF (sacrebleu) of en -> es and es -> en against Apertium, the teacher; and the round
trip en -> es -> en against the original English, for the neural model and for Apertium. Writes
`evaluation.json` in the run folder.
"""
from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from core.settings import REPO_ROOT, apply_offline_defaults
from core.tasks.machine_translation.corpus import DATA_DIR, Pair, build

apply_offline_defaults()

MODEL_DIR = REPO_ROOT / "assets" / "models" / "machine_translation"
WEIGHTS = "marian_en_es.safetensors"
NUM_BEAMS = 4  # beam search width of the evaluation and of the app


def export(run: Path, out_dir: Path = MODEL_DIR) -> Path:
    """The run's last checkpoint as float16 safetensors + config.json + tokenizer.json in `out_dir`."""
    from safetensors.torch import load_model as load_weights
    from safetensors.torch import save_model
    from transformers import MarianConfig, MarianMTModel

    from core.tasks.machine_translation.model import TAGS

    model = MarianMTModel(MarianConfig.from_json_file(str(run / "model_config.json")))
    load_weights(model, str(run / "checkpoint.safetensors"))
    out_dir.mkdir(parents=True, exist_ok=True)
    save_model(model.half(), str(out_dir / WEIGHTS))
    config = {"task": "machine_translation", "weights": WEIGHTS, "tokenizer": "tokenizer.json",
              "languages": sorted(TAGS), "tags": TAGS, "num_beams": NUM_BEAMS,
              "teacher": "Apertium eng-spa / spa-eng (sequence-level distillation)",
              "model": model.config.to_dict(), "history": json.loads((run / "history.json").read_text())}
    (out_dir / "config.json").write_text(json.dumps(config, indent=1))
    shutil.copyfile(run / "tokenizer.json", out_dir / "tokenizer.json")
    return out_dir


def load_model(model_dir: Path = MODEL_DIR):
    """The exported model (float32, eval mode), its `tokenizers.Tokenizer` and config, without unpickling."""
    from safetensors.torch import load_model as load_weights
    from tokenizers import Tokenizer
    from transformers import MarianConfig, MarianMTModel

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    model = MarianMTModel(MarianConfig.from_dict(config["model"]))
    load_weights(model, str(model_dir / config["weights"]), strict=True)
    return model.float().eval(), Tokenizer.from_file(str(model_dir / config["tokenizer"])), config


def evaluate(run: Path, model_dir: Path, test: list[Pair], quick: bool = False) -> dict:
    """BLEU / chrF against Apertium both ways, and round-trip chrF of both engines, on `test`."""
    import sacrebleu

    from core.tasks.machine_translation.model import translate_batch

    model, tokenizer, config = load_model(model_dir)
    beams = 1 if quick else config["num_beams"]
    english, spanish, english_back = [p.en for p in test], [p.es for p in test], [p.en_back for p in test]
    to_spanish = translate_batch(model, tokenizer, english, "es", num_beams=beams)
    to_english = translate_batch(model, tokenizer, spanish, "en", num_beams=beams)
    round_trip = translate_batch(model, tokenizer, to_spanish, "en", num_beams=beams)
    metrics = {
        "bleu_en_es": sacrebleu.corpus_bleu(to_spanish, [spanish]).score,
        "chrf_en_es": sacrebleu.corpus_chrf(to_spanish, [spanish]).score,
        "bleu_es_en": sacrebleu.corpus_bleu(to_english, [english_back]).score,
        "chrf_es_en": sacrebleu.corpus_chrf(to_english, [english_back]).score,
        "round_trip_chrf": sacrebleu.corpus_chrf(round_trip, [english]).score,
        "apertium_round_trip_chrf": sacrebleu.corpus_chrf(english_back, [english]).score,
    }
    sentences = [{"doc": p.doc, "en": p.en, "apertium_es": p.es, "neural_es": es, "apertium_back": p.en_back,
                  "neural_back": back, "neural_es_en": en,
                  "chrf_en_es": round(sacrebleu.sentence_chrf(es, [p.es]).score, 1),
                  "neural_round_trip_chrf": round(sacrebleu.sentence_chrf(back, [p.en]).score, 1),
                  "apertium_round_trip_chrf": round(sacrebleu.sentence_chrf(p.en_back, [p.en]).score, 1)}
                 for p, es, en, back in zip(test, to_spanish, to_english, round_trip)]
    result = {"metrics": {k: round(v, 2) for k, v in metrics.items()}, "test_sentences": len(test),
              "num_beams": beams, "parameters": int(model.num_parameters()), "sentences": sentences}
    (run / "evaluation.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


def write_results(cfg, run: Path, out_dir: Path, card_dir: Path, result: dict, quick: bool,
                  splits: dict | None = None) -> dict:
    """Latency of both engines, then metrics.json, the figures and the card. `splits`: sentences and
    documents per split (corpus.split_counts), by default those of the corpus a run of `quick` uses."""
    from core.artifacts import file_size_mb, hardware, measure_latency_ms
    from core.tasks.machine_translation import card
    from core.tasks.machine_translation.adapter import load, translate
    from core.tasks.machine_translation.apertium import installed_pairs

    if splits is None:
        from core.tasks.machine_translation.corpus import sample_pairs, split_counts

        splits = split_counts(sample_pairs() if quick else build())
    history = json.loads((run / "history.json").read_text())
    sentence = "The committee will meet again next week to discuss the new budget."
    neural = load("neural", out_dir)
    engines = {"neural": neural}
    import torch

    from core.settings import Settings

    torch.set_num_threads(Settings.from_env().torch_threads or 1)  # as the app serves (app.launch)
    repeats = {"repeats": 1, "warmup": 1} if quick else {"repeats": 20}
    latency = {"neural": measure_latency_ms(lambda: translate(sentence, "en", "es", "neural", engines.__getitem__),
                                            **repeats)}
    if ("en", "es") in installed_pairs():
        engines["apertium"] = load("apertium", out_dir)
        latency["apertium"] = measure_latency_ms(
            lambda: translate(sentence, "en", "es", "apertium", engines.__getitem__), **repeats)
    note = f"one {len(sentence.split())}-word English sentence to Spanish and back, with detection, on {hardware()}, median"
    model = {**{k: v for k, v in asdict(cfg).items() if k not in ("name", "eval_every", "eval_sentences", "threads")},
             "parameters": result["parameters"], "size_mb": file_size_mb(out_dir / WEIGHTS), "hardware": hardware(),
             "num_beams": result["num_beams"], "minutes": history[-1]["minutes"] if history else 0,
             "latency_ms": latency["neural"], "latency_note": note}
    figures = [card.curves_figure(history, card_dir / "figures" / "training_curves.png"),
               card.round_trip_figure(result["sentences"], card_dir / "figures" / "round_trip_chrf.png")]
    metrics = card.build_metrics(result, model, latency.get("apertium"), note, splits, history,
                                 [f.relative_to(card_dir).as_posix() for f in figures], quick)
    card.write_card(metrics, card_dir)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=DATA_DIR / "marian_v1")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args()
    export(args.run, args.out)
    result = evaluate(args.run, args.out, build()["test"])
    print(json.dumps(result["metrics"], indent=1))


if __name__ == "__main__":
    main()
