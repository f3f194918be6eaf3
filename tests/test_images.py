"""core/images.py: every bit depth decodes to 8 bits, and pixel limits hold before decoding."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core import images
from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model


def _save(image: Image.Image, path) -> str:
    image.save(path)
    return str(path)


def _ring(size: int = 200) -> np.ndarray:
    """A dark ring on a light background, as floats in [0, 1]."""
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    return np.where((radius > size * 0.2) & (radius < size * 0.35), 0.1, 0.9)


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_high_bit_depth_images_are_rescaled_not_clipped(tmp_path, mode):
    ring = _ring()
    if mode == "F":
        image = Image.fromarray(ring.astype(np.float32), mode="F")
        path = _save(image, tmp_path / "ring.tiff")
    else:
        image = Image.fromarray((ring * 65535).astype(np.uint16))  # 16-bit greyscale PNG
        path = _save(image, tmp_path / "ring.png")
    decoded = np.asarray(images.open_image(path), dtype=np.float32) / 255.0
    assert decoded.shape == ring.shape
    assert np.allclose(decoded, ring, atol=0.01)  # clipped to 8 bits it would be flat white


def test_a_16_bit_png_is_classified_like_its_8_bit_twin(tmp_path):
    """Regression: a 16-bit PNG used to read as flat white ("no object found")."""
    source = Image.open(EXAMPLES_DIR / "image_classification" / "fashion_on_white_sandal.jpg").convert("L")
    eight = _save(source, tmp_path / "eight.png")
    sixteen = _save(Image.fromarray(np.asarray(source, dtype=np.uint16) * 257), tmp_path / "sixteen.png")
    assert Image.open(sixteen).mode.startswith("I")
    adapter = get_model("image_classification", "fashion")
    assert adapter.predict(sixteen)["predictions"][0]["label"] == adapter.predict(eight)["predictions"][0]["label"] == "Sandal"


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    path = _save(Image.new("L", (3000, 3000), 255), tmp_path / "big.png")
    assert images.header_size(path) == (3000, 3000)
    with pytest.raises(InputError, match="megapixels"):
        images.open_image(path, max_pixels=1_000_000)
    assert images.open_image(path, max_pixels=10_000_000).size == (3000, 3000)


def test_pillow_itself_refuses_bombs_once_configured(tmp_path):
    path = _save(Image.new("L", (2000, 2000), 255), tmp_path / "bomb.png")
    previous = Image.MAX_IMAGE_PIXELS
    try:
        images.configure_pillow(1_000_000)
        with pytest.raises((Image.DecompressionBombError, Image.DecompressionBombWarning)):
            Image.open(path)
        with pytest.raises(InputError, match="megapixels"):
            images.header_size(path)
    finally:
        images.configure_pillow(previous)


def test_large_jpegs_are_decoded_at_reduced_scale(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 30, 30)).save(buffer, format="JPEG")
    assert max(images.open_image(buffer.getvalue(), work_side=1024).size) < 4000
    assert images.open_image(buffer.getvalue()).size == (4000, 3000)


def test_unreadable_input_gets_the_supported_formats():
    with pytest.raises(InputError, match="PNG, JPEG"):
        images.open_image(b"not an image at all")
