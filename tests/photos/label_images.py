"""Photos of charger labels, generated with Pillow, for the photo tests, the benchmark and the Slack tests.

    label_photo("ACE0123456", seed=1)                        # a clean label on a wall, as a JPEG
    label_photo("12345R678", seed=2, rotation=90, blur=1.2)  # turned and out of focus
    no_label_photo(seed=3)                                   # a photo without any serial on it
    bomb_png(30_000, 30_000)                                 # a small file, gigabytes once decoded

Everything is deterministic for a seed. Fonts: DejaVu when the machine has it (most Linux machines), else Pillow's
own scalable default font, so that the generator never needs a font that a fresh machine lacks.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

PHOTO_SIZE = (960, 720)  # a phone photo as Slack's thumbnails have it; real ones are larger (read_label shrinks them)
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf")
_WALLS = ((214, 208, 196), (180, 186, 190), (120, 124, 130), (196, 170, 140), (90, 96, 84), (230, 230, 226))
_LABELS = ((250, 250, 248), (236, 238, 240), (222, 224, 226), (250, 246, 230))  # white, silver foil, grey, cream
_MODELS = ("Model: VW-HC22", "Type HomeCharge 11", "Model CityPole 2x22", "Wallbox VW-11T")
_OTHER_TEXT = ("230 V ~ 50 Hz 32 A", "IP54", "Made in the Netherlands", "400 V 3~ 16 A", "IK10  -25 °C…+50 °C")
_CAPTIONS = ("S/N:", "Serial:", "SN", "S/N", "Serial No.")


def font(size: int, index: int = 0) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu font number `index` (of the few a label uses) at `size` pixels, or Pillow's default font."""
    path = _FONT_DIR / _FONT_FILES[index % len(_FONT_FILES)]
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def spaced(serial: str, rng: random.Random) -> str:
    """The serial as printed: often in one piece, sometimes in groups (ACE 012 3456, 12345 R 678)."""
    if rng.random() < 0.7:
        return serial
    if serial.startswith("ACE"):
        digits = serial[3:]
        return f"ACE {digits[:3]} {digits[3:]}"
    return f"{serial[:5]} R {serial[6:]}"


def _barcode(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: random.Random) -> None:
    left, top, right, bottom = box
    x = left
    while x < right:
        width = rng.choice((1, 2, 2, 3, 4))
        if rng.random() < 0.55:
            draw.rectangle((x, top, min(right, x + width - 1), bottom), fill=(20, 20, 20))
        x += width


def _qr_like(draw: ImageDraw.ImageDraw, left: int, top: int, size: int, rng: random.Random) -> None:
    cells = 21
    cell = max(1, size // cells)
    for row in range(cells):
        for col in range(cells):
            finder = ((row < 7 or row >= 14) and col < 7) or (row < 7 and col >= 14)  # the three corner squares
            if finder or rng.random() < 0.45:
                x, y = left + col * cell, top + row * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=(15, 15, 15))


def _label(serial: str, rng: random.Random, other_text: bool) -> Image.Image:
    """The label itself, upright, with its text, codes and the serial (always wholly on the label)."""
    face = rng.randrange(len(_FONT_FILES))
    caption = rng.choice(_CAPTIONS)
    size = rng.randint(26, 34)
    text_font = font(size, face)
    printed = spaced(serial, rng)
    caption_width = int(text_font.getlength(caption + " "))
    needed = 18 + caption_width + int(text_font.getlength(printed)) + 24
    width = max(rng.randint(440, 560), needed)
    height = rng.randint(260, 330) if other_text else rng.randint(110, 140)
    label = Image.new("RGB", (width, height), rng.choice(_LABELS))
    draw = ImageDraw.Draw(label)
    draw.rectangle((3, 3, width - 4, height - 4), outline=(60, 60, 60), width=2)
    y = 14
    if other_text:
        draw.text((18, y), "VOLTWAY", font=font(30, 1), fill=(20, 40, 120))
        y += 42
        for line in (rng.choice(_MODELS), *rng.sample(_OTHER_TEXT, 3)):
            draw.text((18, y), line, font=font(rng.randint(17, 20), face), fill=(30, 30, 30))
            y += 26
        if rng.random() < 0.5:
            _qr_like(draw, width - 120, 16, 100, rng)
        else:
            _barcode(draw, (width - 190, 20, width - 20, 80), rng)
        y += 6
    draw.text((18, y), caption, font=text_font, fill=(20, 20, 20))
    draw.text((18 + caption_width, y), printed, font=text_font, fill=(10, 10, 10))
    if other_text and rng.random() < 0.5:  # a barcode of the serial under it, as many labels have
        _barcode(draw, (18, y + size + 10, min(width - 20, 18 + 300), y + size + 44), rng)
    return label


