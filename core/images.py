"""Opening user images safely, for every task that reads pictures.

* The pixel count is checked from the header, before anything is decoded (a 20 KB PNG can
  declare 13000x13000 pixels and take gigabytes once decoded). `configure_pillow()` makes
  Pillow itself refuse such images everywhere in the process, Gradio's own decoding included.
* Large JPEGs are decoded at a reduced scale (`Image.draft`) when the task works on small frames.
* Every bit depth ends as 8 bits: 16-bit and 32-bit greyscale (mode I;16 / I) and float (F)
  images are rescaled, not clipped (a 16-bit PNG clipped to 8 bits reads as flat white).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from core.errors import InputError
from core.settings import Settings

SUPPORTED = "PNG, JPEG, WebP, BMP, GIF or TIFF"
UNREADABLE = (f"Could not read this file as an image (it may be truncated or not an image at all). "
              f"Upload a {SUPPORTED} file.")

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not a half-grey picture


def configure_pillow(max_pixels: int | None = None) -> None:
    """Make Pillow refuse images above `max_pixels` (default MAX_IMAGE_PIXELS) with an error,
    not a warning, wherever it is called from."""
    Image.MAX_IMAGE_PIXELS = int(max_pixels or Settings.from_env().max_image_pixels)
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def too_many_pixels_message(width: int, height: int, max_pixels: int) -> str:
    return (f"This image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); the limit is "
            f"{max_pixels / 1e6:.0f} megapixels. Resize it (e.g. to 2000x2000) and upload it again.")


def check_pixels(image: Image.Image, max_pixels: int | None = None) -> None:
    """Raise InputError when the (not yet decoded) image declares more than `max_pixels` pixels."""
    max_pixels = int(max_pixels or Settings.from_env().max_image_pixels)
    width, height = image.size
    if width * height > max_pixels:
        raise InputError(too_many_pixels_message(width, height, max_pixels))


def _open_lazily(source: Any) -> Image.Image:
    """Image.open on a path or bytes: reads the header only."""
    try:
        if isinstance(source, (bytes, bytearray)):
            return Image.open(io.BytesIO(source))
        return Image.open(Path(source))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(_bomb_message()) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError) as exc:
        raise InputError(UNREADABLE) from exc


def _bomb_message() -> str:
    limit = Image.MAX_IMAGE_PIXELS or Settings.from_env().max_image_pixels
    return (f"This image has more than {limit / 1e6:.0f} megapixels, too many to process safely. "
            "Resize it (e.g. to 2000x2000) and upload it again.")


def header_size(source: Any) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels."""
    with _open_lazily(source) as image:
        return image.size


def to_8bit(image: Image.Image) -> Image.Image:
    """16/32-bit integer and float images -> 8-bit "L", rescaled; other modes unchanged."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        a = np.asarray(image, dtype=np.float64)
        finite = a[np.isfinite(a)]
        top = float(finite.max()) if finite.size else 0.0
        if image.mode == "F" and top <= 1.0:
            scale = 255.0                          # float image in [0, 1]
        elif top <= 255:
            scale = 1.0                            # 8-bit values stored in a wide type
        elif top <= 65535:
            scale = 255.0 / 65535.0                # 16-bit range
        else:
            scale = 255.0 / top
        return Image.fromarray(np.clip(np.nan_to_num(a * scale), 0, 255).astype(np.uint8), mode="L")
    return image


def from_array(array: np.ndarray) -> Image.Image:
    """A numpy image (uint8, or float in [0, 1] / [0, 255]) as a PIL image."""
    if array.dtype != np.uint8:
        scale = 255.0 if array.size and float(np.nanmax(array)) <= 1.0 else 1.0
        array = np.clip(np.nan_to_num(array.astype(np.float32) * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(array.squeeze() if array.ndim == 3 and array.shape[-1] == 1 else array)


def open_image(source: Any, max_pixels: int | None = None, work_side: int | None = None) -> Image.Image:
    """Open a path, bytes, numpy array or PIL image as a decoded 8-bit-per-channel image.

    The pixel limit is checked before decoding; JPEGs are decoded at a reduced scale when the
    caller works on at most `work_side` pixels anyway. Raises InputError for anything unusable."""
    if source is None:
        raise InputError("No image received: upload an image first.")
    if isinstance(source, np.ndarray):
        image = from_array(source)
    elif isinstance(source, Image.Image):
        image = source
    else:
        image = _open_lazily(source)
    check_pixels(image, max_pixels)
    try:
        if work_side and image.format == "JPEG":
            image.draft(image.mode, (work_side, work_side))
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(_bomb_message()) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError) as exc:
        raise InputError(UNREADABLE) from exc
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block should not reject the picture
        pass
    return to_8bit(image)


def editor_image(value: Any, empty: str) -> Image.Image:
    """The picture of a gr.Sketchpad / gr.ImageEditor value (a dict with background, layers and
    composite; the composite is preferred, else the layers are stacked on the background) or of a
    plain image. An empty value raises InputError(`empty`)."""
    if value is None:
        raise InputError(empty)
    if not isinstance(value, dict):
        return open_image(value)
    if value.get("composite") is not None:
        return open_image(value["composite"])
    layers = [open_image(layer).convert("RGBA") for layer in (value.get("layers") or []) if layer is not None]
    background = value.get("background")
    if background is None and not layers:
        raise InputError(empty)
    base = open_image(background).convert("RGBA") if background is not None else Image.new("RGBA", layers[0].size,
                                                                                           (255, 255, 255, 0))
    for layer in layers:
        base = Image.alpha_composite(base, layer.resize(base.size))
    return base
