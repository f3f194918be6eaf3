"""Batch augmentation on tensors (N, 1, 28, 28) in [0, 1], so the models meet inputs that are
framed, lit and drawn a little differently from the data sets' own pixels.

Each sample gets its own random affine transform (rotation, scale, shift, optional mirror),
contrast/brightness/gamma changes and random erasing; digits also get random stroke
thickening/thinning. Everything runs vectorised on the batch, which keeps CPU training fast.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 5.0
    scale: tuple[float, float] = (0.92, 1.06)
    shift_px: float = 1.5
    hflip: bool = True
    gain: tuple[float, float] = (0.8, 1.1)
    gamma: tuple[float, float] = (0.85, 1.2)
    erase_p: float = 0.15
    erase_px: tuple[int, int] = (4, 8)
    thicken_p: float = 0.0
    thin_p: float = 0.0

    def describe(self) -> list[str]:
        items = [f"random rotation +-{self.rotation_deg:g} deg", f"random scale {self.scale[0]:g}-{self.scale[1]:g}",
                 f"random shift +-{self.shift_px:g} px"]
        if self.hflip:
            items.append("horizontal mirror (p=0.5)")
        items += [f"contrast gain {self.gain[0]:g}-{self.gain[1]:g} and gamma {self.gamma[0]:g}-{self.gamma[1]:g}",
                  f"random erasing of a {self.erase_px[0]}-{self.erase_px[1]} px rectangle (p={self.erase_p:g})"]
        if self.thicken_p or self.thin_p:
            items.append(f"stroke thickening (p={self.thicken_p:g}) / thinning (p={self.thin_p:g})")
        return items

    def as_dict(self) -> dict:
        return asdict(self)


FASHION_AUGMENT = AugmentConfig()
DIGITS_AUGMENT = AugmentConfig(rotation_deg=15.0, scale=(0.8, 1.12), shift_px=2.5, hflip=False,
                               gain=(0.6, 1.15), gamma=(0.7, 1.4), erase_p=0.1, erase_px=(3, 6),
                               thicken_p=0.3, thin_p=0.2)


def _uniform(n: int, low: float, high: float, gen: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def random_affine(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    angle = _uniform(n, -cfg.rotation_deg, cfg.rotation_deg, gen) * math.pi / 180
    scale = _uniform(n, *cfg.scale, gen)
    tx = _uniform(n, -cfg.shift_px, cfg.shift_px, gen) * 2 / w
    ty = _uniform(n, -cfg.shift_px, cfg.shift_px, gen) * 2 / h
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if cfg.hflip else torch.ones(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # output -> input sampling grid
    theta = torch.stack([torch.stack([cos * flip, -sin * flip, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_photometric(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    n = x.shape[0]
    gain = _uniform(n, *cfg.gain, gen).view(n, 1, 1, 1)
    gamma = _uniform(n, *cfg.gamma, gen).view(n, 1, 1, 1)
    return (x.clamp(0, 1) ** gamma * gain).clamp(0, 1)


def random_stroke_width(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    n = x.shape[0]
    u = torch.rand(n, generator=gen).view(n, 1, 1, 1)
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    # a soft erosion: keep half of the eroded-away intensity so thin strokes never vanish
    thin = 0.5 * x + 0.5 * -F.max_pool2d(-x, 3, stride=1, padding=1)
    out = torch.where(u < cfg.thicken_p, thick, x)
    return torch.where((u >= cfg.thicken_p) & (u < cfg.thicken_p + cfg.thin_p), thin, out)


def random_erasing(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    lo, hi = cfg.erase_px
    eh = torch.randint(lo, hi + 1, (n,), generator=gen)
    ew = torch.randint(lo, hi + 1, (n,), generator=gen)
    top = (torch.rand(n, generator=gen) * (h - eh + 1)).long()
    left = (torch.rand(n, generator=gen) * (w - ew + 1)).long()
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    box = ((rows >= top.view(n, 1, 1)) & (rows < (top + eh).view(n, 1, 1))
           & (cols >= left.view(n, 1, 1)) & (cols < (left + ew).view(n, 1, 1)))
    apply = (torch.rand(n, generator=gen) < cfg.erase_p).view(n, 1, 1)
    return x.masked_fill((box & apply).unsqueeze(1), 0.0)


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    """Apply every augmentation of `cfg` to a batch in [0, 1]."""
    x = random_affine(x, cfg, gen)
    if cfg.thicken_p or cfg.thin_p:
        x = random_stroke_width(x, cfg, gen)
    x = random_photometric(x, cfg, gen)
    if cfg.erase_p:
        x = random_erasing(x, cfg, gen)
    return x
