"""A compact CNN for 28x28 greyscale images (about 0.2 M parameters, under 1 MB as float32)."""
from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class CompactCNN(nn.Module):
    """conv32 -> pool -> conv64 x2 -> pool -> conv128 -> (7x7) -> global average + max pooling -> linear.

    ``features`` ends with the last convolutional block, whose activations Grad-CAM explains;
    ``classify`` maps them to logits, so explanations need no hooks on the shared module.
    """

    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.3) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *_block(1, w), nn.MaxPool2d(2),                      # 14x14
            *_block(w, 2 * w), *_block(2 * w, 2 * w), nn.MaxPool2d(2),  # 7x7
            *_block(2 * w, 4 * w), *_block(4 * w, 4 * w),           # 7x7, last conv block
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(8 * w, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from the last convolutional block's activations (what Grad-CAM differentiates)."""
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.head(pooled)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
