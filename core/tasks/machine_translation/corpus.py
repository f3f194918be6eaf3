"""The distilled parallel corpus of task 06: English sentences of public-domain books and speeches,
translated into Spanish by Apertium (eng-spa), and that Spanish back into English (spa-eng).

No parallel corpus and no Spanish corpus install offline, so the neural model learns to imitate
Apertium (sequence-level distillation): en -> es pairs are (English, eng-spa of it); es -> en
pairs are (that Spanish, spa-eng of it). The English comes from task 05's corpus (Moby-Dick and
the State of the Union addresses, npm @stdlib, public domain), split by whole document the same
way, so no test sentence comes from a document seen in training.

Apertium translates each split once, thousands of sentences per call (one per line); the result
is cached in data/machine_translation/distilled/ (git-ignored). Quick runs and tests use the
committed sample in assets/examples/machine_translation/distilled_sample.jsonl instead.
"""
from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.settings import REPO_ROOT
from core.tasks.text_generation.corpus import Document, fetch, read_documents, split

DATA_DIR = REPO_ROOT / "data" / "machine_translation"
DISTILLED_DIR = DATA_DIR / "distilled"
SAMPLE = REPO_ROOT / "assets" / "examples" / "machine_translation" / "distilled_sample.jsonl"
# a sentence ends at . ! or ? (and closing quotes) before a space and a capital (or opening quote)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019')\]]*\s+(?=[\"\u201c\u2018(\[]*[A-Z])")
MIN_WORDS, MAX_WORDS, MAX_CHARS = 4, 32, 220
TEST_SENTENCES, VALIDATION_SENTENCES = 1000, 300  # sampled (fixed seed) from the held-out documents


@dataclass(frozen=True)
class Pair:
    """One distilled example: the English sentence, Apertium's Spanish of it (`es`) and Apertium's
    English of that Spanish (`en_back`, the target of es -> en)."""

    split: str
    doc: str
    en: str
    es: str
    en_back: str


def sentences(text: str) -> list[str]:
    """The sentences of `text` that make good training examples (4-32 words, at most 220 characters,
    some letters, no line art)."""
    text = re.sub(r"\s+", " ", text.replace("--", " -- ")).strip()
    out = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        words = sentence.split()
        if (MIN_WORDS <= len(words) <= MAX_WORDS and len(sentence) <= MAX_CHARS
                and sum(c.isalpha() for c in sentence) > 0.6 * len(sentence.replace(" ", ""))):
            out.append(sentence)
    return out


def english_sentences(documents: list[Document]) -> dict[str, list[tuple[str, str]]]:
    """{split: [(document, sentence)]}: every training sentence (deduplicated, in corpus order), and a
    fixed-seed sample of the validation and test documents' sentences."""
    parts = split(documents)
    out: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for name, docs in parts.items():
        rows = []
        for document in docs:
            for sentence in sentences(document.text):
                if sentence not in seen:
                    seen.add(sentence)
                    rows.append((f"{document.source}/{document.name}", sentence))
        limit = {"test": TEST_SENTENCES, "validation": VALIDATION_SENTENCES}.get(name)
        if limit and len(rows) > limit:
            rows = sorted(random.Random(f"mt-{name}").sample(rows, limit), key=rows.index)
        out[name] = rows
    return out


def distil(rows: list[tuple[str, str]], split_name: str, log=print) -> list[Pair]:
    """Translate the English sentences with Apertium: eng-spa, then spa-eng of that Spanish."""
    from core.tasks.machine_translation.apertium import installed_pairs, translate_lines

    pairs = installed_pairs()
    if ("en", "es") not in pairs or ("es", "en") not in pairs:
        raise RuntimeError("Building the distilled corpus needs Apertium eng-spa and spa-eng "
                           "(apt-get install apertium-eng-spa); quick runs use the committed sample instead.")
    english = [sentence for _, sentence in rows]
    started = time.time()
    spanish = translate_lines(pairs[("en", "es")], english)
    middle = time.time()
    back = translate_lines(pairs[("es", "en")], spanish)
    words = sum(len(s.split()) for s in english)
    log(f"distilled {split_name}: {len(rows):,} sentences ({words:,} words): eng-spa {middle - started:.0f} s "
        f"({words / max(middle - started, 1e-9):,.0f} words/s), spa-eng {time.time() - middle:.0f} s")
    return [Pair(split_name, doc, en, es, en_back) for (doc, en), es, en_back in zip(rows, spanish, back)
            if en and es and en_back]


def write_pairs(pairs: list[Pair], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[Pair]:
    with Path(path).open(encoding="utf-8") as handle:
        return [Pair(**json.loads(line)) for line in handle if line.strip()]


def build(folder: Path = DISTILLED_DIR, log=print) -> dict[str, list[Pair]]:
    """The distilled corpus, {split: [Pair]}; built once with Apertium and cached in `folder`."""
    paths = {name: folder / f"{name}.jsonl" for name in ("train", "validation", "test")}
    if all(path.exists() for path in paths.values()):
        return {name: read_pairs(path) for name, path in paths.items()}
    rows = english_sentences(read_documents(fetch()))
    out = {}
    for name, path in paths.items():
        out[name] = distil(rows[name], name, log)
        write_pairs(out[name], path)
    (folder / "meta.json").write_text(json.dumps(teacher_info(), indent=1))
    return out


def sample_pairs(path: Path = SAMPLE) -> dict[str, list[Pair]]:
    """The committed sample (a few hundred pairs of every split): the data of quick runs and tests."""
    out: dict[str, list[Pair]] = {"train": [], "validation": [], "test": []}
    for pair in read_pairs(path):
        out[pair.split].append(pair)
    return out


def split_counts(corpus: dict[str, list[Pair]]) -> dict[str, int]:
    """Sentences and documents per split, for the card."""
    counts = {name: len(pairs) for name, pairs in corpus.items()}
    counts.update({f"{name}_documents": len({p.doc for p in pairs}) for name, pairs in corpus.items()})
    return counts


def teacher_info() -> dict:
    """Which Apertium translated the corpus (Debian package versions), for the card."""
    import subprocess

    info = {}
    for package in ("apertium", "apertium-eng-spa"):
        try:
            info[package] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                                           text=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            info[package] = None
    return info
