"""Which model a picture is for, and whether it looks like what that model was trained on.

* Routing ("auto" in the tab): a small perceptron (784-64-1, scikit-learn) on the 28x28 product
  framing of the picture tells a product photo (Fashion-MNIST) from a handwritten digit (MNIST).
  It is fitted on both training sets and measured on both held-out test sets. (A logistic
  regression routed 97.4 % of held-out products right; this routes 99.7 %.)
* Unusual input: each model's top-class probability is compared with its *confidence floor*,
  the 5th percentile of that probability on its own held-out validation images. Below the
  floor, the picture is less typical than 95 % of the images the model was checked on, and
  the tab says that the answer may mean little. How often that fires on the *other* data
  set (digits shown to the fashion model, and the reverse) is measured too.

Serving reads `domain.npz` (numpy arrays, loaded without pickle); fitting needs scikit-learn and
the data sets:

    python -m core.tasks.image_classification.domain   # refit with the shipped CNNs, update card
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.tasks.image_classification.preprocess import frame_product

FILE = "domain.npz"
FLOOR_PERCENTILE = 5.0
ROUTES = ("fashion", "digits")


@dataclass(frozen=True)
class DomainCheck:
    """Router weights (784 pixels of the product framing -> 64 ReLU -> 1) and each model's confidence floor."""

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    output_bias: float
    confidence_floor: dict[str, float]

    def digit_probability(self, product_frame: np.ndarray) -> float:
        """Probability that the picture is a handwritten digit rather than a product photo."""
        hidden = np.maximum(np.asarray(product_frame, dtype=np.float32).ravel() @ self.hidden_weights + self.hidden_bias, 0)
        z = float(hidden @ self.output_weights + self.output_bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))

    def route(self, product_frame: np.ndarray) -> tuple[str, float]:
        """("fashion" or "digits", the router's probability for that choice)."""
        p = self.digit_probability(product_frame)
        return ("digits", p) if p >= 0.5 else ("fashion", 1.0 - p)

    def unusual(self, variant: str, top_probability: float) -> bool:
        """True when the model is less sure than on 95 % of its held-out in-domain images."""
        return top_probability < self.confidence_floor.get(variant, 0.0)

    def save(self, path: Path) -> None:
        variants = sorted(self.confidence_floor)
        np.savez(path, hidden_weights=self.hidden_weights, hidden_bias=self.hidden_bias,
                 output_weights=self.output_weights, output_bias=np.float32(self.output_bias),
                 floor_variants=np.array(variants), floors=np.array([self.confidence_floor[v] for v in variants]))


def load(model_dir: Path) -> DomainCheck | None:
    """The shipped check, or None when it has not been fitted."""
    path = Path(model_dir) / FILE
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        floors = {str(v): float(f) for v, f in zip(data["floor_variants"], data["floors"])}
        return DomainCheck(data["hidden_weights"].astype(np.float32), data["hidden_bias"].astype(np.float32),
                           data["output_weights"].astype(np.float32).ravel(), float(data["output_bias"]), floors)


def product_frames(frames: np.ndarray) -> np.ndarray:
    """Dataset frames (uint8, bright object on black) re-framed as a user picture is for routing."""
    out = []
    for frame in frames:
        intensity = np.asarray(frame, dtype=np.float32) / 255.0
        try:
            out.append(frame_product(intensity))
        except Exception:  # noqa: BLE001 - an empty frame stays as it is
            out.append(intensity)
    return np.stack(out).reshape(len(out), -1)


