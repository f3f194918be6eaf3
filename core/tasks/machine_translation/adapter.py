"""Inference adapter of task 06: translate a text with Apertium or the neural model, detect its
language, translate the result back, and score the round trip.

    translate(text, source="auto", target="es", engine="auto", engines=...) -> the /translate JSON

Engines (`load`): "apertium", the rule-based system, any installed pair or a chain of them through
pivot languages; "neural", the project's Marian transformer, English <-> Spanish. "auto" is
Apertium, or the neural model for English <-> Spanish where Apertium is not installed. The back-
translation (target -> source, same engine) and its chrF against the original are a confidence
signal: a translation that comes back far from the original has probably lost meaning.

Nothing shared is changed by a request: Apertium runs in a subprocess of its own (with a timeout),
the neural model is only read (no_grad, tensors of the request) and the detector only classifies.
"""
from __future__ import annotations

import difflib
import re
import time
from pathlib import Path
from typing import Callable, Protocol

from core.errors import InputError
from core.settings import Settings
from core.tasks.machine_translation.apertium import (LANGUAGES, Apertium, ApertiumMissing, Hop, language_name,
                                                     route_text)
from core.tasks.machine_translation.detect import Detection, detect
from core.text_input import checked_text

ENGINES = ("auto", "apertium", "neural")
NEURAL_LANGUAGES = ("en", "es")
MAX_SEGMENT_WORDS = 40  # the neural model learnt from sentences of up to 32 words; longer ones are cut
DIFF_LABELS = ("only in the original", "only in the back-translation")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d\u2019')\]]))\s+")  # closing quotes stay
_WORD_EDGES = re.compile(r"^\W+|\W+$")


class Engine(Protocol):
    name: str

    @property
    def available(self) -> bool: ...

    def translate(self, text: str, source: str, target: str) -> tuple[str, list[Hop]]: ...


def segments(line: str) -> list[str]:
    """A line's sentences, each cut into pieces of at most MAX_SEGMENT_WORDS words."""
    out = []
    for sentence in _SENTENCE_END.split(line.strip()):
        words = sentence.split()
        out += [" ".join(words[i:i + MAX_SEGMENT_WORDS]) for i in range(0, len(words), MAX_SEGMENT_WORDS)]
    return out


class Neural:
    """The project's Marian model: English <-> Spanish, sentence by sentence, line breaks kept."""

    name = "neural"
    available = True

    def __init__(self, model, tokenizer, config: dict) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.num_beams = int(config.get("num_beams", 4))

    def check_pair(self, source: str, target: str) -> None:
        if {source, target} != set(NEURAL_LANGUAGES):
            raise InputError(f"The neural model translates English ↔ Spanish only, not {language_name(source)} → "
                             f"{language_name(target)}. Choose the Apertium engine for other languages.")

    def translate(self, text: str, source: str, target: str) -> tuple[str, list[Hop]]:
        from core.tasks.machine_translation.model import translate_batch

        self.check_pair(source, target)
        lines = [segments(line) for line in text.split("\n")]
        flat = [s for line in lines for s in line]
        translated = iter(translate_batch(self.model, self.tokenizer, flat, target, num_beams=self.num_beams))
        out = "\n".join(" ".join(next(translated) for _ in line) for line in lines)
        return out, [Hop(source, target, "neural")]


def load(variant: str, model_dir: Path) -> Apertium | Neural:
    """"apertium" (the installed Apertium; `available` is False without it) or "neural" (the shipped model)."""
    if variant == "apertium":
        return Apertium(timeout=Settings.from_env().time_budget_s)
    if variant == "neural":
        from core.tasks.machine_translation.evaluate import load_model

        return Neural(*load_model(model_dir))
    raise KeyError(f"Unknown variant {variant!r}")


