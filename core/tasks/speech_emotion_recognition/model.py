"""The CNN on log-mel windows (trained by this project, shipped as safetensors), and its loading.

Four blocks of 3x3 convolution, batch norm, ReLU and 2x2 max pooling turn the (1, 64 mel, 188
frame) window into a (C, 4, 11) map. The 4 frequency rows are kept apart (C x 4 features per time
step: where in the spectrum something happens is the pitch level and the voice's brightness, which
an average over frequency would throw away), and their mean, standard deviation and maximum over time
feed a linear layer with dropout: the overall voice, how much it moves, and its most marked moments
(an accent, a tremble).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

WEIGHTS, CONFIG = "cnn.safetensors", "cnn_config.json"


@dataclass(frozen=True)
class CNNConfig:
    channels: tuple[int, ...] = (16, 32, 64, 96)
    n_classes: int = 5
    dropout: float = 0.3
    n_mels: int = 64


class EmotionCNN(nn.Module):
    """(batch, N_MELS, FRAMES) log-mel windows -> (batch, n_classes) logits."""

    def __init__(self, config: CNNConfig = CNNConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        previous = 1
        for width in config.channels:
            layers += [nn.Conv2d(previous, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            previous = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(config.dropout)
        rows = config.n_mels // 2 ** len(config.channels)
        self.head = nn.Linear(3 * previous * rows, config.n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.features(mel.unsqueeze(1))  # (batch, C, rows, time)
        x = x.flatten(1, 2)  # (batch, C * rows, time)
        pooled = torch.cat([x.mean(dim=2), x.std(dim=2), x.amax(dim=2)], dim=1)
        return self.head(self.dropout(pooled))


def save(model: EmotionCNN, folder: Path) -> list[Path]:
    """Weights as float32 safetensors and the architecture as JSON."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(folder / WEIGHTS))
    (folder / CONFIG).write_text(json.dumps(asdict(model.config), indent=1))
    return [folder / WEIGHTS, folder / CONFIG]


def load(folder: Path) -> EmotionCNN:
    """The shipped CNN in evaluation mode, read-only (no gradients)."""
    from safetensors.torch import load_file

    raw = json.loads((folder / CONFIG).read_text())
    model = EmotionCNN(CNNConfig(**{**raw, "channels": tuple(raw["channels"])}))
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model
