"""What the models hear: 3-second windows at 16 kHz, as a log-mel spectrogram (the CNN) or as
statistics of MFCCs, pitch, energy and spectral shape (the baseline). librosa does the arithmetic.

Both are invariant to the recording level: the log-mel is in dB below the window's loudest bin, and
the statistics are taken over the window's active frames (within 30 dB of its loudest frame), so a
quiet microphone and a loud one give the same features, and silence around the speech hardly matters.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
WINDOW_SECONDS = 3.0
HOP_SECONDS = 1.0  # the timeline of a long recording: a window every second
WINDOW_SAMPLES = int(WINDOW_SECONDS * SAMPLE_RATE)
N_FFT, HOP_LENGTH, N_MELS = 512, 256, 64  # 32 ms frames every 16 ms, 64 mel bands up to 8 kHz
FRAMES = 1 + WINDOW_SAMPLES // HOP_LENGTH  # 188
TOP_DB = 80.0
ACTIVE_DB = 30.0
PITCH_RANGE_HZ = (65.0, 500.0)

N_MFCC, N_DELTA = 20, 13
STAT_NAMES = ([f"mfcc{i}_mean" for i in range(N_MFCC)] + [f"mfcc{i}_std" for i in range(N_MFCC)]
              + [f"delta{i}_std" for i in range(N_DELTA)]
              + ["f0_median_st", "f0_p10_st", "f0_p90_st", "f0_span_st", "f0_std_st", "f0_slope_st", "voiced_fraction"]
              + ["energy_std_db", "energy_span_db", "active_fraction", "energy_peaks_per_s"]
              + ["centroid_mean_khz", "centroid_std_khz", "rolloff_mean_khz", "flatness_mean", "zcr_mean"])


def windows(samples: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    """`samples` (SAMPLE_RATE) as (start_s, end_s, window) of WINDOW_SAMPLES each: one window centred
    in silence for a short clip; otherwise every HOP_SECONDS, the last one ending with the audio, so
    every sample is in at least one window."""
    n, hop = len(samples), int(HOP_SECONDS * SAMPLE_RATE)
    if n <= WINDOW_SAMPLES:
        window = np.zeros(WINDOW_SAMPLES, np.float32)
        offset = (WINDOW_SAMPLES - n) // 2
        window[offset:offset + n] = samples
        return [(0.0, n / SAMPLE_RATE, window)]
    starts = list(range(0, n - WINDOW_SAMPLES + 1, hop))
    if starts[-1] != n - WINDOW_SAMPLES:
        starts.append(n - WINDOW_SAMPLES)
    return [(s / SAMPLE_RATE, (s + WINDOW_SAMPLES) / SAMPLE_RATE, samples[s:s + WINDOW_SAMPLES].astype(np.float32))
            for s in starts]


def trim(samples: np.ndarray, top_db: float = 40.0) -> tuple[np.ndarray, int]:
    """`samples` without leading and trailing silence (frames `top_db` below the loudest frame), and
    the index of the first sample kept."""
    import librosa

    if not samples.size or not np.any(samples):
        return samples, 0
    _, (start, end) = librosa.effects.trim(samples, top_db=top_db, frame_length=512, hop_length=128)
    return samples[start:end], int(start)


def analysis_windows(samples: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    """What the models analyse of a recording (SAMPLE_RATE): its windows after the silence before and
    after the speech is trimmed, with times in the original recording. Training, evaluation and the
    app all go through this function."""
    speech, start = trim(np.asarray(samples, np.float32))
    offset = start / SAMPLE_RATE
    return [(a + offset, b + offset, w) for a, b, w in windows(speech)]


def _power(batch: np.ndarray) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(batch, n_fft=N_FFT, hop_length=HOP_LENGTH)) ** 2


@lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    """librosa's mel filter bank (Slaney), (N_MELS, N_FFT // 2 + 1)."""
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmax=SAMPLE_RATE / 2).astype(np.float32)


def _mel_db(power: np.ndarray) -> np.ndarray:
    """Mel power in dB below the loudest bin of each window (floored at -TOP_DB). Same as
    librosa.feature.melspectrogram, with a plain matrix product (its einsum was 10x slower here)."""
    mel = np.maximum(mel_basis() @ power.astype(np.float32), 1e-10)
    db = 10 * np.log10(mel)
    db -= db.max(axis=(-2, -1), keepdims=True)
    return np.maximum(db, -TOP_DB)


