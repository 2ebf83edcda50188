"""Reading a charger's serial from a photo of its label: the one entry point the surfaces use.

    reading = await asyncio.to_thread(read_label, data)   # CPU-bound (about 0.4 s): never on the event loop
    if reading.serial: ask "Is it {serial}?"  else: explain reading.problem

Importing this module is cheap: Pillow and the OCR engine are imported on the first read (bot/photos/ocr.py), so
the assistant starts as fast without photos and runs without the `ocr` extra installed (read_label then raises
OcrUnavailable).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LabelProblem(StrEnum):
    NOT_AN_IMAGE = "not_an_image"  # Pillow cannot open it (a PDF, text, a truncated file)
    TOO_LARGE = "too_large"  # more pixels than MAX_PIXELS (a decompression bomb, a 100-megapixel scan)
    NO_SERIAL = "no_serial"  # an image, but no single serial on it (none read, or several equally likely)


@dataclass(frozen=True)
class LabelReading:
    serial: str | None  # normalised (portal rules), only when exactly one serial was read
    problem: LabelProblem | None  # set exactly when serial is None

    def __post_init__(self) -> None:
        if (self.serial is None) == (self.problem is None):
            raise ValueError("a reading has either a serial or a problem")


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed here (the `ocr` extra): ask for the serial as text instead."""


# Phones take 12 to 50 megapixels; beyond 40 the upload is a scan or a bomb, and decoding it would take
# hundreds of megabytes of memory for nothing a label needs.
MAX_PIXELS = 40_000_000
# Quarter turns tried, in order, when the upright photo shows no serial: labels photographed on their side (a
# charger mounted low, a phone held sideways without orientation data). The engine's own classifier already reads
# text upside down, so 180° is not tried separately.
_QUARTER_TURNS = (1, 3)


def read_label(data: bytes) -> LabelReading:
    """The serial on the label photographed in `data` (any common image format), or why there is none.

    Synchronous and CPU-bound (0.3-1.5 s); raises OcrUnavailable without the `ocr` extra.
    """
    try:
        from bot.photos import images, ocr, serials
    except ImportError as error:  # Pillow is part of the extra too
        raise OcrUnavailable(str(error)) from error
    try:
        picture = images.open_picture(data, MAX_PIXELS)
    except images.TooLarge:
        return LabelReading(None, LabelProblem.TOO_LARGE)
    except ValueError:
        return LabelReading(None, LabelProblem.NOT_AN_IMAGE)
    try:
        ocr.load()
    except ImportError as error:
        raise OcrUnavailable(str(error)) from error
    for quarter_turns in (0, *_QUARTER_TURNS):
        found = serials.candidates(ocr.recognise(picture.bgr(quarter_turns)))
        if found:
            serial = serials.single_serial(found)
            # Serials were read but none stands out: turning the photo will not settle it.
            return LabelReading(serial, None) if serial else LabelReading(None, LabelProblem.NO_SERIAL)
    return LabelReading(None, LabelProblem.NO_SERIAL)
