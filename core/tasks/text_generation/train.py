"""Train task 05's language model: a small GPT-2 (transformers' GPT2LMHeadModel) from scratch on
public-domain English (corpus.py), with a byte-level BPE tokenizer trained by `tokenizers`.

    .venv/bin/python -m core.tasks.text_generation.train            # full run: two stages (about 75 min on 2 cores)
    .venv/bin/python -m core.tasks.text_generation.train --resume   # continue an interrupted run
    .venv/bin/python -m core.tasks.text_generation.train --quick    # seconds-long smoke run

Progress goes to data/text_generation/<run>/train.log and history.json (one row per evaluation);
a checkpoint is written at every evaluation (weights as safetensors; the optimizer state, which
only this script reads back, as a torch file), so `--resume` continues where a run stopped.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from core.artifacts import training_log
from core.settings import apply_offline_defaults
from core.tasks.text_generation.corpus import DATA_DIR, Document, fetch, read_documents, split

apply_offline_defaults()

EOS = "<|endoftext|>"
SEED = 0


@dataclass(frozen=True)
class TrainConfig:
    vocab_size: int = 4096
    n_layer: int = 4
    n_head: int = 6
    n_embd: int = 192
    context: int = 256
    batch: int = 16
    steps: int = 3000
    lr: float = 2e-3
    warmup: int = 150
    weight_decay: float = 0.1
    eval_every: int = 250
    eval_windows: int = 160  # validation windows scored at each evaluation (the final one scores all)
    name: str = "lm_v1"
    init_from: str = ""  # a finished run whose weights, tokenizer and data this stage continues from


FULL = TrainConfig()
# The full recipe is two stages: 3,000 steps from scratch, then 2,000 more from those weights with a
# fresh, lower cosine schedule (the validation loss was still falling fast at the end of the first).
FULL_STAGES = (FULL, replace(FULL, steps=2000, lr=1e-3, warmup=50, name="lm_v1_stage2", init_from="lm_v1"))
QUICK = TrainConfig(vocab_size=300, n_layer=1, n_head=2, n_embd=32, context=32, batch=4, steps=6, warmup=2,
                    eval_every=3, eval_windows=4, name="quick")
QUICK_STAGES = (QUICK, replace(QUICK, steps=3, lr=1e-3, warmup=1, name="quick_stage2", init_from="quick"))


def train_tokenizer(texts: list[str], vocab_size: int, path: Path) -> "object":
    """A byte-level BPE tokenizer (GPT-2's scheme) learned from `texts`, saved as tokenizer.json."""
    from tokenizers import ByteLevelBPETokenizer

    tokenizer = ByteLevelBPETokenizer(add_prefix_space=False)
    tokenizer.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS],
                                  show_progress=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer


def encode(tokenizer, documents: list[Document]) -> np.ndarray:
    """All documents as one token stream, each followed by the end-of-text token."""
    eos = tokenizer.token_to_id(EOS)
    ids: list[int] = []
    for encoding in tokenizer.encode_batch([d.text for d in documents]):
        ids.extend(encoding.ids)
        ids.append(eos)
    return np.asarray(ids, dtype=np.uint16)


def build_model(cfg: TrainConfig, vocab_size: int, eos_id: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab_size, n_positions=cfg.context, n_embd=cfg.n_embd, n_layer=cfg.n_layer,
                        n_head=cfg.n_head, bos_token_id=eos_id, eos_token_id=eos_id, resid_pdrop=0.1,
                        embd_pdrop=0.1, attn_pdrop=0.1)
    return GPT2LMHeadModel(config)


def windows(tokens: np.ndarray, context: int) -> np.ndarray:
    """Non-overlapping (n, context + 1) windows over a token stream (inputs and next-token targets)."""
    n = (len(tokens) - 1) // context
    starts = np.arange(n) * context
    return np.stack([tokens[s:s + context + 1] for s in starts]).astype(np.int64)


