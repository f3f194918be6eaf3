"""Export task 05's trained language model and measure it on the held-out documents.

    .venv/bin/python -m core.tasks.text_generation.evaluate [--run data/text_generation/lm_v1] [--out DIR]

Export: float16 safetensors of the weights (the input and output embeddings are tied: saved
once), the model's config and the BPE tokenizer (JSON), into assets/models/text_generation/.
Evaluation: per-token perplexity on the test documents for the model (each 256-token window
scored with the context inside it) and for the Kneser-Ney trigram baseline on the same tokens.
Writes `evaluation.json` in the run folder.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import numpy as np

from core.settings import REPO_ROOT, apply_offline_defaults
from core.tasks.text_generation.corpus import DATA_DIR

apply_offline_defaults()

MODEL_DIR = REPO_ROOT / "assets" / "models" / "text_generation"
WEIGHTS = "gpt2_scratch.safetensors"


def export(run: Path, out_dir: Path = MODEL_DIR) -> Path:
    """The run's last checkpoint as float16 safetensors + config.json + tokenizer.json in `out_dir`."""
    from safetensors.torch import load_model, save_model
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config.from_json_file(str(run / "model_config.json")))
    load_model(model, str(run / "checkpoint.safetensors"))
    out_dir.mkdir(parents=True, exist_ok=True)
    save_model(model.half(), str(out_dir / WEIGHTS))
    config = {"task": "text_generation", "weights": WEIGHTS, "tokenizer": "tokenizer.json",
              "model": model.config.to_dict(), "history": json.loads((run / "history.json").read_text())}
    (out_dir / "config.json").write_text(json.dumps(config, indent=1))
    shutil.copyfile(run / "tokenizer.json", out_dir / "tokenizer.json")
    return out_dir


def load_model(model_dir: Path = MODEL_DIR):
    """The exported model (float32, eval mode) and its `tokenizers.Tokenizer`, without unpickling."""
    from safetensors.torch import load_model as load_weights
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    config = json.loads((Path(model_dir) / "config.json").read_text())
    model = GPT2LMHeadModel(GPT2Config.from_dict(config["model"]))
    load_weights(model, str(Path(model_dir) / config["weights"]), strict=True)
    return model.float().eval(), Tokenizer.from_file(str(Path(model_dir) / config["tokenizer"]))


def perplexity(model, tokens: np.ndarray) -> float:
    """Model perplexity per token of a token stream (non-overlapping windows of its context)."""
    from core.tasks.text_generation.train import mean_loss, windows

    return round(math.exp(mean_loss(model, windows(tokens, model.config.n_positions))), 2)


def evaluate(run: Path, model_dir: Path = MODEL_DIR) -> dict:
    """Perplexity of the exported model and of the trigram baseline on the test documents."""
    from core.tasks.text_generation.ngram import KneserNeyTrigram

    model, tokenizer = load_model(model_dir)
    test, train = np.load(run / "test.npy"), np.load(run / "train.npy")
    baseline = KneserNeyTrigram(tokenizer.get_vocab_size()).fit(train)
    result = {
        "test_tokens": int(len(test)),
        "model_perplexity": perplexity(model, test),
        "trigram_perplexity": round(baseline.perplexity(test), 2),
        "parameters": int(model.num_parameters()),
    }
    (run / "evaluation.json").write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=DATA_DIR / "lm_v1")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args()
    export(args.run, args.out)
    print(json.dumps(evaluate(args.run, args.out), indent=1))


if __name__ == "__main__":
    main()