def user_style_frames(variant: str, frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dataset frames re-drawn as users send them (a product photo on white or black, in colour; a
    digit drawn large or small, with a thin or thick pen, on a transparent or white canvas), then
    framed for routing exactly as the app frames an upload."""
    from core.tasks.image_classification import render
    from core.tasks.image_classification.preprocess import to_intensity

    out = []
    for frame in frames:
        if variant == "fashion":
            picture = render.product_photo(frame, 160, str(rng.choice(["white", "black"])),
                                           tuple(int(c) for c in rng.integers(20, 230, size=3)), rng)
        else:
            picture = render.drawn_digit(frame, 160, float(rng.uniform(0.3, 0.9)),
                                         (float(rng.uniform(-0.1, 0.1)), float(rng.uniform(-0.1, 0.1))),
                                         int(rng.integers(-1, 7)), transparent=bool(rng.integers(2)))
        try:
            out.append(frame_product(*to_intensity(picture)).ravel())
        except Exception:  # noqa: BLE001 - a rendering that lost the object is skipped
            continue
    return np.stack(out)


def fit(splits: dict[str, Any], classifiers: dict[str, Any], max_train: int = 12000, seed: int = 0) -> tuple[DomainCheck, dict]:
    """Fit the router and the confidence floors; measure both on the held-out test sets.

    `splits` and `classifiers` map "fashion"/"digits" to data `Splits` and served adapters."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)

    def sample(x: np.ndarray, n: int) -> np.ndarray:
        return x[rng.choice(len(x), size=min(n, len(x)), replace=False)]

    # half as the data sets hold them, half re-drawn as users send them
    x_fashion = np.vstack([product_frames(sample(splits["fashion"].x_train, max_train // 2)),
                           user_style_frames("fashion", sample(splits["fashion"].x_train, max_train // 2), rng)])
    x_digits = np.vstack([product_frames(sample(splits["digits"].x_train, max_train // 2)),
                          user_style_frames("digits", sample(splits["digits"].x_train, max_train // 2), rng)])
    router = MLPClassifier((64,), max_iter=200, random_state=seed)
    router.fit(np.vstack([x_fashion, x_digits]), np.r_[np.zeros(len(x_fashion)), np.ones(len(x_digits))])

    floors = {}
    for variant, clf in classifiers.items():
        top = clf.forward(splits[variant].x_val).max(1)
        floors[variant] = round(float(np.percentile(top, FLOOR_PERCENTILE)), 6)
    check = DomainCheck(router.coefs_[0].astype(np.float32), router.intercepts_[0].astype(np.float32),
                        router.coefs_[1].astype(np.float32).ravel(), float(router.intercepts_[1][0]), floors)

    rows, routing, routing_drawn = [], {}, {}
    for variant in ROUTES:
        test = splits[variant].x_test
        for result, frames in ((routing, product_frames(test)), (routing_drawn, user_style_frames(variant, test, rng))):
            p_digit = np.array([check.digit_probability(f) for f in frames])
            result[variant] = float(np.mean((p_digit >= 0.5) == (variant == "digits")))
    for variant, clf in classifiers.items():
        other = "digits" if variant == "fashion" else "fashion"
        own_top = clf.forward(splits[variant].x_test).max(1)
        other_top = clf.forward(splits[other].x_test).max(1)
        rows.append([variant, round(float(np.mean(own_top < floors[variant])), 4),
                     round(float(np.mean(other_top < floors[variant])), 4),
                     round(float(roc_auc_score(np.r_[np.zeros(len(own_top)), np.ones(len(other_top))],
                                               -np.r_[own_top, other_top])), 4)])
    n = {v: len(splits[v].x_test) for v in ROUTES}
    metrics = {
        "routing_accuracy": {v: round(a, 4) for v, a in routing.items()},
        "routing_accuracy_user_style": {v: round(a, 4) for v, a in routing_drawn.items()},
        "routing_accuracy_balanced": round(float(np.mean(list(routing.values()))), 4),
        "confidence_floor": floors,
        "tables": [
            {"title": "Auto model choice on held-out test images (router: a 784-64-1 perceptron on the product framing)",
             "columns": ["held-out test set", "images", "sent to the right model (as in the data set)",
                         "sent to the right model (re-drawn as users send them)"],
             "rows": [[v, n[v], round(routing[v], 4), round(routing_drawn[v], 4)] for v in ROUTES]},
            {"title": f"Unusual-input warning (top-class probability under the model's {FLOOR_PERCENTILE:.0f}th-percentile "
                      "floor on its validation images)",
             "columns": ["model", "warned on its own test images", "warned on the other data set's test images",
                         "AUROC own vs other (top-class probability)"],
             "rows": rows},
        ],
    }
    return check, metrics


def refit(model_dir: Path, card_dir: Path) -> dict:
    """Refit with the shipped CNNs; write domain.json and add the results to metrics.json and the card."""
    from core.artifacts import load_json, save_json
    from core.tasks.image_classification.adapter import load as load_classifier
    from core.tasks.image_classification.data import load_variant
    from core.tasks.image_classification.train import write_card

    splits = {v: load_variant(v) for v in ROUTES}
    classifiers = {v: load_classifier(v, model_dir) for v in ROUTES}
    check, result = fit(splits, classifiers)
    check.save(Path(model_dir) / FILE)
    metrics = load_json(Path(card_dir) / "metrics.json")
    metrics["domain_check"] = result
    save_json(metrics, Path(card_dir) / "metrics.json")
    write_card(metrics, card_dir)
    return result


if __name__ == "__main__":
    import json

    from core.registry import get_task

    spec = get_task("image_classification")
    print(json.dumps({k: v for k, v in refit(spec.model_dir, spec.card_dir).items() if k != "tables"}, indent=2))