def mean_loss(model, blocks: np.ndarray, batch: int = 32) -> float:
    """Mean next-token cross-entropy (nats) over `blocks`."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(blocks), batch):
            chunk = torch.from_numpy(blocks[i:i + batch])
            logits = model(chunk[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[:, 1:].reshape(-1),
                                                     reduction="sum")
            total += float(loss)
            count += chunk[:, 1:].numel()
    model.train()
    return total / max(count, 1)


def prepare(cfg: TrainConfig, run: Path, documents: list[Document] | None = None) -> dict[str, np.ndarray]:
    """Tokenizer and token streams of each split (cached in the run folder)."""
    from tokenizers import Tokenizer

    streams = {name: run / f"{name}.npy" for name in ("train", "validation", "test")}
    if all(p.exists() for p in streams.values()) and (run / "tokenizer.json").exists():
        return {name: np.load(p) for name, p in streams.items()}
    parts = split(documents if documents is not None else read_documents(fetch()))
    (run / "splits.json").write_text(json.dumps({name: len(docs) for name, docs in parts.items()}))
    train_tokenizer([d.text for d in parts["train"]], cfg.vocab_size, run / "tokenizer.json")
    tokenizer = Tokenizer.from_file(str(run / "tokenizer.json"))
    out = {name: encode(tokenizer, parts[name]) for name in streams}
    for name, tokens in out.items():
        np.save(streams[name], tokens)
    return out


def fit(cfg: TrainConfig, root: Path = DATA_DIR, resume: bool = False,
        documents: list[Document] | None = None) -> Path:
    """Train (or resume) the model; returns the run folder (model.safetensors, config, history)."""
    import torch
    from safetensors.torch import load_model, save_model
    from tokenizers import Tokenizer

    torch.manual_seed(SEED)
    run = root / cfg.name
    run.mkdir(parents=True, exist_ok=True)
    log = training_log("text_generation.train", run / "train.log")
    source = root / cfg.init_from if cfg.init_from else None
    if source is not None:  # a later stage reads exactly the data and tokenizer of the one before
        for name in ("tokenizer.json", "splits.json", "train.npy", "validation.npy", "test.npy"):
            if not (run / name).exists():
                shutil.copyfile(source / name, run / name)
    streams = prepare(cfg, run, documents)
    tokenizer = Tokenizer.from_file(str(run / "tokenizer.json"))
    eos = tokenizer.token_to_id(EOS)
    model = build_model(cfg, tokenizer.get_vocab_size(), eos)
    model.config.to_json_file(str(run / "model_config.json"))  # with a checkpoint: all an export needs
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    history: list[dict] = []
    step = offset = 0
    if source is not None:  # start from the previous stage's final weights; steps count on from it
        load_model(model, str(source / "checkpoint.safetensors"))
        history = json.loads((source / "history.json").read_text())
        step = offset = history[-1]["step"]
    if resume and (run / "checkpoint.safetensors").exists():
        load_model(model, str(run / "checkpoint.safetensors"))  # handles the tied input/output embedding
        state = torch.load(run / "optimizer.pt", weights_only=True)  # written by this script only
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        history = json.loads((run / "history.json").read_text())
        log.info("resumed at step %d", step)
    log.info("config %s; %s parameters; tokens: %s", asdict(cfg), f"{model.num_parameters():,}",
             {k: len(v) for k, v in streams.items()})
    train_tokens, validation = streams["train"], windows(streams["validation"], cfg.context)
    rng = np.random.default_rng([SEED, step])
    started = time.time() - (history[-1]["minutes"] * 60 if history else 0)  # minutes count on across resumes and stages

    def lr_at(i: int) -> float:
        i -= offset
        if i < cfg.warmup:
            return cfg.lr * (i + 1) / cfg.warmup
        progress = (i - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    model.train()
    while step < offset + cfg.steps:
        starts = rng.integers(0, len(train_tokens) - cfg.context - 1, size=cfg.batch)
        batch = torch.from_numpy(np.stack([train_tokens[s:s + cfg.context + 1] for s in starts]).astype(np.int64))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        logits = model(batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        last = step == offset + cfg.steps
        if step % cfg.eval_every == 0 or last:
            subset = validation if last else validation[:cfg.eval_windows]
            val = mean_loss(model, subset)
            row = {"step": step, "train_loss": round(float(loss.detach()), 4), "val_loss": round(val, 4),
                   "val_perplexity": round(math.exp(val), 2), "lr": round(lr_at(step - 1), 6),
                   "minutes": round((time.time() - started) / 60, 2)}
            history.append(row)
            log.info("step %d/%d %s", step, offset + cfg.steps, row)
            save_model(model, str(run / "checkpoint.safetensors"))
            torch.save({"optimizer": optimizer.state_dict(), "step": step}, run / "optimizer.pt")
            (run / "history.json").write_text(json.dumps(history, indent=1))
    log.info("training finished at step %d after %.1f min", step, (time.time() - started) / 60)
    return run


def sample_documents() -> list[Document]:
    """A committed 20,000-character sample of the corpus (5 documents): the data of quick runs."""
    from core.registry import EXAMPLES_DIR

    path = EXAMPLES_DIR / "text_generation" / "corpus_sample.json"
    return [Document(**d) for d in json.loads(path.read_text(encoding="utf-8"))]


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """`python -m core.train text_generation`: train (or finish an interrupted run), export the
    weights into `out_dir`, measure held-out perplexity against the trigram baseline, write the card."""
    from core.artifacts import file_size_mb, hardware, measure_latency_ms
    from core.tasks.text_generation import card
    from core.tasks.text_generation.adapter import Settings, load
    from core.tasks.text_generation.evaluate import WEIGHTS, evaluate, export

    stages = QUICK_STAGES if quick else FULL_STAGES
    cfg = stages[0]
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    root = out_dir.parent.parent / "runs" if quick else DATA_DIR  # a quick run stays in its temporary folder
    documents = sample_documents() * 21 if quick else None
    for stage in stages:  # a finished stage is skipped (its checkpoint is at its last step)
        run = fit(stage, root, resume=True, documents=documents)
    if not (run / "splits.json").exists():  # a run from before prepare() recorded it
        parts = split(documents if documents is not None else read_documents(fetch()))
        (run / "splits.json").write_text(json.dumps({name: len(docs) for name, docs in parts.items()}))
    export(run, out_dir)
    scores = evaluate(run, out_dir)
    history = json.loads((run / "history.json").read_text())
    new_tokens = 8 if quick else 60
    served = load("scratch", out_dir)
    latency = measure_latency_ms(lambda: served.generate("The", Settings(strategy="greedy", max_new_tokens=new_tokens,
                                                                         repetition_penalty=1.0, no_repeat_ngram_size=0)),
                                 repeats=3 if quick else 10)
    model = {**{k: v for k, v in asdict(cfg).items() if k not in ("name", "eval_every", "eval_windows", "init_from",
                                                                  "steps", "lr", "warmup")},
             "steps": sum(stage.steps for stage in stages),
             "stages": [{"steps": stage.steps, "lr": stage.lr, "warmup": stage.warmup} for stage in stages],
             "parameters": scores["parameters"], "size_mb": file_size_mb(out_dir / WEIGHTS), "hardware": hardware(),
             "minutes": history[-1]["minutes"] if history else 0, "latency_ms": latency,
             "latency_note": f"up to {new_tokens} new tokens, greedy, one request on {hardware()}, median"}
    card.curves_figure(history, card_dir / "figures" / "training_curves.png")
    metrics = card.build_metrics({"perplexity": scores["model_perplexity"], "trigram_perplexity": scores["trigram_perplexity"],
                                  "test_tokens": scores["test_tokens"]}, model,
                                 json.loads((run / "splits.json").read_text()), history,
                                 ["figures/training_curves.png"], quick)
    card.write_card(metrics, card_dir)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run")
    args = parser.parse_args()
    for stage in QUICK_STAGES if args.quick else FULL_STAGES:
        fit(stage, resume=args.resume)


if __name__ == "__main__":
    main()
