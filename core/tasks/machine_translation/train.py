"""Train task 06's neural translator: a small Marian transformer for English <-> Spanish, distilled
from Apertium (corpus.py), with a shared SentencePiece-style BPE vocabulary (model.py).

    .venv/bin/python -m core.tasks.machine_translation.train            # full run (about 35 min on 2 cores)
    .venv/bin/python -m core.tasks.machine_translation.train --resume   # continue an interrupted run
    .venv/bin/python -m core.tasks.machine_translation.train --quick    # seconds-long smoke run

`python -m core.train machine_translation` does the same, then exports, evaluates and writes the
card. Progress goes to data/machine_translation/<run>/train.log and history.json (one row per
evaluation, with the validation loss and greedy BLEU / chrF against Apertium); a checkpoint is
written at every evaluation (weights as safetensors; the optimizer state, which only this script
reads back, as a torch file), so a stopped run continues where it was.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.artifacts import training_log
from core.settings import Settings, apply_offline_defaults
from core.tasks.machine_translation.corpus import DATA_DIR, Pair, build, sample_pairs, split_counts
from core.tasks.machine_translation.model import build_model, source_ids, target_ids, train_tokenizer, translate_batch

apply_offline_defaults()

SEED = 0
BUCKET = 16  # batches drawn together and grouped by length (less padding)


@dataclass(frozen=True)
class TrainConfig:
    vocab_size: int = 6000
    d_model: int = 192
    encoder_layers: int = 3
    decoder_layers: int = 3
    heads: int = 4
    ffn: int = 768
    max_len: int = 96        # tokens per sentence, tag and </s> included (longer pairs are left out)
    batch: int = 64          # sentence pairs per step (both directions mixed)
    steps: int = 2000
    lr: float = 7e-4
    warmup: int = 200
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    eval_every: int = 200
    eval_sentences: int = 100  # validation sentences per direction translated (greedy) at each evaluation
    threads: int = 2         # torch threads; TORCH_THREADS overrides (1 when another job shares the cores)
    name: str = "marian_v1"


FULL = TrainConfig()
QUICK = TrainConfig(vocab_size=400, d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64, max_len=64,
                    batch=8, steps=6, warmup=2, eval_every=3, eval_sentences=4, name="quick")


def examples(pairs: list[Pair]) -> list[tuple[str, str, str]]:
    """(target language, source sentence, target sentence) in both directions:
    en -> es is (English, Apertium's Spanish), es -> en is (that Spanish, Apertium's English of it)."""
    return [row for p in pairs for row in (("es", p.en, p.es), ("en", p.es, p.en_back))]


def encode(tokenizer, rows: list[tuple[str, str, str]], max_len: int) -> dict[str, np.ndarray]:
    """Token ids of every example that fits `max_len`, as flat arrays with offsets (no pickles)."""
    sources, targets = [], []
    for target, source, translation in rows:
        src = tokenizer.encode(source, add_special_tokens=False).ids
        tgt = tokenizer.encode(translation, add_special_tokens=False).ids
        if len(src) + 2 <= max_len and len(tgt) + 1 <= max_len:
            sources.append(source_ids(tokenizer, source, target, max_len))
            targets.append(target_ids(tokenizer, translation, max_len))

    def flat(seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(s) for s in seqs])
        return np.asarray([t for s in seqs for t in s], dtype=np.uint16), offsets

    src_ids, src_offsets = flat(sources)
    tgt_ids, tgt_offsets = flat(targets)
    return {"src": src_ids, "src_offsets": src_offsets, "tgt": tgt_ids, "tgt_offsets": tgt_offsets}


def rows_of(data: dict[str, np.ndarray], indices: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    src = [data["src"][data["src_offsets"][i]:data["src_offsets"][i + 1]].tolist() for i in indices]
    tgt = [data["tgt"][data["tgt_offsets"][i]:data["tgt_offsets"][i + 1]].tolist() for i in indices]
    return src, tgt


def tensors(src: list[list[int]], tgt: list[list[int]]):
    """Padded input ids, attention mask and labels (-100 on padding) of a batch."""
    import torch

    width, height = max(map(len, src)), max(map(len, tgt))
    ids = torch.tensor([s + [0] * (width - len(s)) for s in src])
    labels = torch.tensor([t + [-100] * (height - len(t)) for t in tgt])
    return ids, (ids != 0).long(), labels


def batch_indices(n: int, lengths: np.ndarray, batch: int, step: int) -> np.ndarray:
    """The examples of training step `step`: BUCKET batches are drawn together (seeded by their
    block number, so a resumed run draws the same ones), grouped by length and shuffled."""
    rng = np.random.default_rng([SEED, step // BUCKET])
    drawn = rng.integers(0, n, size=batch * BUCKET)
    drawn = drawn[np.argsort(lengths[drawn], kind="stable")].reshape(BUCKET, batch)
    return drawn[rng.permutation(BUCKET)][step % BUCKET]


def sequence_loss(model, ids, mask, labels, label_smoothing: float = 0.0):
    """Mean token cross-entropy of the labels (the decoder reads them shifted right)."""
    import torch

    logits = model(input_ids=ids, attention_mask=mask, labels=labels).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1),
                                             ignore_index=-100, label_smoothing=label_smoothing)


def mean_loss(model, data: dict[str, np.ndarray], batch: int = 64) -> float:
    """Mean token cross-entropy (nats, no smoothing) over every example of `data`."""
    import torch

    model.eval()
    total, count = 0.0, 0
    n = len(data["src_offsets"]) - 1
    with torch.no_grad():
        for start in range(0, n, batch):
            ids, mask, labels = tensors(*rows_of(data, np.arange(start, min(n, start + batch))))
            tokens = int((labels != -100).sum())
            total += float(sequence_loss(model, ids, mask, labels)) * tokens
            count += tokens
    model.train()
    return total / max(count, 1)


def scores(model, tokenizer, pairs: list[Pair], num_beams: int = 1) -> dict[str, float]:
    """BLEU and chrF against Apertium (the teacher) in both directions, on `pairs`."""
    import sacrebleu

    model.eval()
    out = {}
    for target, sources, references in (("es", [p.en for p in pairs], [p.es for p in pairs]),
                                        ("en", [p.es for p in pairs], [p.en_back for p in pairs])):
        hypotheses = translate_batch(model, tokenizer, sources, target, num_beams=num_beams)
        pair = "en_es" if target == "es" else "es_en"
        out[f"bleu_{pair}"] = round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2)
        out[f"chrf_{pair}"] = round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2)
    model.train()
    return out


def prepare(cfg: TrainConfig, run: Path, corpus: dict[str, list[Pair]]) -> dict[str, dict[str, np.ndarray]]:
    """The tokenizer (learned from the training pairs of both languages) and the encoded splits,
    cached in the run folder."""
    from tokenizers import Tokenizer

    paths = {name: run / f"{name}.npz" for name in ("train", "validation")}
    if not (all(p.exists() for p in paths.values()) and (run / "tokenizer.json").exists()):
        texts = [text for p in corpus["train"] for text in (p.en, p.es, p.en_back)]
        train_tokenizer(texts, cfg.vocab_size, run / "tokenizer.json")
        tokenizer = Tokenizer.from_file(str(run / "tokenizer.json"))
        for name, path in paths.items():
            np.savez(path, **encode(tokenizer, examples(corpus[name]), cfg.max_len))
        (run / "splits.json").write_text(json.dumps({name: len(pairs) for name, pairs in corpus.items()}))
    return {name: dict(np.load(path, allow_pickle=False)) for name, path in paths.items()}


def fit(cfg: TrainConfig, root: Path = DATA_DIR, resume: bool = False,
        corpus: dict[str, list[Pair]] | None = None) -> Path:
    """Train (or resume) the model; returns the run folder (checkpoint, config, tokenizer, history)."""
    import torch
    from safetensors.torch import load_model, save_model
    from tokenizers import Tokenizer

    torch.manual_seed(SEED)
    torch.set_num_threads(Settings.from_env().torch_threads or cfg.threads)
    run = root / cfg.name
    run.mkdir(parents=True, exist_ok=True)
    log = training_log("machine_translation.train", run / "train.log")
    corpus = corpus if corpus is not None else build(log=log.info)
    data = prepare(cfg, run, corpus)
    tokenizer = Tokenizer.from_file(str(run / "tokenizer.json"))
    model = build_model(tokenizer.get_vocab_size(), cfg.d_model, (cfg.encoder_layers, cfg.decoder_layers), cfg.heads,
                        cfg.ffn, cfg.max_len)
    model.config.to_json_file(str(run / "model_config.json"))  # with a checkpoint: all an export needs
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and p.requires_grad]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 and p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    history: list[dict] = []
    step = 0
    if resume and (run / "checkpoint.safetensors").exists():
        load_model(model, str(run / "checkpoint.safetensors"))  # handles the tied embeddings
        state = torch.load(run / "optimizer.pt", weights_only=True)  # written by this script only
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        history = json.loads((run / "history.json").read_text())
        log.info("resumed at step %d", step)
    train, validation = data["train"], data["validation"]
    n = len(train["src_offsets"]) - 1
    lengths = np.diff(train["src_offsets"]) + np.diff(train["tgt_offsets"])
    probe = corpus["validation"][:cfg.eval_sentences]
    log.info("config %s; %s parameters; examples: train %d, validation %d; %d torch threads", asdict(cfg),
             f"{model.num_parameters():,}", n, len(validation["src_offsets"]) - 1, torch.get_num_threads())
    started = time.time() - (history[-1]["minutes"] * 60 if history else 0)

    def lr_at(i: int) -> float:
        if i < cfg.warmup:
            return cfg.lr * (i + 1) / cfg.warmup
        progress = (i - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    model.train()
    while step < cfg.steps:
        ids, mask, labels = tensors(*rows_of(train, batch_indices(n, lengths, cfg.batch, step)))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = sequence_loss(model, ids, mask, labels, cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % cfg.eval_every == 0 or step == cfg.steps:
            row = {"step": step, "train_loss": round(float(loss.detach()), 4),
                   "val_loss": round(mean_loss(model, validation), 4), **scores(model, tokenizer, probe),
                   "lr": round(lr_at(step - 1), 6), "minutes": round((time.time() - started) / 60, 2)}
            history.append(row)
            log.info("step %d/%d %s", step, cfg.steps, row)
            save_model(model, str(run / "checkpoint.safetensors"))
            torch.save({"optimizer": optimizer.state_dict(), "step": step}, run / "optimizer.pt")
            (run / "history.json").write_text(json.dumps(history, indent=1))
    log.info("training finished at step %d after %.1f min", step, (time.time() - started) / 60)
    return run


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """`python -m core.train machine_translation`: build the distilled corpus (Apertium, cached),
    train (or finish an interrupted run), export into `out_dir`, evaluate on the held-out
    sentences against Apertium, and write metrics.json and the card."""
    from core.tasks.machine_translation.evaluate import evaluate, export, write_results

    cfg = QUICK if quick else FULL
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    root = out_dir.parent.parent / "runs" if quick else DATA_DIR  # a quick run stays in its temporary folder
    corpus = sample_pairs() if quick else build()
    run = fit(cfg, root, resume=True, corpus=corpus)
    export(run, out_dir)
    result = evaluate(run, out_dir, corpus["test"], quick=quick)
    return write_results(cfg, run, out_dir, card_dir, result, quick, split_counts(corpus))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run (the committed sample)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run")
    args = parser.parse_args()
    fit(QUICK if args.quick else FULL, resume=args.resume, corpus=sample_pairs() if args.quick else None)


if __name__ == "__main__":
    main()
