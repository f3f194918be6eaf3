"""An acted-prosody corpus synthesised with eSpeak NG: five emotions spoken by many synthetic voices.

No emotional-speech corpus installs offline, so the project generates one. Each clip is one
sentence (sentences.py) read by one *voice* (an eSpeak voice variant: m1..m8, f1..f5, klatt,
croak and 50 more) in one of 8 English accents, with an emotion rendered as a prosody profile
(after the acoustic correlates summarised by Murray & Arnott, 1993):

| emotion | pitch | pitch range | rate | pauses | voice quality |
|---|---|---|---|---|---|
| neutral | medium | medium | medium | few | modal |
| happy | high | wide, lively, rising ends | fast | few | slightly bright |
| sad | low | narrow, falling ends | slow | long and frequent | dark, breathy |
| angry | medium-high | wide, abrupt accents | fast | short | pressed (saturated), bright, emphatic |
| fearful | very high | irregular jumps, rising ends | fastest | hesitant | trembling, breathy |

Every setting is drawn around its profile with jitter per clip (and per word, for the pitch and
rate of each word), and each voice has its own pitch, range and rate offsets, so classes overlap as
real speakers do. Recording conditions (noise, room, speed, gain; augment.py) are drawn per clip.
Each clip is a 3-second window, the models' input, with the speech at a random position in it.

Voices are split, not clips: the test voices and the validation voices are never heard in
training (nor are the sentences they read). Everything is seeded per clip (`ClipSpec.seed`), so a
clip is the same whatever else was generated before it.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import numpy as np

from core.tasks.speech_emotion_recognition import augment
from core.tasks.speech_emotion_recognition.features import SAMPLE_RATE, WINDOW_SAMPLES, trim

EMOTIONS = ("neutral", "happy", "sad", "angry", "fearful")
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-029", "en-us-nyc")
FEMALE = ("f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "aunty", "belinda", "grandma", "linda", "shelby",
          "steph", "steph3")
MALE = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "klatt", "klatt2", "klatt3", "klatt4", "croak", "Alex", "Andy",
        "Denis", "Diogo", "Gene", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen",
        "Storm", "adam", "antonio", "benjamin", "boris", "david", "ed", "edward", "grandpa", "gustave", "ian", "iven",
        "john", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert",
        "sandro", "travis", "victor")
# Left out: robotic or monotone variants (robosoft*, UniRobot, Demonic, RicishayMax*, anikaRobot...),
# whispers (no pitch to hear), "fast" (a test setting) and caleb (a pitch far above every other voice).
VOICE_SPLIT_SEED = 7
VALIDATION_VOICES = {"female": 3, "male": 8}
TEST_VOICES = {"female": 3, "male": 9}


@lru_cache(maxsize=1)
def voice_split() -> dict[str, tuple[str, ...]]:
    """{"train", "validation", "test"} -> voice variants; disjoint, each split with both genders."""
    rng = np.random.default_rng(VOICE_SPLIT_SEED)
    out: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for gender, voices in (("female", FEMALE), ("male", MALE)):
        order = [voices[i] for i in rng.permutation(len(voices))]
        n_test, n_val = TEST_VOICES[gender], VALIDATION_VOICES[gender]
        out["test"] += order[:n_test]
        out["validation"] += order[n_test:n_test + n_val]
        out["train"] += order[n_test + n_val:]
    return {name: tuple(sorted(voices)) for name, voices in out.items()}


@dataclass(frozen=True)
class Profile:
    """An emotion's prosody: (mean, standard deviation) of each setting, drawn per clip.

    pitch, pitch_range: eSpeak's 0-99 scales; rate: words per minute; volume: eSpeak amplitude;
    word_pitch, word_rate: per-word jitter (percent standard deviation); final_pitch: percent change
    of the last word (rising or falling ends); pause: probability of a pause after a word, and its
    length in ms; emphasis: probability that a word is emphasised; tremolo, drive, tilt, breath:
    voice quality (augment.py)."""

    pitch: tuple[float, float]
    pitch_range: tuple[float, float]
    rate: tuple[float, float]
    volume: tuple[float, float]
    word_pitch: tuple[float, float]
    word_rate: tuple[float, float]
    final_pitch: tuple[float, float]
    pause: tuple[float, float]
    pause_ms: tuple[float, float]
    emphasis: tuple[float, float]
    tremolo: tuple[float, float]
    drive: tuple[float, float]
    tilt: tuple[float, float]
    breath: tuple[float, float]


PROFILES: dict[str, Profile] = {
    "neutral": Profile(pitch=(44, 7), pitch_range=(45, 10), rate=(165, 15), volume=(85, 10), word_pitch=(4, 2),
                       word_rate=(4, 2), final_pitch=(-3, 5), pause=(0.05, 0.03), pause_ms=(200, 60),
                       emphasis=(0.05, 0.03), tremolo=(0, 0.02), drive=(1.0, 0.2), tilt=(0, 0.1), breath=(0.02, 0.02)),
    "happy": Profile(pitch=(60, 8), pitch_range=(76, 10), rate=(185, 18), volume=(95, 10), word_pitch=(10, 4),
                     word_rate=(6, 3), final_pitch=(12, 8), pause=(0.04, 0.03), pause_ms=(150, 50),
                     emphasis=(0.15, 0.06), tremolo=(0, 0.03), drive=(1.3, 0.3), tilt=(0.25, 0.15), breath=(0.03, 0.02)),
    "sad": Profile(pitch=(35, 7), pitch_range=(22, 9), rate=(128, 15), volume=(65, 10), word_pitch=(3, 2),
                   word_rate=(5, 3), final_pitch=(-10, 5), pause=(0.22, 0.08), pause_ms=(380, 120),
                   emphasis=(0.02, 0.02), tremolo=(0.06, 0.05), drive=(1.0, 0.1), tilt=(-0.5, 0.25), breath=(0.12, 0.06)),
    "angry": Profile(pitch=(50, 9), pitch_range=(72, 12), rate=(190, 20), volume=(110, 12), word_pitch=(12, 5),
                     word_rate=(8, 4), final_pitch=(-6, 6), pause=(0.08, 0.04), pause_ms=(140, 50),
                     emphasis=(0.35, 0.12), tremolo=(0, 0.03), drive=(3.0, 1.0), tilt=(0.6, 0.25), breath=(0.03, 0.03)),
    "fearful": Profile(pitch=(67, 9), pitch_range=(55, 12), rate=(205, 20), volume=(85, 12), word_pitch=(15, 5),
                       word_rate=(12, 5), final_pitch=(15, 10), pause=(0.18, 0.07), pause_ms=(170, 60),
                       emphasis=(0.1, 0.05), tremolo=(0.25, 0.1), drive=(1.2, 0.3), tilt=(0.15, 0.2), breath=(0.12, 0.06)),
}


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one clip: it is rendered from this alone."""

    index: int
    split: str
    emotion: str
    voice: str       # eSpeak variant: the speaker
    accent: str      # eSpeak language voice
    sentence: str
    seed: int

    @property
    def espeak_voice(self) -> str:
        return f"{self.accent}+{self.voice}"


