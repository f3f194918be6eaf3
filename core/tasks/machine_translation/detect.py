"""Which of the supported languages a text is in: py3langid (a naive Bayes model over byte n-grams,
shipped inside the package as numpy arrays, no pickle), restricted to those languages, with its
normalised probability as the confidence.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from core.tasks.machine_translation.apertium import LANGUAGES, language_name

UNSURE_BELOW = 0.5  # confidence under which the result says detection is unsure
MIN_LETTERS = 8     # fewer letters than this: too little text to tell


@dataclass(frozen=True)
class Detection:
    language: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # the next most likely languages
    unsure: bool = False

    def describe(self) -> str:
        """"English (99%)", with the runners-up when unsure."""
        text = f"{language_name(self.language)} ({self.confidence:.0%})"
        if self.unsure:
            others = ", ".join(f"{language_name(code)} {p:.0%}" for code, p in self.alternatives[:2])
            text += f": unsure{' (then ' + others + ')' if others else ''}"
        return text

    def as_dict(self) -> dict:
        return {"language": self.language, "name": language_name(self.language), "confidence": self.confidence,
                "unsure": self.unsure, "alternatives": [{"language": c, "confidence": p} for c, p in self.alternatives]}


@functools.lru_cache(maxsize=1)
def _identifier():
    """py3langid's model limited to the supported languages (built once; classify only reads it)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str) -> Detection:
    """The most likely supported language of `text`, its confidence and the next two."""
    ranked = _identifier().rank(text[:5000])
    (language, confidence), alternatives = ranked[0], ranked[1:3]
    letters = sum(c.isalpha() for c in text)
    return Detection(language, round(float(confidence), 4), [(c, round(float(p), 4)) for c, p in alternatives],
                     unsure=confidence < UNSURE_BELOW or letters < MIN_LETTERS)
