"""Text normalisation before WER and CER, so that only recognition errors count.

Whisper writes "Mr. Dashwood, 4 queens, cold-hearted."; a reference transcript says "mister
dashwood four queens cold hearted". `normalise` brings both to the same form:

* lower case, Unicode quotes and dashes folded;
* hyphens and slashes split words ("cold-hearted" -> "cold hearted");
* a few titles spelt out (mr -> mister, mrs -> missus, dr -> doctor, st -> saint), as read aloud;
* numbers spelt out: 4 -> four, 21st -> twenty first, 3.5 -> three point five, 1,250 -> one
  thousand two hundred fifty, but 1100-1999 written without a comma as a year is read (1847 ->
  eighteen forty seven, 1905 -> nineteen oh five, 1900 -> nineteen hundred),
  % -> percent, & -> and;
* every other punctuation mark removed (apostrophes inside words kept: "don't"), spaces collapsed.
"""
from __future__ import annotations

import re
import unicodedata

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
            "twelve": "twelfth"}
TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "messrs": "messieurs"}
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th)?(?![\w])")
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                       "\u2012": "-", "\u2212": "-"})


def number_words(n: int) -> str:
    """A non-negative integer in English words, without "and": 342 -> "three hundred forty two"."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    for scale, name in SCALES:
        if n >= scale:
            rest = n % scale
            return number_words(n // scale) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """21 -> "twenty first", 12 -> "twelfth", 40 -> "fortieth"."""
    words = number_words(n).split()
    last = words[-1]
    if last in ORDINALS:
        words[-1] = ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """A year of 1100-1999 as read aloud: 1847 -> "eighteen forty seven", 1905 -> "nineteen oh five"."""
    high, low = divmod(n, 100)
    if low == 0:
        return number_words(high) + " hundred"
    return number_words(high) + " " + ("oh " + ONES[low] if low < 10 else number_words(low))


def _spell(match: re.Match) -> str:
    digits, suffix = match.group(1), match.group(2)
    grouped = "," in digits
    if grouped and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", digits):
        return " ".join(_spell(_NUMBER.match(part)) for part in digits.split(",") if part)  # a list: "1,2,3"
    digits = digits.replace(",", "")
    whole, _, fraction = digits.partition(".")
    n = int(whole)
    if suffix:
        return " " + ordinal_words(n) + " "
    if fraction:
        return " " + number_words(n) + " point " + " ".join(ONES[int(d)] for d in fraction) + " "
    if len(whole) == 4 and 1100 <= n <= 1999 and not grouped:
        return " " + year_words(n) + " "
    return " " + number_words(n) + " "


def normalise(text: str) -> str:
    """`text` in the comparable form described in the module docstring."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    text = text.replace("%", " percent ").replace("&", " and ")
    text = _NUMBER.sub(_spell, text)
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"\b(" + "|".join(TITLES) + r")\b\.?", lambda m: TITLES[m.group(1)], text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes inside words
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())
