"""eSpeak NG through ctypes, from the `espeakng-loader` wheel (library and voice data bundled, no
system package).

The library keeps one global synthesiser state (voice, parameters, callback), so every call goes
through one process-wide lock. It also keeps static state between utterances (the wave
generator's phase, its flutter index, its noise generator), which `espeak_Terminate` does not
reset: the same text came back a few samples longer or shorter depending on what was spoken
before. So each utterance loads the library afresh (dlopen, initialise, speak, terminate,
dlclose: about 5 ms), and the same arguments always give the same samples, in any order. Audio
comes back through the synthesis callback as 16-bit samples at the rate `espeak_Initialize`
returns (22,050 Hz).

    samples, rate = synthesize("<speak>Hello <break time='200ms'/> there</speak>", voice="en-us+f3",
                               rate=170, pitch=60, pitch_range=70, volume=120)
"""
from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

# speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
SSML = 0x10
POS_CHARACTER = 1
RATE, VOLUME, PITCH, RANGE, PUNCTUATION, CAPITALS, WORDGAP = 1, 2, 3, 4, 5, 6, 7
EE_OK = 0

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_lock = threading.Lock()
_state: dict = {}


class EspeakError(RuntimeError):
    """The library could not be loaded or refused a voice or a text."""


@dataclass(frozen=True)
class Prosody:
    """eSpeak's global parameters for one utterance (its own scales).

    rate: words per minute (80-450, default 175); pitch: base pitch 0-99 (default 50);
    pitch_range: 0-99 (default 50; 0 is monotone); volume: amplitude 0-200 (default 100);
    word_gap: extra pause between words in units of 10 ms at the default speed."""

    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50
    volume: int = 100
    word_gap: int = 0


def _load() -> tuple[ctypes.CDLL, int, list[np.ndarray], object]:
    """Load and initialise a fresh copy of the library (callers hold the lock and `_unload` it)."""
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.restype = ctypes.c_int
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(),
                                 INITIALIZE_DONT_EXIT)
    if rate <= 0:
        _unload(lib)
        raise EspeakError(f"espeak_Initialize failed ({rate})")
    chunks: list[np.ndarray] = []

    def collect(wav, count, events) -> int:  # noqa: ARG001 - the library's signature
        if count > 0 and wav:
            chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0: go on synthesising

    callback = _CALLBACK(collect)
    lib.espeak_SetSynthCallback(callback)
    return lib, rate, chunks, callback


def _unload(lib: ctypes.CDLL) -> None:
    """Terminate the library and unload it, so the next load starts from its initial static state."""
    import _ctypes

    lib.espeak_Terminate()
    _ctypes.dlclose(lib._handle)


def sample_rate() -> int:
    """The library's output rate (22,050 Hz for the bundled voices)."""
    if "rate" not in _state:
        with _lock:
            lib, rate, _, _ = _load()
            _unload(lib)
            _state["rate"] = rate
    return _state["rate"]


def version() -> str:
    """The library's version string (e.g. "1.52.0")."""
    if "version" not in _state:
        with _lock:
            lib, _, _, _ = _load()
            try:
                lib.espeak_Info.restype = ctypes.c_char_p
                lib.espeak_Info.argtypes = [ctypes.c_void_p]
                _state["version"] = (lib.espeak_Info(None) or b"?").decode()
            finally:
                _unload(lib)
    return _state["version"]


def synthesize(text: str, voice: str = "en", prosody: Prosody = Prosody(), ssml: bool = True) -> tuple[np.ndarray, int]:
    """Speak `text` (SSML when `ssml`) with `voice` ("en-us", "en+f3", ...): float32 samples in
    [-1, 1] and their rate. Deterministic: the same arguments give the same samples."""
    data = text.encode("utf-8") + b"\0"
    with _lock:
        lib, rate, chunks, callback = _load()
        try:
            if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
                raise EspeakError(f"unknown eSpeak voice {voice!r}")
            for parameter, value in ((RATE, prosody.rate), (VOLUME, prosody.volume), (PITCH, prosody.pitch),
                                     (RANGE, prosody.pitch_range), (WORDGAP, prosody.word_gap)):
                lib.espeak_SetParameter(parameter, int(value), 0)
            flags = CHARS_UTF8 | (SSML if ssml else 0)
            status = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, flags, None, None)
            lib.espeak_Synchronize()
        finally:
            _unload(lib)
            del callback
        if status != EE_OK:
            raise EspeakError(f"espeak_Synth failed ({status}) for {text[:60]!r}")
        _state["rate"] = rate
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return samples.astype(np.float32) / 32768.0, rate
