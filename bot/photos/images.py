"""Turning uploaded bytes into a picture the OCR can read, refusing what is not a photo or is far too big.

Pillow reads only an image's header when it opens it: the size is known before any pixel is decoded, so a
decompression bomb (a small file that decodes to gigabytes) is refused at that point, never decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

# What phones and screenshots produce (JPEG covers the MPO of some phones). Opening any other format is refused:
# Pillow's EPS plugin, for one, runs Ghostscript on the file, and nobody photographs a label as a PSD.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Photos are shrunk to this long side before reading: the detector's memory and time grow with the pixels it sees.
# A label fills a good part of a photo of it and its serial is printed large. Measured on 24 generated photos
# (exact reads; peak memory the OCR added): 1280 px 22/22, 500 MB; 960 px 22/22, 375 MB; 800 px 22/22, 253 MB;
# 640 px 21/22 and a wrong serial (a digit too many). 960 keeps a margin for labels photographed from further away.
OCR_LONG_SIDE = 960


class TooLarge(Exception):
    """The image has more pixels than the caller allows."""


@dataclass(frozen=True)
class Picture:
    """The photo, upright as the phone showed it, shrunk for OCR, as RGB pixels."""

    image: Image.Image

    def bgr(self, quarter_turns: int = 0) -> npt.NDArray[np.uint8]:
        """The pixels in OpenCV's channel order, turned counter-clockwise by `quarter_turns` x 90°."""
        pixels = np.asarray(self.image, dtype=np.uint8)[:, :, ::-1]
        return np.ascontiguousarray(np.rot90(pixels, quarter_turns))


def open_picture(data: bytes, max_pixels: int) -> Picture:
    """Decode `data`; raise TooLarge beyond `max_pixels`, or ValueError when it is not an image Pillow can read."""
    with warnings.catch_warnings():
        # Pillow warns past its own limit (about 89 megapixels) and raises past twice that: our limit is lower and
        # checked below, before decoding, so its warning is noise; its error is the same answer as ours.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as error:
            raise TooLarge(str(error)) from error
        except (OSError, SyntaxError, ValueError) as error:  # UnidentifiedImageError is an OSError
            raise ValueError(f"not an image: {error}") from error
        width, height = opened.size
        if width * height > max_pixels:
            raise TooLarge(f"{width}x{height} pixels")
        try:
            opened.draft("RGB", (OCR_LONG_SIDE, OCR_LONG_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when big
            opened.load()
            image = ImageOps.exif_transpose(opened).convert("RGB")
        except Image.DecompressionBombError as error:
            raise TooLarge(str(error)) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt data
            raise ValueError(f"unreadable image: {error}") from error
    if max(image.size) > OCR_LONG_SIDE:
        image.thumbnail((OCR_LONG_SIDE, OCR_LONG_SIDE), Image.Resampling.LANCZOS)
    return Picture(image)
