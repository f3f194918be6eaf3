"""Extract the object pictures of the detection scenes from Noto Color Emoji (Apache-2.0).

    apt-get install fonts-noto-color-emoji
    .venv/bin/python scripts/extract_emoji_sprites.py

Renders each glyph of `SPRITES` with Pillow at the font's native bitmap size (109 pt gives ~136 px
glyphs), crops it to its alpha and writes assets/sprites/<class>_<n>.png (RGBA; the alpha channel
is the object's exact mask). The PNGs are committed, so training and tests need no font.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
OUT = ROOT / "assets" / "sprites"

# COCO class name -> the emoji that picture it (several where Noto has several)
SPRITES = {
    "dog": ["\U0001F415", "\U0001F436", "\U0001F429", "\U0001F9AE"],
    "cat": ["\U0001F408", "\U0001F431", "\U0001F408\u200D\u2B1B"],
    "bird": ["\U0001F426", "\U0001F424", "\U0001F54A\uFE0F", "\U0001F99C"],
    "horse": ["\U0001F40E", "\U0001F434"],
    "car": ["\U0001F697", "\U0001F699", "\U0001F695", "\U0001F3CE\uFE0F"],
    "bicycle": ["\U0001F6B2"],
    "airplane": ["\u2708\uFE0F", "\U0001F6E9\uFE0F"],
    "apple": ["\U0001F34E", "\U0001F34F"],
    "banana": ["\U0001F34C"],
    "pizza": ["\U0001F355"],
    "sports ball": ["\u26BD", "\U0001F3C0", "\U0001F3C8", "\u26BE", "\U0001F94E", "\U0001F3D0", "\U0001F3B1"],
    "umbrella": ["\u2602\uFE0F", "\u2614", "\U0001F302"],
}


def render(glyph: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), glyph, font=font, embedded_color=True)
    box = canvas.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    if box is None:
        raise ValueError(f"glyph {glyph!r} rendered empty")
    return canvas.crop(box)


def main() -> None:
    if not FONT.exists():
        sys.exit(f"{FONT} is missing: apt-get install fonts-noto-color-emoji")
    font = ImageFont.truetype(str(FONT), 109)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, glyphs in SPRITES.items():
        for n, glyph in enumerate(glyphs):
            path = OUT / f"{name.replace(' ', '_')}_{n}.png"
            render(glyph, font).save(path, optimize=True)
            print(path.relative_to(ROOT), Image.open(path).size)


if __name__ == "__main__":
    main()
