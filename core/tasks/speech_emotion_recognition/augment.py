"""Signal processing for the synthetic corpus: voice-quality effects that are part of an emotion's
rendering (tension, breathiness, tremolo, a darker or brighter spectrum), and the recording
conditions every split gets at random (noise, reverberation, speed, gain).

Every function takes mono float32 samples at `rate` and returns new samples (inputs are never
changed); randomness comes only from the `numpy.random.Generator` passed in.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def coloured_noise(n: int, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """Unit-RMS noise: white (flat), pink (1/f power) or brown (1/f^2 power), shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    if colour == "pink":
        spectrum /= np.sqrt(f)
    elif colour == "brown":
        spectrum /= f
    noise = np.fft.irfft(spectrum, n)
    return (noise / (_rms(noise) or 1.0)).astype(np.float32)


def add_noise(x: np.ndarray, rng: np.random.Generator, snr_db: float, colour: str = "white") -> np.ndarray:
    """`x` plus noise at `snr_db` below the speech's RMS (measured on its active part)."""
    active = x[np.abs(x) > 0.05 * (np.abs(x).max() or 1.0)]
    level = _rms(active if active.size else x)
    return (x + coloured_noise(len(x), rng, colour) * level * 10 ** (-snr_db / 20)).astype(np.float32)


def impulse_response(rng: np.random.Generator, rt60: float, rate: int) -> np.ndarray:
    """A synthetic room: a direct path, a few early reflections, then exponentially decaying noise
    whose energy falls by 60 dB after `rt60` seconds."""
    n = max(int(rt60 * rate), 16)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078: -60 dB at rt60
    tail[: int(0.005 * rate)] = 0.0  # the diffuse tail starts after ~5 ms
    ir = 0.25 * tail / (np.abs(tail).max() or 1.0)
    for _ in range(rng.integers(2, 6)):  # early reflections within 40 ms
        ir[rng.integers(int(0.002 * rate), int(0.04 * rate))] += rng.uniform(0.2, 0.6) * rng.choice([-1, 1])
    ir[0] = 1.0
    return (ir / np.sqrt(np.sum(ir ** 2))).astype(np.float32)


def reverberate(x: np.ndarray, rng: np.random.Generator, rt60: float, rate: int, wet: float = 1.0) -> np.ndarray:
    """`x` in a synthetic room (same length, same RMS): dry * (1 - wet) + reverberant * wet."""
    y = fftconvolve(x, impulse_response(rng, rt60, rate))[: len(x)]
    mixed = (1 - wet) * x + wet * y
    return (mixed * (_rms(x) / (_rms(mixed) or 1.0))).astype(np.float32)


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play `x` `factor` times faster (tempo and pitch together, like a tape), by resampling."""
    up = 100
    down = int(round(up * factor))
    return resample_poly(x, up, down).astype(np.float32) if down != up else x.copy()


def tremolo(x: np.ndarray, rng: np.random.Generator, depth: float, hz: float, rate: int) -> np.ndarray:
    """Amplitude shaking at `hz` (a trembling voice), with a slowly wandering rate."""
    t = np.arange(len(x)) / rate
    wander = 1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * hz * np.cumsum(wander) / rate + rng.uniform(0, 2 * np.pi)
    return (x * (1 - depth * 0.5 * (1 + np.sin(phase)))).astype(np.float32)


def tension(x: np.ndarray, drive: float) -> np.ndarray:
    """A pressed, effortful voice: soft saturation (more high harmonics), level kept."""
    if drive <= 1.0:
        return x.copy()
    peak = np.abs(x).max() or 1.0
    y = np.tanh(drive * x / peak) / np.tanh(drive)
    return (y * peak).astype(np.float32)


def tilt(x: np.ndarray, amount: float, rate: int) -> np.ndarray:
    """Brighter (amount > 0: high frequencies raised) or darker (amount < 0: low-passed) voice, RMS kept."""
    if abs(amount) < 1e-3:
        return x.copy()
    if amount > 0:
        high = sosfilt(butter(2, 1500, "highpass", fs=rate, output="sos"), x)
        y = x + amount * high
    else:
        cutoff = 4000 - 2500 * min(1.0, -amount)  # from 4 kHz down to 1.5 kHz
        y = sosfilt(butter(2, cutoff, "lowpass", fs=rate, output="sos"), x)
    return (y * (_rms(x) / (_rms(y) or 1.0))).astype(np.float32)


def breathiness(x: np.ndarray, rng: np.random.Generator, amount: float, rate: int) -> np.ndarray:
    """Aspiration noise that follows the voice's envelope (high-passed), `amount` of its RMS."""
    if amount <= 0:
        return x.copy()
    envelope = fftconvolve(np.abs(x), np.ones(int(0.02 * rate)) / int(0.02 * rate), mode="same")
    noise = sosfilt(butter(2, 2000, "highpass", fs=rate, output="sos"), rng.standard_normal(len(x)))
    noise = noise * envelope
    return (x + amount * noise * (_rms(x) / (_rms(noise) or 1.0))).astype(np.float32)


@dataclass(frozen=True)
class Conditions:
    """The recording conditions one clip got (None: not applied)."""

    snr_db: float | None = None
    noise: str | None = None
    rt60: float | None = None
    speed: float | None = None
    gain_db: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def kind(self) -> str:
        """A short name for error analysis: clean, noise, reverb or noise+reverb."""
        parts = [name for name, on in (("noise", self.snr_db is not None), ("reverb", self.rt60 is not None)) if on]
        return "+".join(parts) or "clean"


def draw_conditions(rng: np.random.Generator) -> Conditions:
    """Random recording conditions: noise (p 0.55, SNR 5-35 dB), a room (p 0.4, RT60 0.15-0.9 s),
    speed (p 0.3, x0.92-1.08) and gain (-20 to +6 dB; louder clips clip, as a hot microphone does)."""
    noisy, roomy, faster = rng.random(3) < (0.55, 0.4, 0.3)
    return Conditions(
        snr_db=round(float(rng.uniform(5, 35)), 1) if noisy else None,
        noise=str(rng.choice(["white", "pink", "brown"])) if noisy else None,
        rt60=round(float(rng.uniform(0.15, 0.9)), 2) if roomy else None,
        speed=round(float(rng.uniform(0.92, 1.08)), 3) if faster else None,
        gain_db=round(float(rng.uniform(-20, 6)), 1),
    )


def apply_speed(x: np.ndarray, conditions: Conditions) -> np.ndarray:
    """The speed change of `conditions` (applied to the speech before it is placed in its window)."""
    return change_speed(x, conditions.speed) if conditions.speed else x


def apply_room(x: np.ndarray, rng: np.random.Generator, conditions: Conditions, rate: int) -> np.ndarray:
    """Reverberation, noise and gain of `conditions`, in that order (the room, then the microphone)."""
    if conditions.rt60 is not None:
        x = reverberate(x, rng, conditions.rt60, rate, wet=float(rng.uniform(0.4, 1.0)))
    if conditions.snr_db is not None:
        x = add_noise(x, rng, conditions.snr_db, conditions.noise or "white")
    peak = np.abs(x).max() or 1.0
    x = x / peak * 0.7 * 10 ** (conditions.gain_db / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32)
