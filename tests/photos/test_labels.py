"""read_label on generated photos (tests/photos/label_images.py): what it reads, and what it refuses."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.photos import ocr
from bot.photos.labels import MAX_PIXELS, LabelProblem, LabelReading, read_label
from tests.photos.label_images import bomb_png, label_photo, no_label_photo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("serial", ["ACE0123456", "12345R678"])
def test_both_formats_are_read_exactly_from_a_clean_label(serial: str) -> None:
    assert read_label(label_photo(serial, seed=11)) == LabelReading(serial, None)


@pytest.mark.parametrize(
    ("serial", "variation"),
    [
        ("ACE7203915", {"rotation": 10}),
        ("40213R557", {"rotation": -10}),
        ("ACE3316092", {"rotation": 90}),
        ("88120R304", {"rotation": 180}),
        ("ACE5550871", {"rotation": 270}),
        ("61937R046", {"blur": 1.5}),
        ("ACE9080127", {"glare": True}),
        ("27461R390", {"noise": 12.0}),
        ("ACE1029384", {"fmt": "PNG"}),
        ("ACE6610245", {"fmt": "WEBP", "other_text": False}),
    ],
)
def test_labels_photographed_turned_blurred_with_glare_or_noise_are_read(
    serial: str, variation: dict[str, Any]
) -> None:
    assert read_label(label_photo(serial, seed=23, **variation)).serial == serial


def test_a_photo_without_a_label_has_no_serial() -> None:
    assert read_label(no_label_photo(seed=5)) == LabelReading(None, LabelProblem.NO_SERIAL)


def test_a_photo_turned_by_exif_only_is_read_upright() -> None:
    """Phones store the picture as the sensor saw it and say in EXIF how to turn it."""
    upright = Image.open(io.BytesIO(label_photo("ACE4455667", seed=3)))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90° clockwise to view": undoes the counter-clockwise turn above
    out = io.BytesIO()
    sideways.save(out, "JPEG", exif=exif.tobytes())
    assert read_label(out.getvalue()).serial == "ACE4455667"


@pytest.mark.parametrize(
    "data",
    [
        b"my serial is ACE0123456",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        label_photo("ACE0123456", seed=1)[:4000],  # a truncated JPEG: the header opens, the pixels do not
        b"",
    ],
    ids=["text", "pdf", "truncated-jpeg", "empty"],
)
def test_what_is_not_an_image_is_said_so(data: bytes) -> None:
    assert read_label(data) == LabelReading(None, LabelProblem.NOT_AN_IMAGE)


def test_an_eps_file_is_not_opened() -> None:
    """Pillow would run Ghostscript on an EPS: only photo formats are opened."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n"
    assert read_label(eps) == LabelReading(None, LabelProblem.NOT_AN_IMAGE)


@pytest.mark.parametrize(("width", "height"), [(7_000, 6_000), (30_000, 30_000)])
def test_huge_images_are_refused_quickly_without_decoding_them(width: int, height: int) -> None:
    """7 000 x 6 000 is past MAX_PIXELS but under Pillow's own limit; 30 000 x 30 000 past both."""
    assert width * height > MAX_PIXELS
    bomb = bomb_png(width, height)
    start = time.perf_counter()
    assert read_label(bomb) == LabelReading(None, LabelProblem.TOO_LARGE)
    assert time.perf_counter() - start < 0.5


def test_refusing_a_bomb_takes_no_memory(tmp_path: Path) -> None:
    """Decoding 7 000 x 6 000 pixels would take 42 MB, and 126 MB as RGB: the peak memory must not move."""
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(7_000, 6_000))
    code = (
        "import resource, sys; from bot.photos.labels import read_label; "
        "from bot.photos import images; import PIL.PngImagePlugin; "  # loaded before measuring: not the image
        "data = open(sys.argv[1], 'rb').read(); "
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "print(read_label(data).problem); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    problem, grown_kb = result.stdout.split()
    assert problem == "too_large"
    assert int(grown_kb) < 10_000  # kilobytes on Linux


def test_a_large_phone_photo_is_shrunk_before_reading() -> None:
    big = Image.open(io.BytesIO(label_photo("12345R678", seed=4, fmt="PNG"))).resize((4032, 3024))
    out = io.BytesIO()
    big.save(out, "JPEG", quality=90)
    assert read_label(out.getvalue()).serial == "12345R678"


@pytest.mark.parametrize("missing", ["rapidocr_onnxruntime", "PIL"])
def test_without_the_ocr_extra_reading_says_it_is_unavailable(missing: str, tmp_path: Path) -> None:
    """A machine installed without the `ocr` extra: importing works, reading raises OcrUnavailable."""
    photo = tmp_path / "label.jpg"
    photo.write_bytes(label_photo("ACE0123456", seed=1, other_text=False))
    code = (
        f"import sys; sys.modules[{missing!r}] = None; "  # what Python does for a module that is not installed
        "from bot.photos.labels import OcrUnavailable, read_label\n"
        "try:\n    read_label(open(sys.argv[1], 'rb').read())\n"
        "except OcrUnavailable as error:\n    print('unavailable:', error)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(photo)], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.startswith("unavailable:")
    assert missing in result.stdout


def test_the_engine_is_built_once_when_threads_ask_for_it_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def slow_build() -> object:
        time.sleep(0.05)  # long enough for every thread to find no engine yet
        built.append(threading.get_ident())
        return object()

    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setattr(ocr, "_build", slow_build)
    threads = [threading.Thread(target=ocr.load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1


def test_a_reading_has_either_a_serial_or_a_problem() -> None:
    with pytest.raises(ValueError, match="either"):
        LabelReading(None, None)
    with pytest.raises(ValueError, match="either"):
        LabelReading("ACE0123456", LabelProblem.NO_SERIAL)
