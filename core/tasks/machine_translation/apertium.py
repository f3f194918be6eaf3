"""Apertium, the rule-based translation engine of task 06: its installed modes, routes through
pivot languages, and one subprocess call per hop.

Modes are discovered at run time (`apertium -l`, else the modes folder) and mapped to ISO 639-1
codes; nothing here assumes that a pair is installed. A pair without a direct mode goes through
the shortest chain of installed modes (en -> es -> pt), Spanish, then English, preferred as the
pivot when several chains are as short. Text goes through stdin, never a shell, with a timeout.

    echo "The whale." | apertium -u eng-spa      # what one hop runs (-u: no '*' before unknown words)
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

LANGUAGES = {"en": "English", "es": "Spanish", "ca": "Catalan", "gl": "Galician", "pt": "Portuguese",
             "fr": "French", "it": "Italian", "ro": "Romanian", "oc": "Occitan", "eo": "Esperanto"}
# the codes Apertium's mode names use for each language (ISO 639-1 and 639-3)
MODE_CODES = {"en": ("en", "eng"), "es": ("es", "spa"), "ca": ("ca", "cat"), "gl": ("gl", "glg"),
              "pt": ("pt", "por"), "fr": ("fr", "fra", "fre"), "it": ("it", "ita"), "ro": ("ro", "ron", "rum"),
              "oc": ("oc", "oci"), "eo": ("eo", "epo")}
PIVOT_PREFERENCE = ("es", "en", "ca", "fr")  # among equally short routes, these pivots first
MODES_DIR = Path("/usr/share/apertium/modes")
INSTALL_HINT = ("apt-get install apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-es-pt apertium-fr-es "
                "apertium-fra-cat apertium-spa-ita apertium-es-ro apertium-oc-es apertium-eo-en")
_ISO = {code: iso for iso, codes in MODE_CODES.items() for code in codes}
_PLAIN_MODE = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")  # eng-spa yes; eng-cat_valencia, en-eo-bytecode no
_DEBUG_MARKS = re.compile(r"(?<![\w#@])[#@](?=\w)")  # '#word' generation, '@word' transfer gaps
_SPACES = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")  # where a dropped word (a pronoun) left two spaces


class ApertiumMissing(InputError):
    """Apertium is not installed on this machine."""

    def __init__(self) -> None:
        super().__init__("Apertium is not installed on this server, so the Apertium engine cannot run. Choose the "
                         "Neural engine (English ↔ Spanish), or install Apertium: " + INSTALL_HINT + ".")


@dataclass(frozen=True)
class Hop:
    """One Apertium call: source -> target language with the mode that does it."""

    source: str
    target: str
    mode: str


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def parse_modes(names: list[str]) -> dict[tuple[str, str], str]:
    """{(source, target): mode} for the plain "xx-yy" modes between supported languages.
    Variants (eng-cat_valencia, es-pt_BR, en-eo-bytecode...) are left out; when a pair has
    two spellings the first in sorted order wins."""
    pairs: dict[tuple[str, str], str] = {}
    for name in sorted(set(names)):
        match = _PLAIN_MODE.match(name.strip())
        if not match:
            continue
        source, target = _ISO.get(match.group(1)), _ISO.get(match.group(2))
        if source and target and source != target:
            pairs.setdefault((source, target), name.strip())
    return pairs


def find_route(pairs: dict[tuple[str, str], str], source: str, target: str) -> list[Hop] | None:
    """The shortest chain of modes from `source` to `target` (breadth-first, preferred pivots
    first among equally short chains), or None when there is none."""
    if source == target:
        return []
    rank = {code: i for i, code in enumerate(PIVOT_PREFERENCE)}
    neighbours: dict[str, list[str]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, []).append(b)
    for a in neighbours:
        neighbours[a].sort(key=lambda code: (code != target, rank.get(code, len(rank)), code))
    previous: dict[str, str] = {source: source}
    queue = deque([source])
    while queue:
        here = queue.popleft()
        if here == target:
            break
        for there in neighbours.get(here, []):
            if there not in previous:
                previous[there] = here
                queue.append(there)
    if target not in previous:
        return None
    path = [target]
    while path[-1] != source:
        path.append(previous[path[-1]])
    path.reverse()
    return [Hop(a, b, pairs[(a, b)]) for a, b in zip(path, path[1:])]


def route_text(hops: list[Hop]) -> str:
    """"en → es → pt"."""
    return " → ".join([hops[0].source] + [hop.target for hop in hops]) if hops else ""


def clean(text: str) -> str:
    """Apertium's output without its debugging marks ('#' and '@' before words it could not
    generate or transfer; '*' marks are already off with -u) and without doubled spaces."""
    return _SPACES.sub(" ", _DEBUG_MARKS.sub("", text))


def apertium_binary() -> str | None:
    return shutil.which("apertium")


@functools.lru_cache(maxsize=1)
def installed_pairs() -> dict[tuple[str, str], str]:
    """The installed pairs between supported languages (empty when Apertium is missing).
    Asked once per process: `apertium -l`, else the names in the modes folder."""
    binary = apertium_binary()
    if not binary:
        return {}
    try:
        listed = subprocess.run([binary, "-l"], capture_output=True, text=True, timeout=10, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        listed = []
    if not listed and MODES_DIR.is_dir():
        listed = [path.stem for path in MODES_DIR.glob("*.mode")]
    return parse_modes(listed)


def run_mode(mode: str, text: str, timeout: float = 20.0) -> str:
    """`text` through one Apertium mode (stdin -> stdout, no shell), debugging marks removed."""
    binary = apertium_binary()
    if not binary:
        raise ApertiumMissing()
    try:
        done = subprocess.run([binary, "-u", mode], input=text, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"Apertium took more than {timeout:.0f} s ({mode}); try a shorter text.") from None
    if done.returncode != 0:
        raise RuntimeError(f"apertium {mode} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return clean(done.stdout)


def translate_lines(mode: str, lines: list[str], timeout: float = 600.0, chunk: int = 2000) -> list[str]:
    """Many one-line sentences through one mode, `chunk` per call (one line out per line in),
    for building training data."""
    out: list[str] = []
    for start in range(0, len(lines), chunk):
        part = [line.replace("\n", " ").strip() for line in lines[start:start + chunk]]
        result = run_mode(mode, "\n".join(part) + "\n", timeout).rstrip("\n").split("\n")
        if len(result) != len(part):  # never seen; translate one by one rather than misalign
            result = [run_mode(mode, line + "\n", timeout).strip() for line in part]
        out += [line.strip() for line in result]
    return out


class Apertium:
    """The Apertium engine: any installed pair, directly or through pivots."""

    name = "apertium"

    def __init__(self, pairs: dict[tuple[str, str], str] | None = None, timeout: float = 20.0) -> None:
        self.pairs = installed_pairs() if pairs is None else pairs
        self.timeout = timeout

    @property
    def available(self) -> bool:
        return bool(self.pairs) and apertium_binary() is not None

    def languages(self) -> list[str]:
        return sorted({code for pair in self.pairs for code in pair}, key=list(LANGUAGES).index)

    def pairs_text(self) -> str:
        """"en → es, ca, eo, gl; es → en, ..." (what exists directly)."""
        grouped: dict[str, list[str]] = {}
        for a, b in sorted(self.pairs, key=lambda p: (list(LANGUAGES).index(p[0]), list(LANGUAGES).index(p[1]))):
            grouped.setdefault(a, []).append(b)
        return "; ".join(f"{a} → {', '.join(bs)}" for a, bs in grouped.items())

    def route(self, source: str, target: str) -> list[Hop]:
        """The hops from `source` to `target`, or an InputError that says which pairs exist."""
        if not self.available:
            raise ApertiumMissing()
        hops = find_route(self.pairs, source, target)
        if hops is None:
            sources = sorted(a for a, b in self.pairs if b == target)
            reason = (f"nothing is translated into {language_name(target)}" if not sources
                      else f"no chain of installed pairs leads from {language_name(source)} to {language_name(target)}")
            raise InputError(f"Apertium cannot translate {language_name(source)} → {language_name(target)} here: "
                             f"{reason}. Installed pairs: {self.pairs_text()}.")
        return hops

    def translate(self, text: str, source: str, target: str) -> tuple[str, list[Hop]]:
        """`text` through every hop of the route (one subprocess per hop, for the whole text)."""
        hops = self.route(source, target)
        for hop in hops:
            text = run_mode(hop.mode, text, self.timeout)
        return text.strip("\n"), hops
