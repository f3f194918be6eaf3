"""Inference adapter of task 12: a picture, a text and a spoken description, fused into one of the
9 emoji categories, with how much each input counted and why.

preprocess (each input optional, at least one required: the picture through `core.images` (pixel
limit, 64 px on white), the text through `core.text_input`, the audio through `core.audio` (format,
length and silence checks; the speech trimmed to 6 s)) -> forward (the frozen encoders, then the
fusion model over the inputs present) -> postprocess (category probabilities, gate weights per
modality, the prediction with each modality removed, each modality alone) -> explanations
(Grad-CAM on the picture, leave-one-word-out on the text, silencing each stretch of the speech).

Requests only read the shared model: eval mode, no hooks; Grad-CAM asks autograd for the gradient of
the feature map it computed itself, so concurrent requests never interfere.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.tasks.multimodal_fusion.data import CATEGORIES
from core.tasks.multimodal_fusion.encoders import (ENCODER_HOP, MAX_TEXT_TOKENS, MEL_HOP, SAMPLE_RATE, SpeechEncoder, TextEncoder,
                                                   trim_speech)
from core.tasks.multimodal_fusion.model import MODALITIES, subset_name

VARIANTS = ("fusion",)
NO_INPUT = "Give at least one input: a picture (upload or draw), a text, or a spoken description (upload or record)."
FLAT_PICTURE = "The picture is one flat colour, with nothing to recognise: upload or draw a picture of something."
MAX_WORDS = 40        # texts explained word by word (longer ones are still read, up to MAX_TEXT_TOKENS tokens)
AUDIO_BANDS = 12      # stretches of speech silenced one at a time
SYNTHETIC_NOTE = ("The spoken-description branch learned from synthetic speech (eSpeak NG voices): human voices "
                  "and accents it never heard may be read less well.")


def ranked(probabilities: np.ndarray) -> list[dict]:
    order = np.argsort(-probabilities, kind="stable")
    return [{"label": CATEGORIES[i], "score": round(float(probabilities[i]), 4)} for i in order]


def picture_input(image: Any) -> np.ndarray:
    """(64, 64, 3) float32 in [0, 1] from a path, an array, a PIL image or a sketchpad value."""
    from core.images import editor_image
    from core.tasks.multimodal_fusion.pictures import to_model_input

    picture = to_model_input(editor_image(image, NO_INPUT))
    if float(picture.std(axis=(0, 1)).max()) < 0.01:  # every channel constant
        raise InputError(FLAT_PICTURE)
    return picture


class FusionClassifier:
    """The fusion model with its two frozen encoders (loaded on first need, once)."""

    def __init__(self, model_dir: Path) -> None:
        from core.tasks.multimodal_fusion.model import load

        self.model, self.config = load(model_dir)
        self.temperatures = {k: float(v) for k, v in self.config.get("temperatures", {}).items()}
        self._encoders: dict[str, Any] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ encoders
    def _encoder(self, name: str) -> Any:
        with self._lock:
            if name not in self._encoders:
                self._encoders[name] = TextEncoder() if name == "text" else SpeechEncoder()
            return self._encoders[name]

    def text_vectors(self, texts: list[str]) -> np.ndarray:
        return self._encoder("text").encode(texts)

    def audio_vectors(self, clips: list[np.ndarray]) -> np.ndarray:
        return self._encoder("audio").encode(clips)

    # ------------------------------------------------------------------ forward
    def probabilities(self, picture: np.ndarray | None, text: np.ndarray | None, audio: np.ndarray | None,
                      present: np.ndarray, calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (B, 9) and gate weights (B, 3) from model inputs: pictures (B, 64, 64, 3) in
        [0, 1], text (B, 384) and audio (B, 768) vectors; `present` (B, 3) bool. `calibrated`: each
        row's logits divided by the temperature of its input subset (fitted on validation). The
        evaluation scores the stored test vectors through this same function."""
        import torch

        from core.tasks.multimodal_fusion.pictures import normalise

        def tensor(x: np.ndarray | None) -> Any:
            return None if x is None else torch.from_numpy(np.ascontiguousarray(x, np.float32))

        image = None if picture is None else normalise(tensor(picture).permute(0, 3, 1, 2))
        mask = torch.from_numpy(np.asarray(present, bool))
        with torch.no_grad():
            out = self.model(image, tensor(text), tensor(audio), mask)
            temperature = torch.tensor([self.temperatures.get(subset_name(row), 1.0) if calibrated else 1.0
                                        for row in np.asarray(present, bool)], dtype=torch.float64)
            probabilities = torch.softmax(out["logits"].double() / temperature[:, None], -1)
        return probabilities.numpy(), out["weights"].double().numpy()

    def _grad_cam(self, picture: np.ndarray, text: np.ndarray | None, audio: np.ndarray | None,
                  present: np.ndarray, target: int) -> np.ndarray:
        """Grad-CAM of the fused score of `target` on the picture: (64, 64) in [0, 1]."""
        import torch
        import torch.nn.functional as F

        from core.tasks.multimodal_fusion.pictures import SIZE, normalise

        model = self.model
        x = normalise(torch.from_numpy(picture).permute(2, 0, 1)[None])
        mask = torch.from_numpy(present[None])
        with torch.no_grad():
            feature_map = model.image.features(x)
        feature_map.requires_grad_(True)
        with torch.enable_grad():
            pooled = model.image.pool(feature_map)
            vectors = model.embed(pooled, None if text is None else torch.from_numpy(text[None]),
                                  None if audio is None else torch.from_numpy(audio[None]), mask)
            score = model.fuse(vectors, mask)[0][0, target]
            gradient, = torch.autograd.grad(score, feature_map)
        cam = torch.relu((gradient.mean(dim=(2, 3), keepdim=True) * feature_map).sum(1, keepdim=True)).detach()
        cam = F.interpolate(cam, size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0, 0].numpy()
        return cam / cam.max() if cam.max() > 0 else cam

    # ------------------------------------------------------------------ the request
    def fuse(self, image: Any = None, text: Any = None, audio: Any = None, display: bool = False) -> dict:
        """The category of whatever inputs were given (JSON-ready): `predictions`, `modality_weights`,
        `ablation` (each present modality removed), `single_modality` (each alone), `explanations`;
        with `display`, also the arrays the tab draws (not part of the API)."""
        started = time.perf_counter()
        notes: list[str] = []
        picture = None if _empty(image) else picture_input(image)
        words = None
        if not _empty(text):
            from core.text_input import checked_text

            checked = checked_text(text, "text")
            words = checked.text.strip()
            if checked.truncated:
                notes.append(checked.note())
        speech = None
        if not _empty(audio):
            speech, speech_start, cut = self._speech(audio)
            if cut:
                notes.append(f"Only the first {len(speech) / SAMPLE_RATE:g} s of speech were used.")
            notes.append(SYNTHETIC_NOTE)
        present = np.array([picture is not None, words is not None, speech is not None])
        if not present.any():
            raise InputError(NO_INPUT)

        text_vector = self.text_vectors([words])[0] if words is not None else None
        if words is not None:
            if self._encoder("text").token_count(words) > MAX_TEXT_TOKENS:
                notes.append(f"A long text: the model read its first {MAX_TEXT_TOKENS} tokens (a name, a short "
                             "description or a few keywords is what it learned from).")
            if len(words.split()) > MAX_WORDS:
                notes.append(f"Word weights are shown for texts of up to {MAX_WORDS} words.")
        audio_vector = self.audio_vectors([speech])[0] if speech is not None else None
        zeros_picture = np.zeros((64, 64, 3), np.float32)

        def run(masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            n = len(masks)
            return self.probabilities(np.repeat((picture if picture is not None else zeros_picture)[None], n, 0),
                                      None if text_vector is None else np.repeat(text_vector[None], n, 0),
                                      None if audio_vector is None else np.repeat(audio_vector[None], n, 0),
                                      np.stack(masks))

        used = [m for m, p in zip(MODALITIES, present) if p]
        singles = [np.array([m == k for k in MODALITIES]) for m in used]
        removed = [present & ~np.array([m == k for k in MODALITIES]) for m in used] if len(used) > 1 else []
        probabilities, weights = run([present, *singles, *removed])
        full = probabilities[0]
        best = int(np.argmax(full))
        result: dict[str, Any] = {
            "model": "fusion",
            "predictions": ranked(full),
            "inputs": used,
            "modality_weights": {m: round(float(weights[0][k]), 4) for k, m in enumerate(MODALITIES)},
            "single_modality": {m: {"label": CATEGORIES[int(np.argmax(p))], "score": round(float(p.max()), 4),
                                    "score_of_fused_label": round(float(p[best]), 4)}
                                for m, p in zip(used, probabilities[1:1 + len(used)])},
            "ablation": {},
        }
        for m, p in zip(used, probabilities[1 + len(used):]):
            result["ablation"][m] = {"removed": m, "label": CATEGORIES[int(np.argmax(p))],
                                     "score": round(float(p.max()), 4), "predictions": ranked(p)[:3],
                                     "confidence_drop": round(float(full[best] - p[best]), 4)}
        if len(used) == 1:
            notes.append("With one input there is nothing to remove: give two or three to see what each adds.")

        explanations: dict[str, Any] = {}
        display_data: dict[str, Any] = {}
        if picture is not None:
            cam = self._grad_cam(picture, text_vector, audio_vector, present, best)
            explanations["image"] = {"method": "Grad-CAM on the fused score", "grid": _coarse(cam, 8)}
            display_data["image"] = {"picture": picture, "cam": cam}
        if words is not None:
            explanations["text"] = self._word_weights(words, picture, audio_vector, present, best, full[best])
        if speech is not None:
            bands = self._audio_weights(speech, picture, text_vector, present, best, full[best])
            explanations["audio"] = [{**b, "start": round(b["start"] + speech_start / SAMPLE_RATE, 2),
                                      "end": round(b["end"] + speech_start / SAMPLE_RATE, 2)} for b in bands]
            display_data["audio"] = {"mel": self._encoder("audio").mel(speech)[:, : int(np.ceil(len(speech) / MEL_HOP))],
                                     "offset_s": speech_start / SAMPLE_RATE}
        result.update(explanations=explanations, categories=list(CATEGORIES), notes=notes,
                      latency_ms=round((time.perf_counter() - started) * 1000, 1))
        if display:
            result["display"] = display_data
        return result

    def _speech(self, audio: Any) -> tuple[np.ndarray, int, bool]:
        from core.audio import check_not_silent, load as load_audio

        if not isinstance(audio, (str, Path)):
            raise InputError("The audio must be a file (WAV, FLAC, MP3, OGG or M4A).")
        samples = load_audio(audio, SAMPLE_RATE)
        check_not_silent(samples, "recording")
        speech, start, cut = trim_speech(samples)
        if len(speech) < ENCODER_HOP * 5:
            raise InputError("The recording holds less than 0.1 s of sound: say the description again, a little longer.")
        return speech, start, cut

    def _word_weights(self, words: str, picture, audio_vector, present, best: int, full_score: float) -> list[dict]:
        """Each word's weight: how much the fused score of the prediction drops without it."""
        tokens = words.split()
        if len(tokens) < 2 or len(tokens) > MAX_WORDS:
            return [{"token": words, "weight": round(float(full_score), 4)}] if len(tokens) < 2 else []
        variants = [" ".join(tokens[:i] + tokens[i + 1:]) for i in range(len(tokens))]
        vectors = self.text_vectors(variants)
        n = len(variants)
        masks = np.repeat(present[None], n, 0)
        pictures = np.repeat((picture if picture is not None else np.zeros((64, 64, 3), np.float32))[None], n, 0)
        audio = None if audio_vector is None else np.repeat(audio_vector[None], n, 0)
        probabilities, _ = self.probabilities(pictures, vectors, audio, masks)
        return [{"token": t, "weight": round(float(full_score - p[best]), 4)} for t, p in zip(tokens, probabilities)]

    def _audio_weights(self, speech: np.ndarray, picture, text_vector, present, best: int,
                       full_score: float) -> list[dict]:
        """Each stretch's weight: how much the fused score drops when that stretch is silenced."""
        edges = np.linspace(0, len(speech), min(AUDIO_BANDS, max(2, len(speech) // (SAMPLE_RATE // 8))) + 1).astype(int)
        clips = []
        for a, b in zip(edges[:-1], edges[1:]):
            clip = speech.copy()
            clip[a:b] = 0.0
            clips.append(clip)
        vectors = self.audio_vectors(clips)
        n = len(clips)
        probabilities, _ = self.probabilities(
            np.repeat((picture if picture is not None else np.zeros((64, 64, 3), np.float32))[None], n, 0),
            None if text_vector is None else np.repeat(text_vector[None], n, 0), vectors, np.repeat(present[None], n, 0))
        return [{"start": round(a / SAMPLE_RATE, 2), "end": round(b / SAMPLE_RATE, 2),
                 "weight": round(float(full_score - p[best]), 4)} for a, b, p in zip(edges[:-1], edges[1:], probabilities)]

    def warm(self) -> None:
        """Load both encoders and run one request of each kind, so the first user does not wait."""
        self.text_vectors(["warm up"])
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        self.audio_vectors([(0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)])


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, dict) and not any(value.get(k) for k in ("path", "url", "composite", "background", "layers")))


def _coarse(cam: np.ndarray, cells: int) -> list[list[float]]:
    """A (cells x cells) average of a heat map, for JSON."""
    side = cam.shape[0] // cells
    return cam[: side * cells, : side * cells].reshape(cells, side, cells, side).mean((1, 3)).round(3).tolist()


def load(variant: str, model_dir: Path) -> FusionClassifier:
    if variant not in VARIANTS:
        raise KeyError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return FusionClassifier(Path(model_dir))
