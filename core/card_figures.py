"""Static figures (PNG, matplotlib) that model cards share: the Agg pyplot, saving, confusion matrices and
training curves.

The app draws its own interactive versions with plotly (core/plots.py); these are for the cards,
which are markdown files read on GitHub and the Hub.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display; cards are written by training runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Lay out, write as a 110 dpi PNG (creating the folder) and close `fig`."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def save_confusion_matrices(results: dict[str, dict], labels: list[str], path: Path,
                            panel_size: tuple[float, float] = (4.5, 3.9), rotate_labels: int = 0) -> Path:
    """One annotated confusion matrix per variant, side by side (`results[variant]["confusion_matrix"]["matrix"]`)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(panel_size[0] * len(results), panel_size[1]))
    for axis, (variant, result) in zip(np.atleast_1d(axes), results.items()):
        matrix = np.array(result["confusion_matrix"]["matrix"])
        axis.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            axis.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
        axis.set_xticks(range(len(labels)), labels, rotation=rotate_labels), axis.set_yticks(range(len(labels)), labels)
        axis.set_xlabel("predicted"), axis.set_ylabel("true"), axis.set_title(variant)
    return save_figure(fig, path)


def save_training_curves(history: list[dict], path: Path) -> Path:
    """Train and validation loss per epoch, with validation accuracy on a second axis."""
    plt = pyplot()
    fig, axis = plt.subplots(figsize=(6.5, 3.2))
    epochs = [r["epoch"] for r in history]
    axis.plot(epochs, [r["train_loss"] for r in history], "o-", label="train loss")
    axis.plot(epochs, [r["val_loss"] for r in history], "o-", label="validation loss")
    twin = axis.twinx()
    twin.plot(epochs, [r["val_accuracy"] for r in history], "s--", color="tab:green", label="validation accuracy")
    axis.set_xlabel("epoch"), axis.set_ylabel("cross-entropy"), twin.set_ylabel("accuracy")
    axis.legend(loc="center left"), twin.legend(loc="center right")
    return save_figure(fig, path)