def log_mel(batch: np.ndarray) -> np.ndarray:
    """Windows (n, WINDOW_SAMPLES) or one window -> the CNN's input, (n, N_MELS, FRAMES) float32 in
    about [-1, 1]: dB below the window's loudest bin, (dB + 40) / 40."""
    batch = np.asarray(batch, np.float32)
    return ((_mel_db(_power(batch)) + TOP_DB / 2) / (TOP_DB / 2)).astype(np.float32)


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    return [float(v) for v in np.percentile(values, qs)] if values.size else [0.0] * len(qs)


def prosodic_stats(window: np.ndarray) -> np.ndarray:
    """The baseline's features of one window (len(STAT_NAMES) values, float32): MFCC means and
    spreads, pitch level and movement in semitones (librosa's YIN), energy dynamics, a syllable-rate
    proxy (peaks of the energy envelope) and spectral shape, over the window's active frames."""
    import librosa
    from scipy.signal import find_peaks

    window = np.asarray(window, np.float32)
    power = _power(window)
    mel_db = _mel_db(power)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)
    frame_db = 10 * np.log10(np.maximum(power.sum(axis=0), 1e-12))
    frame_db -= frame_db.max()
    active = frame_db > -ACTIVE_DB
    if active.sum() < 2:
        active[:] = True
    m = mfcc[:, active]
    delta = librosa.feature.delta(mfcc, width=5)[:N_DELTA, active]
    f0 = librosa.yin(window, fmin=PITCH_RANGE_HZ[0], fmax=PITCH_RANGE_HZ[1], sr=SAMPLE_RATE, frame_length=1024,
                     hop_length=HOP_LENGTH)[: len(active)]
    voiced = active[: len(f0)] & (f0 > PITCH_RANGE_HZ[0] * 1.05) & (f0 < PITCH_RANGE_HZ[1] * 0.95)
    semitones = 12 * np.log2(f0[voiced] / 100.0) if voiced.any() else np.zeros(0)
    p10, p50, p90 = _percentiles(semitones, (10, 50, 90))
    runs = np.diff(semitones) if semitones.size > 1 else np.zeros(1)
    slope = float(np.median(np.abs(runs[np.abs(runs) < 3]))) if np.any(np.abs(runs) < 3) else 0.0
    levels = frame_db[active]
    e10, e90 = _percentiles(levels, (10, 90))
    envelope = np.convolve(frame_db.clip(-ACTIVE_DB), np.ones(3) / 3, mode="same")
    peaks, _ = find_peaks(envelope, prominence=6, distance=6)
    seconds_active = max(active.sum() * HOP_LENGTH / SAMPLE_RATE, 0.1)
    centroid = librosa.feature.spectral_centroid(S=np.sqrt(power), sr=SAMPLE_RATE)[0][active] / 1000
    rolloff = librosa.feature.spectral_rolloff(S=np.sqrt(power), sr=SAMPLE_RATE)[0][active] / 1000
    flatness = librosa.feature.spectral_flatness(S=np.sqrt(power))[0][active]
    zcr = librosa.feature.zero_crossing_rate(window, frame_length=N_FFT, hop_length=HOP_LENGTH)[0][: len(active)]
    values = [*m.mean(axis=1), *m.std(axis=1), *delta.std(axis=1),
              p50, p10, p90, p90 - p10, float(semitones.std()) if semitones.size else 0.0, slope,
              float(voiced.sum() / max(active.sum(), 1)),
              float(levels.std()), e90 - e10, float(active.mean()), len(peaks) / seconds_active,
              float(centroid.mean()), float(centroid.std()), float(rolloff.mean()), float(flatness.mean()),
              float(zcr[active[: len(zcr)]].mean())]
    return np.asarray(values, np.float32)


def stats_batch(batch: np.ndarray) -> np.ndarray:
    """prosodic_stats of each window of (n, WINDOW_SAMPLES): (n, len(STAT_NAMES))."""
    return np.stack([prosodic_stats(w) for w in np.atleast_2d(batch)]) if len(batch) else \
        np.zeros((0, len(STAT_NAMES)), np.float32)
