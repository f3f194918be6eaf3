"""Grad-CAM (Selvaraju et al., 2017) on the last convolutional block, and a heat-map overlay."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

# a compact "jet"-like colour map: (position, (r, g, b))
_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_COLOURS = np.array([[0, 0, 128], [0, 128, 255], [0, 220, 120], [255, 200, 0], [200, 0, 0]], dtype=np.float32)


def grad_cam(model: nn.Module, x: torch.Tensor, class_index: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Class-activation map in [0, 1] with x's spatial size for `class_index` (default: the top
    class), and the class probabilities, for one input x of shape (1, C, H, W): one pass serves both.

    `model` provides ``features(x)`` (the last convolutional block's activations) and
    ``classify(activations)``. The gradient is taken with `torch.autograd.grad` with respect to
    the activations only: no hooks, no `.grad` on parameters, no train/eval switch, so a model
    shared by concurrent requests is never modified (it must already be in eval mode)."""
    with torch.enable_grad():
        activations = model.features(x.detach())
        if not activations.requires_grad:  # parameters frozen: differentiate w.r.t. the activations alone
            activations = activations.detach().requires_grad_(True)
        logits = model.classify(activations)
        if class_index is None:
            class_index = int(logits[0].argmax())
        (gradients,) = torch.autograd.grad(logits[0, class_index], activations)
    activations, probs = activations.detach(), torch.softmax(logits.detach(), dim=1)[0].numpy()
    weights = gradients.mean(dim=(2, 3), keepdim=True)           # importance of each channel
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    cam = (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()
    return cam, probs


def colourise(cam: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to RGB uint8 with a blue-to-red colour map."""
    flat = np.clip(cam, 0, 1).ravel()
    rgb = np.stack([np.interp(flat, _STOPS, _COLOURS[:, c]) for c in range(3)], axis=1)
    return rgb.reshape(*cam.shape, 3).astype(np.uint8)


def overlay(frame: np.ndarray, cam: np.ndarray, size: int = 224, alpha: float = 0.45) -> np.ndarray:
    """Blend the heat map over the (greyscale, [0, 1]) frame the model saw, upscaled to size x size."""
    grey = Image.fromarray((np.clip(frame, 0, 1) * 255).astype(np.uint8)).resize((size, size), Image.Resampling.NEAREST)
    heat = Image.fromarray(colourise(cam)).resize((size, size), Image.Resampling.BILINEAR)
    base = np.asarray(grey.convert("RGB"), dtype=np.float32)
    blended = (1 - alpha) * base + alpha * np.asarray(heat, dtype=np.float32)
    return np.clip(blended, 0, 255).astype(np.uint8)
