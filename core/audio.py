"""Audio input for the audio tasks, in one place: any common format, any rate, mono or stereo, with
the limits every tab needs checked before a whole file is decoded.

* WAV, FLAC, OGG/Vorbis and MP3 are read by libsndfile (the `soundfile` wheel bundles it);
  anything else (M4A/AAC, WebM/Opus from a browser microphone...) by the FFmpeg binary of the
  `imageio-ffmpeg` wheel, so no system package is needed.
* `probe` reads the duration from the header: an empty file, a file that is not audio and audio
  longer than MAX_AUDIO_SECONDS are refused before decoding.
* `load` returns mono float32 samples at the rate a model wants (polyphase resampling, scipy);
  `check_not_silent` refuses silence.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.settings import Settings

SILENCE_RMS = 1e-3  # below this RMS (full scale 1.0) the audio is treated as silence
_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class AudioInfo:
    """What the header says: duration, native rate and channels, and which decoder reads it."""

    duration_s: float
    sample_rate: int | None
    channels: int | None
    decoder: str  # "soundfile" or "ffmpeg"


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg_duration(path: Path) -> float | None:
    """The container's duration as FFmpeg reports it (None: no audio stream FFmpeg can read)."""
    done = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=30)
    if "Audio:" not in done.stderr:
        return None
    match = _DURATION.search(done.stderr)
    if not match:
        return float("nan")  # a stream without a duration in its header (e.g. a live WebM recording)
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def probe(path: str | Path, max_seconds: float | None = None) -> AudioInfo:
    """The header of an audio file, or an InputError for an empty, non-audio or too long file."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError("The audio file is empty: record or upload a file with sound in it.")
    max_seconds = Settings.from_env().max_audio_seconds if max_seconds is None else max_seconds
    import soundfile

    try:
        info = soundfile.info(str(path))
        audio = AudioInfo(float(info.duration), int(info.samplerate), int(info.channels), "soundfile")
    except (RuntimeError, soundfile.LibsndfileError):
        duration = _ffmpeg_duration(path)
        if duration is None:
            raise InputError("That file is not audio (or not a format this server can read): upload a WAV, FLAC, "
                             "MP3, OGG or M4A file.") from None
        audio = AudioInfo(duration, None, None, "ffmpeg")
    if audio.duration_s > max_seconds:
        raise InputError(f"The audio is {audio.duration_s / 60:.1f} minutes long; the limit is "
                         f"{max_seconds / 60:g} minutes (MAX_AUDIO_SECONDS). Upload a shorter clip.")
    return audio


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Mono samples from `rate` to `target_rate` (polyphase filter, scipy)."""
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    common = gcd(int(rate), int(target_rate))
    return resample_poly(samples, target_rate // common, rate // common).astype(np.float32)


def load(path: str | Path, target_rate: int = 16_000, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples in [-1, 1] at `target_rate`, after `probe`'s checks; at most
    `max_seconds` are ever decoded, whatever the header claimed."""
    max_seconds = Settings.from_env().max_audio_seconds if max_seconds is None else max_seconds
    info = probe(path, max_seconds)
    if info.decoder == "soundfile":
        import soundfile

        frames = int(max_seconds * info.sample_rate) + 1
        data, rate = soundfile.read(str(path), frames=frames, dtype="float32", always_2d=True)
        return resample(data.mean(axis=1), rate, target_rate)
    command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-t", f"{max_seconds + 1:g}",
               "-vn", "-ac", "1", "-ar", str(target_rate), "-f", "f32le", "-"]
    done = subprocess.run(command, capture_output=True, timeout=120)
    samples = np.frombuffer(done.stdout, dtype=np.float32)
    if done.returncode != 0 or not samples.size:
        raise InputError("The audio could not be decoded: upload a WAV, FLAC, MP3, OGG or M4A file that plays.")
    if samples.size > max_seconds * target_rate + target_rate:  # a header without a duration, and too long
        raise InputError(f"The audio is longer than the {max_seconds / 60:g}-minute limit (MAX_AUDIO_SECONDS).")
    return samples.copy()


def check_not_silent(samples: np.ndarray, what: str = "audio") -> None:
    """An InputError when `samples` is empty or silent (RMS below SILENCE_RMS)."""
    if samples.size == 0 or float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < SILENCE_RMS:
        raise InputError(f"The {what} is silent: check the microphone, or upload a clip where someone speaks.")
