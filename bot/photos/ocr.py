"""The OCR engine (RapidOCR on onnxruntime): the only module that imports it, and only on first use.

Importing rapidocr pulls in onnxruntime and OpenCV (about 100 MB of libraries and 0.4 s of model loading): the
assistant without photos (`chargedesk run`, the shell) must not pay that, and a machine without the `ocr` extra must
still start. So nothing here is imported at module level; the engine is built once per process, under a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class OcrLine:
    """One line of text the engine found, with its confidence (0-1)."""

    text: str
    score: float
    # The line's bounding box in pixels (for grouping a label's printed lines out of the engine's boxes).
    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def width(self) -> float:
        return self.right - self.left


_engine: Any = None
# One lock for building the engine (two threads must not load the models twice) and for using it: RapidOCR's
# pipeline is not documented as thread-safe, and each call already spreads its work over the cores onnxruntime uses.
_lock = threading.Lock()


def _build() -> Any:
    # Imported here and only here: see the module's docstring. ImportError (no `ocr` extra) reaches the caller.
    from rapidocr_onnxruntime import RapidOCR

    # "max": the detector sees the photo at its own size (at most OCR_LONG_SIDE, bot/photos/images.py). The default
    # ("min", 736) enlarges any photo whose short side is under 736 px, which costs memory and reads no better.
    return RapidOCR(det_limit_type="max")


def load() -> None:
    """Build the engine now (it is otherwise built by the first `recognise`); raise ImportError without the extra."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = _build()


def recognise(image: npt.NDArray[np.uint8], *, use_cls: bool = True) -> list[OcrLine]:
    """The lines of text in `image` (height x width x 3, BGR as OpenCV has it), in no particular order."""
    load()
    with _lock:
        results, _elapsed = _engine(image, use_cls=use_cls)
    lines: list[OcrLine] = []
    for box, text, score in results or ():
        xs = [float(point[0]) for point in box]
        ys = [float(point[1]) for point in box]
        lines.append(OcrLine(str(text), float(score), min(xs), min(ys), max(xs), max(ys)))
    return lines
