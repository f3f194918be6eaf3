"""Pictures in and out of the image encoder: 64 px RGB on a white background.

`to_model_input` turns any picture (an upload, a sketch, an emoji PNG with alpha) into the model's
input; `augment` makes the training variants of a batch of emoji (torch, on the whole batch):
position, size, rotation, flips, background (white, a colour, a gradient, noise), colour and blur,
and, for some, a line drawing of the emoji's edges, so that a sketch on white is not foreign.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SIZE = 64
MEAN, STD = 0.5, 0.25


def to_model_input(image: Image.Image) -> np.ndarray:
    """(SIZE, SIZE, 3) float32 in [0, 1]: alpha composited on white, padded to a square with the
    border's colour (white for transparency), resized."""
    image = image.convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, image).convert("RGB")
    width, height = rgb.size
    side = max(width, height)
    corner = rgb.getpixel((0, 0))
    square = Image.new("RGB", (side, side), corner)
    square.paste(rgb, ((side - width) // 2, (side - height) // 2))
    square = square.resize((SIZE, SIZE), Image.Resampling.LANCZOS if side > SIZE else Image.Resampling.BICUBIC)
    return np.asarray(square, np.float32) / 255.0


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> the encoder's input scale."""
    return (batch - MEAN) / STD


def _backgrounds(n: int, generator: torch.Generator) -> torch.Tensor:
    kind = torch.rand(n, generator=generator)
    colour = torch.rand(n, 3, 1, 1, generator=generator)
    other = torch.rand(n, 3, 1, 1, generator=generator)
    ramp = torch.linspace(0, 1, SIZE).view(1, 1, SIZE, 1)
    gradient = colour + (other - colour) * ramp
    noise = (colour + 0.15 * torch.randn(n, 3, SIZE, SIZE, generator=generator)).clamp(0, 1)
    white = torch.ones(n, 3, SIZE, SIZE)
    k = kind.view(n, 1, 1, 1)
    return torch.where(k < 0.45, white, torch.where(k < 0.7, colour.expand(-1, -1, SIZE, SIZE),
                                                   torch.where(k < 0.85, gradient.expand(-1, -1, -1, SIZE), noise)))


def _line_drawing(rgb: torch.Tensor) -> torch.Tensor:
    """Dark edges on white, like a sketch of the picture."""
    grey = F.pad(rgb.mean(1, keepdim=True), (1, 1, 1, 1), mode="replicate")
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3)
    gx = F.conv2d(grey, sobel)
    gy = F.conv2d(grey, sobel.transpose(2, 3))
    edges = (gx.square() + gy.square()).sqrt()
    lines = (edges > 0.6).float()
    return (1 - lines).expand(-1, 3, -1, -1).clone()


def augment(rgba: torch.Tensor, generator: torch.Generator, sketch_share: float = 0.12) -> torch.Tensor:
    """(B, 4, S, S) emoji in [0, 1] with alpha -> (B, 3, S, S) training pictures in [0, 1]."""
    n = rgba.shape[0]
    scale = 0.65 + 0.45 * torch.rand(n, generator=generator)            # the emoji's size on the canvas
    angle = (torch.rand(n, generator=generator) - 0.5) * (math.pi / 6)  # +-15 degrees
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 2 * (1 - scale).clamp(min=0.05).unsqueeze(1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                         torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(rgba.shape), align_corners=False)
    moved = F.grid_sample(rgba, grid, align_corners=False, padding_mode="zeros")
    colour, alpha = moved[:, :3], moved[:, 3:4]
    gain = 0.8 + 0.4 * torch.rand(n, 1, 1, 1, generator=generator)
    colour = ((colour - 0.5) * gain + 0.5 + 0.1 * (torch.rand(n, 1, 1, 1, generator=generator) - 0.5)).clamp(0, 1)
    out = colour * alpha + _backgrounds(n, generator) * (1 - alpha)
    blur = torch.rand(n, generator=generator) < 0.2
    if blur.any():
        small = F.interpolate(out[blur], size=SIZE // 2, mode="bilinear", antialias=True, align_corners=False)
        out[blur] = F.interpolate(small, size=SIZE, mode="bilinear", align_corners=False)
    sketch = torch.rand(n, generator=generator) < sketch_share
    if sketch.any():
        on_white = colour[sketch] * alpha[sketch] + (1 - alpha[sketch])
        out[sketch] = _line_drawing(on_white)
    return out


def load_rgba(path) -> np.ndarray:
    """An emoji PNG as (4, SIZE, SIZE) float32 in [0, 1]."""
    with Image.open(path) as image:
        image = image.convert("RGBA")
        if image.size != (SIZE, SIZE):
            image = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        return np.asarray(image, np.float32).transpose(2, 0, 1) / 255.0
