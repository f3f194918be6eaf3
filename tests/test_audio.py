"""Shared audio input (core/audio.py): formats, rates, channels, and the limits every audio tab
relies on, on clips generated here (a tone, silence, noise)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from core import audio
from core.errors import InputError


def _tone(seconds: float, rate: int, channels: int = 1, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * frequency * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def _write(path, samples, rate, **kwargs):
    import soundfile

    soundfile.write(str(path), samples, rate, **kwargs)
    return path


@pytest.mark.parametrize("name, rate, channels", [("tone.wav", 44_100, 2), ("tone.flac", 22_050, 1),
                                                  ("tone.ogg", 48_000, 2), ("tone.mp3", 44_100, 1)])
def test_common_formats_any_rate_and_channels_load_as_mono_at_the_model_rate(tmp_path, name, rate, channels):
    path = _write(tmp_path / name, _tone(2.0, rate, channels), rate)
    info = audio.probe(path)
    assert info.decoder == "soundfile" and info.duration_s == pytest.approx(2.0, abs=0.1)
    samples = audio.load(path, target_rate=16_000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(32_000, abs=1_600)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.fft.rfftfreq(len(samples), 1 / 16_000)[spectrum.argmax()] == pytest.approx(440, abs=5)


def test_other_containers_are_decoded_by_the_bundled_ffmpeg(tmp_path):
    wav = _write(tmp_path / "tone.wav", _tone(1.5, 44_100), 44_100)
    m4a = tmp_path / "tone.m4a"
    subprocess.run([audio._ffmpeg(), "-loglevel", "error", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    assert audio.probe(m4a).decoder == "ffmpeg"
    samples = audio.load(m4a, target_rate=16_000)
    assert len(samples) == pytest.approx(24_000, abs=2_000) and np.abs(samples).max() > 0.1


def test_empty_and_non_audio_files_are_refused(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        audio.probe(empty)
    garbage = tmp_path / "clip.wav"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(InputError, match="not audio"):
        audio.load(garbage)
    text = tmp_path / "notes.mp3"
    text.write_text("this is not a song")
    with pytest.raises(InputError, match="not audio"):
        audio.probe(text)


def test_too_long_audio_is_refused_from_its_header_before_decoding(tmp_path, monkeypatch):
    import soundfile

    path = _write(tmp_path / "long.wav", _tone(3.0, 8_000), 8_000)
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "2")
    monkeypatch.setattr(soundfile, "read", lambda *a, **k: pytest.fail("decoded a file over the limit"))
    with pytest.raises(InputError, match="limit is 0.0333333 minutes|MAX_AUDIO_SECONDS"):
        audio.load(path)
    monkeypatch.delenv("MAX_AUDIO_SECONDS")
    assert audio.probe(path).duration_s == pytest.approx(3.0)


def test_silence_is_refused_and_speech_level_sound_passes():
    with pytest.raises(InputError, match="silent"):
        audio.check_not_silent(np.zeros(16_000, dtype=np.float32))
    with pytest.raises(InputError, match="silent"):
        audio.check_not_silent(np.zeros(0, dtype=np.float32))
    audio.check_not_silent(_tone(0.5, 16_000).astype(np.float32))
