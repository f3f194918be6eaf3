"""Checks every text task applies to what users type or upload, in one place.

`checked_text` refuses empty text and text that is really binary data, and cuts text longer than
MAX_TEXT_CHARS (the result says it did). `read_text_file` reads an uploaded .txt or .eml file the
same way, refusing binary files (images, archives, executables) with a clear message.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.settings import Settings

TEXT_SUFFIXES = (".txt", ".eml", ".text", ".md")


@dataclass(frozen=True)
class Text:
    """Text ready for a model: `text` (at most the limit), whether it was cut, and its original length."""

    text: str
    truncated: bool
    original_chars: int

    def note(self) -> str:
        """A sentence for the result when the text was cut, else ""."""
        return (f"Only the first {len(self.text):,} of {self.original_chars:,} characters were used "
                "(MAX_TEXT_CHARS)." if self.truncated else "")


def looks_binary(text: str) -> bool:
    """True for NUL bytes or a text that is mostly control or unassigned characters (not language)."""
    if "\x00" in text:
        return True
    sample = text[:4096]
    odd = sum(1 for c in sample if unicodedata.category(c) in {"Cc", "Cn", "Co", "Cs"} and c not in "\n\r\t\f\v")
    return odd > 0.1 * max(len(sample), 1)


def checked_text(text: object, what: str = "text", settings: Settings | None = None) -> Text:
    """`text` as a `Text` (cut to MAX_TEXT_CHARS), or an InputError that says what to do."""
    settings = settings or Settings.from_env()
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The {what} must be a string, not {type(text).__name__}.")
    if not text.strip():
        raise InputError(f"The {what} is empty; type or paste some text.")
    if looks_binary(text):
        raise InputError(f"The {what} looks like binary data, not text; paste readable text or upload a .txt file.")
    limit = settings.max_text_chars
    return Text(text[:limit], len(text) > limit, len(text))


def read_text_file(path: str | Path, settings: Settings | None = None) -> str:
    """The text of an uploaded file (UTF-8, or Latin-1 for old e-mails); binary files are refused.
    The upload guard has already checked the file's size and location."""
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise InputError(f"Upload a text file ({', '.join(TEXT_SUFFIXES)}), not {path.suffix or 'a file without extension'}.")
    settings = settings or Settings.from_env()
    data = path.read_bytes()[: settings.max_bytes]
    if not data.strip():
        raise InputError("The uploaded file is empty.")
    if b"\x00" in data[:8192]:
        raise InputError("That file is binary (an image, archive or program?), not text; upload a .txt or .eml file.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if looks_binary(text):
        raise InputError("That file is binary, not text; upload a .txt or .eml file.")
    return text
