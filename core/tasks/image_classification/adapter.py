"""Inference adapter: preprocess -> forward -> postprocess, each usable on its own.

`load(variant, model_dir)` reads only `<variant>.safetensors`, `config.json` and `domain.npz`;
`load("auto", model_dir)` returns an `AutoClassifier` that sends each picture to the model
it is for (see domain.py).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from safetensors.torch import load_file

from core.artifacts import load_json
from core.tasks.image_classification import domain
from core.tasks.image_classification import preprocess as pp
from core.tasks.image_classification.gradcam import grad_cam, overlay
from core.tasks.image_classification.model import CompactCNN

FRAMINGS: dict[str, Callable[[Any], np.ndarray]] = {"product": pp.preprocess_product, "digit": pp.preprocess_digit}
EXPECTS = {"product": "one product (clothing, shoes or a bag) on a plain background",
           "digit": "one handwritten digit, 0-9"}


class ImageClassifier:
    """A trained CompactCNN with its labels, normalisation and input framing."""

    def __init__(self, variant: str, model: CompactCNN, labels: list[str], mean: float, std: float,
                 framing: str, version: str = "", confidence_floor: float = 0.0) -> None:
        self.variant = variant
        self.model = model.eval()
        self.labels = list(labels)
        self.mean = float(mean)
        self.std = float(std)
        self.framing = framing
        self.version = version
        self.confidence_floor = float(confidence_floor)  # see domain.py; 0 = no warning

    # -- the three steps ------------------------------------------------------------
    def preprocess(self, image: Any) -> np.ndarray:
        """Any user image -> the 28x28 frame in [0, 1] the model sees (see preprocess.py)."""
        return FRAMINGS[self.framing](image)

    def to_tensor(self, frames: np.ndarray) -> torch.Tensor:
        """(28, 28) or (N, 28, 28) frames in [0, 1] (or uint8) -> normalised (N, 1, 28, 28) tensor."""
        x = np.asarray(frames, dtype=np.float32)
        if np.asarray(frames).dtype == np.uint8:
            x = x / 255.0
        if x.ndim == 2:
            x = x[None]
        return (torch.from_numpy(x).unsqueeze(1) - self.mean) / self.std

    @torch.inference_mode()
    def forward(self, frames: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Class probabilities (N, classes) for frames."""
        x = self.to_tensor(frames)
        out = [torch.softmax(self.model(x[i:i + batch_size]), dim=1) for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy()

    def postprocess(self, probs: np.ndarray, k: int = 5) -> list[dict]:
        """Top-k [{"label", "score"}], best first, for one probability vector."""
        probs = np.asarray(probs).ravel()
        order = np.argsort(-probs)[:k]
        return [{"label": self.labels[i], "score": round(float(probs[i]), 6)} for i in order]

    # -- conveniences -----------------------------------------------------------------
    def explain(self, frame: np.ndarray, class_index: int | None = None, size: int = 224) -> np.ndarray:
        """Grad-CAM overlay (size x size x 3 uint8) for `class_index` (default: top class) on the frame.
        Safe to call from concurrent requests: the shared model is not modified (see gradcam.py)."""
        cam, _ = grad_cam(self.model, self.to_tensor(frame), class_index)
        return overlay(frame, cam, size=size)

    def predict(self, image: Any, k: int = 5, frame: np.ndarray | None = None, explain: bool = False) -> dict:
        """Full pipeline for one image; returns the JSON-able result plus the frame (key "frame")
        and, with `explain`, the Grad-CAM overlay of the top class (key "explanation"), computed
        in the same forward pass as the prediction."""
        start = time.perf_counter()
        frame = self.preprocess(image) if frame is None else frame
        extras: dict[str, Any] = {"frame": frame}
        if explain:
            cam, probs = grad_cam(self.model, self.to_tensor(frame))
            extras["explanation"] = overlay(frame, cam)
        else:
            probs = self.forward(frame)[0]
        predictions = self.postprocess(probs, k)
        return {
            "predictions": predictions,
            "warning": self.warning(float(np.max(probs))),
            "model": f"image_classification/{self.variant}",
            "variant": self.variant,
            "version": self.version,
            "latency_ms": round((time.perf_counter() - start) * 1000, 2),
            **extras,
        }


    def warning(self, top_probability: float) -> str | None:
        """A sentence for the user when the picture looks unlike this model's held-out images."""
        if top_probability >= self.confidence_floor:
            return None
        return (f"This picture looks unusual to the {self.variant} model: it is less sure ({top_probability:.0%}) than on "
                f"95% of its held-out test images, so the answer may mean little. It expects "
                f"{EXPECTS[self.framing]}.")


class AutoClassifier:
    """The "auto" model: reads the picture once, lets the router (domain.py) pick the model it is
    for, and returns that model's answer with the choice under "routing"."""

    variant = "auto"

    def __init__(self, check: domain.DomainCheck, classifiers: dict[str, ImageClassifier]) -> None:
        self.check = check
        self.classifiers = classifiers

    def predict(self, image: Any, k: int = 5, explain: bool = False) -> dict:
        start = time.perf_counter()
        picture = pp.open_image(image)
        product_frame = pp.frame_product(*pp.to_intensity(picture))
        route, probability = self.check.route(product_frame)
        classifier = self.classifiers[route]
        result = classifier.predict(picture, k, frame=product_frame if classifier.framing == "product" else None,
                                    explain=explain)
        result["routing"] = {"model": route, "probability": round(probability, 4)}
        result["latency_ms"] = round((time.perf_counter() - start) * 1000, 2)
        return result


def load(variant: str, model_dir: Path) -> ImageClassifier | AutoClassifier:
    """Load the shipped `variant` ("fashion", "digits" or "auto": both, routed) from `model_dir`."""
    model_dir = Path(model_dir)
    check = domain.load(model_dir)
    if variant == "auto":
        if check is None:
            raise FileNotFoundError(f"No {domain.FILE} in {model_dir}: run python -m core.tasks.image_classification.domain")
        return AutoClassifier(check, {v: load(v, model_dir) for v in domain.ROUTES})
    config = load_json(model_dir / "config.json")
    if variant not in config["variants"]:
        raise KeyError(f"No variant {variant!r} in {model_dir / 'config.json'}; have {', '.join(config['variants'])}")
    cfg = config["variants"][variant]
    model = CompactCNN(num_classes=len(cfg["labels"]), **cfg["architecture"])
    model.load_state_dict(load_file(str(model_dir / cfg["weights"])))
    model.requires_grad_(False)  # served, never trained: explanations differentiate activations only
    return ImageClassifier(variant, model, cfg["labels"], cfg["normalisation"]["mean"], cfg["normalisation"]["std"],
                           cfg["framing"], config.get("version", ""),
                           check.confidence_floor.get(variant, 0.0) if check else 0.0)