def _stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little")


def voice_offsets(voice: str) -> dict[str, float]:
    """A voice's own habits (the same for all its clips): pitch, range and rate offsets."""
    rng = np.random.default_rng(_stable_seed("voice", voice))
    return {"pitch": float(rng.normal(0, 6)), "pitch_range": float(rng.normal(0, 6)), "rate": float(rng.normal(0, 12))}


def plan(split: str, n: int, seed: int = 0) -> list[ClipSpec]:
    """`n` clips of `split`: emotions balanced, voices, accents and sentences of that split drawn at random."""
    from core.tasks.speech_emotion_recognition.sentences import load as load_sentences

    voices, sentences = voice_split()[split], load_sentences()[split]
    rng = np.random.default_rng(_stable_seed("plan", split, seed))
    emotions = np.array([EMOTIONS[i % len(EMOTIONS)] for i in range(n)])[rng.permutation(n)]
    return [ClipSpec(index=i, split=split, emotion=str(emotions[i]), voice=str(rng.choice(voices)),
                     accent=str(rng.choice(ACCENTS)), sentence=str(rng.choice(sentences)),
                     seed=_stable_seed("clip", split, seed, i)) for i in range(n)]


def _draw(rng: np.random.Generator, setting: tuple[float, float], low: float, high: float) -> float:
    mean, sd = setting
    return float(np.clip(rng.normal(mean, sd), low, high))


def draw_prosody(spec: ClipSpec, rng: np.random.Generator) -> dict[str, float]:
    """The clip's settings: its emotion's profile with jitter, plus its voice's offsets."""
    p, own = PROFILES[spec.emotion], voice_offsets(spec.voice)
    return {
        "pitch": _draw(rng, (p.pitch[0] + own["pitch"], p.pitch[1]), 5, 95),
        "pitch_range": _draw(rng, (p.pitch_range[0] + own["pitch_range"], p.pitch_range[1]), 2, 99),
        "rate": _draw(rng, (p.rate[0] + own["rate"], p.rate[1]), 90, 320),
        "volume": _draw(rng, p.volume, 40, 140),
        "word_pitch": _draw(rng, p.word_pitch, 0, 40),
        "word_rate": _draw(rng, p.word_rate, 0, 30),
        "final_pitch": _draw(rng, p.final_pitch, -30, 40),
        "pause": _draw(rng, p.pause, 0, 0.5),
        "pause_ms": _draw(rng, p.pause_ms, 60, 800),
        "emphasis": _draw(rng, p.emphasis, 0, 0.7),
        "tremolo": _draw(rng, p.tremolo, 0, 0.6),
        "tremolo_hz": float(rng.uniform(5, 9)),
        "drive": _draw(rng, p.drive, 1, 6),
        "tilt": _draw(rng, p.tilt, -1, 1.2),
        "breath": _draw(rng, p.breath, 0, 0.35),
    }