def word_diff(original: str, back: str) -> list[tuple[str, str | None]]:
    """The back-translation word by word against the original (case and punctuation ignored):
    (words, None) where they agree, (words, label) where they differ (DIFF_LABELS), for
    gr.HighlightedText."""
    a, b = original.split(), back.split()
    key = lambda word: _WORD_EDGES.sub("", word.lower()) or word  # noqa: E731
    matcher = difflib.SequenceMatcher(a=[key(w) for w in a], b=[key(w) for w in b], autojunk=False)
    out: list[tuple[str, str | None]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append((" ".join(b[j1:j2]) + " ", None))
            continue
        if i2 > i1:
            out.append((" ".join(a[i1:i2]) + " ", DIFF_LABELS[0]))
        if j2 > j1:
            out.append((" ".join(b[j1:j2]) + " ", DIFF_LABELS[1]))
    return out


def round_trip_chrf(original: str, back: str) -> float:
    """chrF (0-100) of the back-translation against the original text."""
    import sacrebleu

    return round(sacrebleu.sentence_chrf(back, [original]).score, 1)


def _checked_choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    code = str(value or "").strip().lower()
    if code not in allowed:
        names = ", ".join(f"{c} ({language_name(c)})" if c in LANGUAGES else c for c in allowed)
        raise InputError(f"Unknown {what} {value!r}: choose one of {names}.")
    return code


def resolve_source(detection: Detection, target: str, notes: list[str]) -> str:
    """The source language to use when it is "auto": the detected one, with what to do when unsure
    or when the text already seems to be in the target language."""
    source = detection.language
    if source == target:
        if not detection.unsure:
            raise InputError(f"The text already looks like {language_name(target)} ({detection.confidence:.0%}): "
                             "choose another target language, or choose the source language yourself.")
        source = next((code for code, _ in detection.alternatives if code != target), source)
        notes.append(f"Detection was unsure and its first guess was the target language; translated from "
                     f"{language_name(source)}, its next guess.")
    elif detection.unsure:
        notes.append(f"Language detection is unsure ({detection.describe()}): choose the source language if the "
                     "translation looks wrong.")
    return source


def pick_engine(engine: str, source: str, target: str, engines: Callable[[str], Engine],
                notes: list[str]) -> Engine:
    """The engine object for the request; "auto" is Apertium, or the neural model for English <->
    Spanish where Apertium is not installed."""
    if engine == "neural":
        return engines("neural")
    apertium = engines("apertium")
    if apertium.available:
        return apertium
    if engine == "auto" and {source, target} == set(NEURAL_LANGUAGES):
        notes.append("Apertium is not installed here, so the neural model (English ↔ Spanish) translated.")
        return engines("neural")
    raise ApertiumMissing()


def translate(text: str, source: str = "auto", target: str = "es", engine: str = "auto",
              engines: Callable[[str], Engine] | None = None) -> dict:
    """The /translate result: translation, route, back-translation, round-trip chrF, detection."""
    started = time.perf_counter()
    checked = checked_text(text, "text")
    source = _checked_choice(source, ("auto", *LANGUAGES), "source language")
    target = _checked_choice(target, tuple(LANGUAGES), "target language")
    engine = _checked_choice(engine, ENGINES, "engine")
    engines = engines or _registry_engines
    notes = [checked.note()] if checked.truncated else []
    detection = detect(checked.text)
    detect_ms = (time.perf_counter() - started) * 1000
    requested_source = source
    if source == "auto":
        source = resolve_source(detection, target, notes)
    if source == target:
        raise InputError(f"Source and target are both {language_name(source)}: choose a different target language.")
    chosen = pick_engine(engine, source, target, engines, notes)
    tick = time.perf_counter()
    translation, hops = chosen.translate(checked.text, source, target)
    translate_ms = (time.perf_counter() - tick) * 1000
    tick = time.perf_counter()
    back, back_hops, score = None, [], None
    try:
        back, back_hops = chosen.translate(translation, target, source)
        score = round_trip_chrf(checked.text, back)
    except InputError as exc:  # no route back (e.g. nothing translates into Romanian)
        notes.append(f"No back-translation: {exc}")
    back_ms = (time.perf_counter() - tick) * 1000
    return {
        "translation": translation, "source": source, "target": target,
        "source_name": language_name(source), "target_name": language_name(target),
        "requested_source": requested_source, "detected": detection.as_dict(),
        "engine": chosen.name, "requested_engine": engine, "route": route_text(hops),
        "hops": [{"source": h.source, "target": h.target, "mode": h.mode} for h in hops],
        "back_translation": back, "back_route": route_text(back_hops) or None,
        "round_trip_chrf": score, "truncated": checked.truncated, "characters": len(checked.text),
        "original_characters": checked.original_chars, "notes": notes,
        "timings_ms": {"detect": round(detect_ms, 1), "translate": round(translate_ms, 1),
                       "back_translate": round(back_ms, 1)},
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "model": f"machine_translation/{chosen.name}", "variant": chosen.name,
    }


def _registry_engines(variant: str) -> Engine:
    from core.registry import get_model

    return get_model("machine_translation", variant)
