"""The OCR engine is loaded on the first photo, never by starting the assistant (bot/photos/ocr.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("rapidocr_onnxruntime", "onnxruntime", "cv2")


def test_starting_the_assistant_or_importing_the_label_reader_loads_no_ocr_engine() -> None:
    code = (
        "import sys, bot.slack.app, bot.shell, bot.cli, bot.photos.labels; "
        f"heavy = {set(HEAVY)!r}; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    assert result.stdout.strip() == ""


def test_the_first_photo_loads_the_engine() -> None:
    """The counterpart: the check above would pass vacuously if the names were wrong."""
    code = (
        "import sys; from bot.photos.labels import read_label; "
        "from tests.photos.label_images import label_photo; "
        "print(read_label(label_photo('ACE0123456', seed=1, other_text=False)).serial); "
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    assert result.stdout.split() == ["ACE0123456", ",".join(sorted(HEAVY))]