def ssml(sentence: str, prosody: dict[str, float], rng: np.random.Generator) -> str:
    """The sentence as SSML: each word with its own pitch and rate, some emphasised, pauses between some."""
    words = sentence.split()
    parts = []
    for i, word in enumerate(words):
        pitch = rng.normal(0, prosody["word_pitch"]) + (prosody["final_pitch"] if i == len(words) - 1 else 0)
        rate = 100 + rng.normal(0, prosody["word_rate"])
        text = escape(word)
        if rng.random() < prosody["emphasis"]:
            text = f"<emphasis>{text}</emphasis>"
        parts.append(f'<prosody pitch="{pitch:+.0f}%" rate="{np.clip(rate, 60, 160):.0f}%">{text}</prosody>')
        if i < len(words) - 1 and rng.random() < prosody["pause"]:
            parts.append(f'<break time="{rng.normal(prosody["pause_ms"], 0.25 * prosody["pause_ms"]):.0f}ms"/>')
    return "<speak>" + " ".join(parts) + "</speak>"


def speech(spec: ClipSpec) -> tuple[np.ndarray, dict[str, float]]:
    """The clip's speech at SAMPLE_RATE, before recording conditions: eSpeak with the emotion's
    prosody, then its voice quality. Returns (samples, the prosody drawn)."""
    from core.audio import resample
    from core.tasks.speech_emotion_recognition.espeak import Prosody, synthesize

    rng = np.random.default_rng(spec.seed)
    prosody = draw_prosody(spec, rng)
    settings = Prosody(rate=round(prosody["rate"]), pitch=round(prosody["pitch"]),
                       pitch_range=round(prosody["pitch_range"]), volume=round(prosody["volume"]))
    samples, rate = synthesize(ssml(spec.sentence, prosody, rng), spec.espeak_voice, settings, ssml=True)
    x = trim(resample(samples, rate, SAMPLE_RATE))[0]
    x = augment.tremolo(x, rng, prosody["tremolo"], prosody["tremolo_hz"], SAMPLE_RATE)
    x = augment.tension(x, prosody["drive"])
    x = augment.tilt(x, prosody["tilt"], SAMPLE_RATE)
    x = augment.breathiness(x, rng, prosody["breath"], SAMPLE_RATE)
    return x.astype(np.float32), prosody


def place(x: np.ndarray, rng: np.random.Generator, length: int = WINDOW_SAMPLES) -> tuple[np.ndarray, int]:
    """`x` at a random position in a window of `length` samples (a random crop if longer); also
    the offset of the speech in the window (negative: cropped)."""
    window = np.zeros(length, np.float32)
    if len(x) <= length:
        offset = int(rng.integers(0, length - len(x) + 1))
        window[offset:offset + len(x)] = x
        return window, offset
    start = int(rng.integers(0, len(x) - length + 1))
    return x[start:start + length].copy(), -start


def render(spec: ClipSpec) -> tuple[np.ndarray, dict]:
    """The clip as the models get it: a WINDOW_SECONDS window at SAMPLE_RATE with the speech at a
    random place, in random recording conditions. Returns (window, metadata)."""
    x, prosody = speech(spec)
    rng = np.random.default_rng([spec.seed, 1])
    conditions = augment.draw_conditions(rng)
    x = augment.apply_speed(x, conditions)
    speech_seconds = len(x) / SAMPLE_RATE
    window, offset = place(x, rng)
    window = augment.apply_room(window, rng, conditions, SAMPLE_RATE)
    meta = {**asdict(spec), "speech_seconds": round(speech_seconds, 3), "offset_s": round(offset / SAMPLE_RATE, 3),
            "conditions": conditions.as_dict(), "condition": conditions.kind,
            "prosody": {k: round(v, 3) for k, v in prosody.items()}}
    return window, meta


def emotion_sequence(voice: str, accent: str, emotions: list[str], sentences: list[str], seed: int = 0,
                     gap_s: float = 0.4) -> tuple[np.ndarray, list[dict]]:
    """One voice saying `sentences` with `emotions` in turn, without recording effects: a longer clip
    whose emotion changes (the tab's example). Returns (samples, [{emotion, start, end}])."""
    pieces, segments, position = [], [], 0
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    for i, (emotion, sentence) in enumerate(zip(emotions, sentences)):
        spec = ClipSpec(index=i, split="example", emotion=emotion, voice=voice, accent=accent, sentence=sentence,
                        seed=_stable_seed("sequence", seed, i))
        x, _ = speech(spec)
        x = x / (np.abs(x).max() or 1.0) * 0.7
        segments.append({"emotion": emotion, "start": round(position / SAMPLE_RATE, 2),
                         "end": round((position + len(x)) / SAMPLE_RATE, 2)})
        pieces += [x, gap]
        position += len(x) + len(gap)
    return np.concatenate(pieces), segments