def _wall(rng: random.Random, nprng: np.random.Generator) -> Image.Image:
    """A wall or pole behind the charger: a colour with a light gradient, texture and darker corners."""
    width, height = PHOTO_SIZE
    base = np.array(rng.choice(_WALLS), dtype=np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    gradient = 1.0 + 0.15 * ((xs / width) * rng.uniform(-1, 1) + (ys / height) * rng.uniform(-1, 1))
    centre = ((xs - width / 2) / (width / 2)) ** 2 + ((ys - height / 2) / (height / 2)) ** 2
    vignette = 1.0 - 0.35 * np.clip(centre / 2, 0, 1)
    texture = nprng.normal(0, 6, (height, width, 1)).astype(np.float32)
    pixels = base[None, None, :] * (gradient * vignette)[:, :, None] + texture
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _shear(label: Image.Image, rng: random.Random) -> Image.Image:
    """A phone held not quite square to the label: a slight affine skew (a perspective-ish distortion)."""
    kx, ky = rng.uniform(-0.12, 0.12), rng.uniform(-0.06, 0.06)
    width, height = label.size
    out_w, out_h = int(width + abs(kx) * height), int(height + abs(ky) * width)
    # Image.transform maps output to input coordinates: (x, y) -> (x + kx*y - offset, ky*x + y - offset).
    offset_x = -abs(kx) * height if kx < 0 else 0.0
    offset_y = -abs(ky) * width if ky < 0 else 0.0
    coefficients = (1.0, kx, offset_x, ky, 1.0, offset_y)
    rgba = label.convert("RGBA")
    return rgba.transform((out_w, out_h), Image.Transform.AFFINE, coefficients, Image.Resampling.BICUBIC)


def _glare(photo: Image.Image, rng: random.Random) -> Image.Image:
    """A flash or window reflected in the label: a bright soft ellipse."""
    width, height = photo.size
    mask = Image.new("L", photo.size, 0)
    cx, cy = rng.randint(width // 3, 2 * width // 3), rng.randint(height // 3, 2 * height // 3)
    rx, ry = rng.randint(70, 140), rng.randint(40, 90)
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=int(rng.uniform(150, 210)))
    mask = mask.filter(ImageFilter.GaussianBlur(radius=30))
    return Image.composite(Image.new("RGB", photo.size, (255, 255, 255)), photo, mask)


def _noise(photo: Image.Image, sigma: float, nprng: np.random.Generator) -> Image.Image:
    pixels = np.asarray(photo, dtype=np.float32) + nprng.normal(0, sigma, (photo.height, photo.width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _encode(photo: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        photo.save(out, "JPEG", quality=85)
    else:
        photo.save(out, fmt.upper())
    return out.getvalue()


def label_photo(
    serial: str,
    *,
    seed: int,
    rotation: float = 0,
    blur: float = 0,
    glare: bool = False,
    noise: float = 0,
    fmt: str = "JPEG",
    other_text: bool = True,
) -> bytes:
    """A photo of a charger's label with `serial` on it, encoded as `fmt`.

    `rotation` turns the label counter-clockwise by that many degrees (90 = lying on its side); `blur` is a
    Gaussian radius in pixels; `noise` the standard deviation of sensor noise (0-255 scale).
    """
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    photo = _wall(rng, nprng)
    label = _shear(_label(serial, rng, other_text), rng)
    label = label.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=True)
    if label.width > photo.width or label.height > photo.height:
        scale = min(photo.width / label.width, photo.height / label.height) * 0.95
        label = label.resize((int(label.width * scale), int(label.height * scale)), Image.Resampling.LANCZOS)
    shadow = Image.new("RGBA", label.size, (0, 0, 0, 90))
    left = rng.randint(0, photo.width - label.width)
    top = rng.randint(0, photo.height - label.height)
    alpha = label.getchannel("A")
    photo.paste(shadow, (min(left + 4, photo.width - label.width), min(top + 5, photo.height - label.height)), alpha)
    photo.paste(label, (left, top), alpha)
    if glare:
        photo = _glare(photo, rng)
    if blur:
        photo = photo.filter(ImageFilter.GaussianBlur(radius=blur))
    if noise:
        photo = _noise(photo, noise, nprng)
    return _encode(photo, fmt)


def no_label_photo(seed: int, *, fmt: str = "JPEG") -> bytes:
    """A photo-like image without a serial: a wall, a cable, a socket, and a parking sign's text."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    photo = _wall(rng, nprng)
    draw = ImageDraw.Draw(photo)
    width = photo.width
    box = (rng.randint(80, 300), rng.randint(80, 200), rng.randint(500, 700), rng.randint(450, 620))
    draw.rounded_rectangle(box, radius=30, fill=(40, 42, 46))  # the charger's housing
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    draw.ellipse((cx - 50, cy - 50, cx + 50, cy + 50), fill=(20, 20, 20), outline=(90, 90, 90), width=4)  # a socket
    points = [(cx, cy + 50)] + [(cx + rng.randint(-200, 200), cy + 60 + i * 40) for i in range(1, 6)]
    draw.line(points, fill=(15, 15, 15), width=14)  # the cable
    sign_font = font(34, 1)
    draw.rectangle((width - 260, 40, width - 40, 150), fill=(20, 70, 160))
    draw.text((width - 240, 55), "P  EV only", font=sign_font, fill=(255, 255, 255))
    draw.text((width - 240, 100), "max 4 h", font=font(26), fill=(255, 255, 255))
    photo = photo.filter(ImageFilter.GaussianBlur(radius=0.6))
    return _encode(photo, fmt)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of `width` x `height` pixels, a few hundred kilobytes at most on disk.

    Pillow decodes it at a byte per pixel and read_label would then need three (RGB): 30 000 x 30 000 takes 0.9 GB,
    then 2.7 GB, a decompression bomb. One bit per pixel in the file keeps building it fast (the rows are still
    compressed as a stream, never held whole).
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale, deflate, no interlace
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then the row's pixels
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    idat = b"".join(parts)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def random_serial(rng: random.Random, style: str | None = None) -> str:
    """A serial in one of the two formats (`style` "ace" or "r", else either), as the portal stores it."""
    style = style or rng.choice(("ace", "r"))
    if style == "ace":
        return "ACE" + "".join(rng.choice("0123456789") for _ in range(7))
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    return f"{digits[:5]}R{digits[5:]}"
