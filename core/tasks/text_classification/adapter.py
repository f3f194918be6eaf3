"""Inference adapter of task 04: spam or ham, with the words that pushed the decision.

Two variants behind one interface (`classify`): "minilm" (the LoRA-tuned MiniLM encoder, explained
by integrated gradients) and "tfidf" (the TF-IDF + logistic-regression baseline, whose word
contributions are exact). Scores are normalised to [-1, 1]: positive pushes towards spam, negative
towards ham. Requests only read the shared models (no_grad, or gradients taken with respect to the
request's own input tensor, never accumulated in the weights), so many can run at once.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.tasks.text_classification.data import LABELS, email_text
from core.text_input import Text, checked_text

VARIANTS = ("minilm", "tfidf")


@dataclass(frozen=True)
class Word:
    """A word of the input: its character span and its score in [-1, 1] (positive: towards spam)."""

    start: int
    end: int
    score: float


def normalised(scores: np.ndarray) -> np.ndarray:
    """Scores divided by their largest magnitude (all zero stays zero)."""
    top = float(np.max(np.abs(scores))) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def merge_pieces(offsets: list[tuple[int, int]], scores: np.ndarray, text: str) -> list[tuple[int, int, float]]:
    """WordPiece tokens back to words: adjacent pieces (no space between them) are summed into one."""
    words: list[list] = []
    for (start, end), score in zip(offsets, scores):
        if end <= start:
            continue
        if words and start == words[-1][1] and text[start - 1:start].isalnum() and text[start:start + 1].isalnum():
            words[-1][1] = end
            words[-1][2] += float(score)
        else:
            words.append([start, end, float(score)])
    return [tuple(w) for w in words]


class SpamClassifier:
    """One variant, ready to serve."""

    def __init__(self, variant: str, model_dir: Path) -> None:
        self.variant = variant
        self.config = json.loads((model_dir / "config.json").read_text())
        if variant == "minilm":
            import torch

            from core.tasks.text_classification.encoder import load, tokenizer

            self.model = load(model_dir)
            for parameter in self.model.parameters():
                parameter.requires_grad_(False)
            self.tokenizer = tokenizer()
            self.max_length = self.model.config.max_length
            self._torch = torch
        else:
            from core.tasks.text_classification.baseline import TfidfClassifier

            self.model = TfidfClassifier(model_dir)

    def _minilm(self, text: str, explain: bool) -> tuple[float, list[Word], int, int | None]:
        torch = self._torch
        encoded = self.tokenizer(text, truncation=True, max_length=self.max_length, return_offsets_mapping=True,
                                 return_tensors="pt")
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
        offsets = [tuple(o) for o in encoded["offset_mapping"][0].tolist()]
        last_read = offsets[-2][1] if len(offsets) >= 2 else 0  # the end of the last token before [SEP]
        cut = last_read if ids.shape[1] >= self.max_length and text[last_read:].strip() else None
        if explain:
            from core.tasks.text_classification.encoder import integrated_gradients

            probability, attributions = integrated_gradients(self.model, ids, mask)
        else:
            with torch.no_grad():
                probability = torch.softmax(self.model(ids, mask), -1)[0, 1].item()
            attributions = np.zeros(ids.shape[1])
        words = merge_pieces(offsets, attributions, text)
        scores = normalised(np.array([w[2] for w in words]))
        return probability, [Word(a, b, float(s)) for (a, b, _), s in zip(words, scores)], ids.shape[1], cut

    def _tfidf(self, text: str) -> tuple[float, list[Word], int, int | None]:
        out = self.model.classify(text)
        scores = normalised(out["scores"])
        return out["spam_probability"], [Word(a, b, float(s)) for (a, b), s in zip(out["spans"], scores)], \
            len(out["spans"]), None

    def classify(self, text: object, explain: bool = True) -> dict:
        """The prediction for a message (plain text, or a raw e-mail with headers, whose subject and
        body are read). JSON-ready: predictions, importance, the tokens read and where reading stopped."""
        started = time.perf_counter()
        checked: Text = checked_text(text, "message")
        _, content = email_text(checked.text)
        if not content.strip():
            raise InputError("That e-mail has no text to read (no subject and no text body).")
        probability, words, tokens_seen, cut = self._minilm(content, explain) if self.variant == "minilm" \
            else self._tfidf(content)
        scores = [1 - probability, probability]
        notes = [n for n in [checked.note(), f"The model read the first {self.max_length} tokens; the text after "
                             f"character {cut:,} was not read." if cut is not None else ""] if n]
        return {
            "model": self.variant,
            "predictions": sorted(({"label": label, "score": round(float(s), 4)} for label, s in zip(LABELS, scores)),
                                  key=lambda p: -p["score"]),
            "importance": [{"token": content[w.start:w.end], "score": round(w.score, 3)} for w in words],
            "text": content,
            "spans": [[w.start, w.end] for w in words],
            "tokens_seen": tokens_seen,
            "truncated_at": cut,
            "input_truncated": checked.truncated,
            "notes": notes,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }


def load(variant: str, model_dir: Path) -> SpamClassifier:
    if variant not in VARIANTS:
        raise KeyError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return SpamClassifier(variant, Path(model_dir))
