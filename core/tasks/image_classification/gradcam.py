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


def grad_cam(model: nn.Module, layer: nn.Module, x: torch.Tensor, class_index: int) -> np.ndarray:
    """Class-activation map in [0, 1] with x's spatial size, for one input x of shape (1, C, H, W)."""
    store: dict[str, torch.Tensor] = {}

    def keep_output(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        store["activations"] = output
        output.register_hook(lambda grad: store.__setitem__("gradients", grad))

    handle = layer.register_forward_hook(keep_output)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            logits = model(x)
            model.zero_grad(set_to_none=True)
            logits[0, class_index].backward()
    finally:
        handle.remove()
        model.train(was_training)
    activations, gradients = store["activations"].detach(), store["gradients"].detach()
    weights = gradients.mean(dim=(2, 3), keepdim=True)           # importance of each channel
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    return (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()


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
