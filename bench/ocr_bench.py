"""Benchmark of reading serials from label photos (issue 17 §1): accuracy, wrong reads, CPU time, memory.

    python -m bench.ocr_bench                        # 200 generated labels, prints a Markdown section
    python -m bench.ocr_bench --write BENCHMARKS.md
    python -m bench.ocr_bench --count 12             # CI smoke size (tests/bench)

The photos come from tests/photos/label_images.py, across both serial formats and the variations a phone photo
has (turned, blurred, glare, noise, a 12-megapixel original). The same photos go through the `tesseract` binary
when the machine has it, as a comparison (it is not a dependency): same decoding and shrinking, same serial rules,
same quarter turns when the upright photo shows nothing.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from bench.common import TARGET_COLUMNS, command_line, machine, markdown_table, percentile, publish
from bot.photos import images, labels, ocr, serials
from tests.photos.label_images import label_photo, no_label_photo, random_serial

# name -> the generator's arguments for a photo, given a random source
VARIATIONS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "clean": lambda rng: {},
    "turned ±12°": lambda rng: {"rotation": rng.uniform(-12, 12)},
    "turned 90°": lambda rng: {"rotation": 90},
    "turned 180°": lambda rng: {"rotation": 180},
    "turned 270°": lambda rng: {"rotation": 270},
    "blurred": lambda rng: {"blur": rng.uniform(1.0, 2.0)},
    "glare": lambda rng: {"glare": True},
    "noise": lambda rng: {"noise": rng.uniform(8, 16)},
    "all at once": lambda rng: {
        "rotation": rng.uniform(-8, 8),
        "blur": rng.uniform(0.5, 1.2),
        "glare": True,
        "noise": rng.uniform(4, 10),
    },
    "serial only, PNG": lambda rng: {"other_text": False, "fmt": "PNG"},
    "12 MP phone photo": lambda rng: {"phone": True},
}
NO_LABEL = "no label"  # photos without a serial: every answer but NO_SERIAL is a wrong read
PHONE_SIZE = (4032, 3024)


@dataclass(frozen=True)
class Sample:
    variation: str
    serial: str | None
    data: bytes


@dataclass
class Tally:
    """What one reader made of the samples."""

    exact: int = 0
    wrong: list[str] = field(default_factory=list)  # "variation: label's serial -> what was read"
    missed: dict[str, int] = field(default_factory=dict)
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    labels: int = 0

    def record(self, sample: Sample, read: str | None, wall_ms: float, cpu_ms: float) -> None:
        self.wall_ms.append(wall_ms)
        self.cpu_ms.append(cpu_ms)
        if sample.serial is not None:
            self.labels += 1
        if read is not None and read == sample.serial:
            self.exact += 1
        elif read is not None:
            self.wrong.append(f"{sample.variation}: {sample.serial or 'no serial'} -> {read}")
        elif sample.serial is not None:
            self.missed[sample.variation] = self.missed.get(sample.variation, 0) + 1


def _phone_photo(data: bytes) -> bytes:
    """The generated photo at a phone camera's size, as a phone's JPEG."""
    big = Image.open(io.BytesIO(data)).resize(PHONE_SIZE, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    big.save(out, "JPEG", quality=90)
    return out.getvalue()


def samples(count: int, seed: int = 17) -> list[Sample]:
    """`count` photos: the variations in turn, serial formats alternating, one in twelve without a label."""
    rng = random.Random(seed)
    names = [*VARIATIONS, NO_LABEL]
    made: list[Sample] = []
    for index in range(count):
        name = names[index % len(names)]
        if name == NO_LABEL:
            made.append(Sample(name, None, no_label_photo(seed=seed * 1000 + index)))
            continue
        serial = random_serial(rng, "ace" if index % 2 == 0 else "r")
        arguments = VARIATIONS[name](rng)
        phone = arguments.pop("phone", False)
        data = label_photo(serial, seed=seed * 1000 + index, **arguments)
        made.append(Sample(name, serial, _phone_photo(data) if phone else data))
    return made


def _timed(read: Callable[[bytes], str | None], data: bytes) -> tuple[str | None, float, float]:
    """What `read` returned, its wall time and its CPU time (this process's threads and its children) in ms."""

    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    wall, cpu, child = time.perf_counter(), time.process_time(), children()
    result = read(data)
    cpu_s = time.process_time() - cpu + children() - child
    return result, (time.perf_counter() - wall) * 1000, cpu_s * 1000


def read_with_rapidocr(data: bytes) -> str | None:
    return labels.read_label(data).serial


def _tesseract_lines(picture: images.Picture, quarter_turns: int) -> list[tuple[str, float]]:
    """Tesseract's lines of text as (text, confidence 0-1): its TSV output, words grouped by line."""
    rgb = Image.fromarray(picture.bgr(quarter_turns)[:, :, ::-1])
    png = io.BytesIO()
    rgb.save(png, "PNG")
    # --psm 11: sparse text (a label is scattered words, not a page); English, the model the package installs.
    result = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "11", "-l", "eng", "tsv"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for row in result.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[11].strip() and float(cells[10]) >= 0:
            lines.setdefault(tuple(cells[1:5]), []).append((cells[11], float(cells[10]) / 100))
    return [(" ".join(w for w, _ in words), min(c for _, c in words)) for words in lines.values()]


def read_with_tesseract(data: bytes) -> str | None:
    try:
        picture = images.open_picture(data, labels.MAX_PIXELS)
    except (images.TooLarge, ValueError):
        return None
    for quarter_turns in (0, 1, 3):
        found = [
            c for text, score in _tesseract_lines(picture, quarter_turns) for c in serials.candidates_in(text, score)
        ]
        if found:
            return serials.single_serial(found)
    return None


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run(count: int, tesseract: bool = True) -> dict[str, Any]:
    made = samples(count)
    rss_before = _max_rss_mb()
    start = time.perf_counter()
    ocr.load()
    first_load_s = time.perf_counter() - start
    rss_loaded = _max_rss_mb()
    rapid = Tally()
    for sample in made:
        rapid.record(sample, *_timed(read_with_rapidocr, sample.data))
    results: dict[str, Any] = {
        "count": count,
        "rapidocr": rapid,
        "first_load_s": first_load_s,
        "rss_load_mb": rss_loaded - rss_before,
        "rss_peak_mb": _max_rss_mb() - rss_before,
        "tesseract": None,
        "tesseract_skipped": None,
    }
    binary = shutil.which("tesseract")
    if not tesseract:
        results["tesseract_skipped"] = "not asked for (--no-tesseract)"
    elif binary is None:
        results["tesseract_skipped"] = "the tesseract binary is not installed (apt-get install tesseract-ocr)"
        print(f"Tesseract skipped: {results['tesseract_skipped']}", file=sys.stderr)
    else:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
        results["tesseract_version"] = version.splitlines()[0]
        tess = Tally()
        for sample in made:
            tess.record(sample, *_timed(read_with_tesseract, sample.data))
        results["tesseract"] = tess
    return results


def _rows(name: str, tally: Tally, count: int) -> list[tuple[str, str, str, str]]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    share = tally.exact / tally.labels if tally.labels else float("nan")
    misses = ", ".join(f"{variation} {n}" for variation, n in sorted(tally.missed.items())) or "none"
    return [
        (
            f"{name}: labels read exactly",
            f"{tally.exact} / {tally.labels} ({share:.1%})",
            "≥ 95%",
            verdict(share >= 0.95),
        ),
        (
            f"{name}: wrong serials returned (of {count} photos)",
            str(len(tally.wrong)) + (f" ({'; '.join(tally.wrong)})" if tally.wrong else ""),
            "0",
            verdict(not tally.wrong),
        ),
        (f"{name}: labels not read, by variation", misses, "", ""),
        (
            f"{name}: wall time per photo p50 / p95",
            f"{percentile(tally.wall_ms, 50):.0f} / {percentile(tally.wall_ms, 95):.0f} ms",
            "",
            "",
        ),
        (
            f"{name}: CPU time per photo p50 / p95",
            f"{percentile(tally.cpu_ms, 50):.0f} / {percentile(tally.cpu_ms, 95):.0f} ms",
            "",
            "",
        ),
    ]


def report(results: dict[str, Any], command: str) -> str:
    r = results
    count = r["count"]
    rows = _rows("RapidOCR", r["rapidocr"], count)
    rows += [
        ("RapidOCR: first load (models into onnxruntime)", f"{r['first_load_s']:.2f} s", "", ""),
        (
            "RapidOCR: resident memory added, loaded / peak while reading",
            f"{r['rss_load_mb']:.0f} / {r['rss_peak_mb']:.0f} MB",
            "",
            "",
        ),
    ]
    if r["tesseract"] is not None:
        rows += _rows("Tesseract", r["tesseract"], count)
    lines = [
        "## Label photos: reading the serial (issue 17)",
        "",
        f"Command: `{command}` — {count} generated photos ({', '.join(VARIATIONS)}, and {NO_LABEL}); "
        f"machine: {machine()}.",
        "",
        *markdown_table(TARGET_COLUMNS, rows),
        "",
    ]
    if r["tesseract"] is not None:
        lines += [f"Tesseract: {r['tesseract_version']}, `--psm 11 -l eng`, run as a subprocess per photo.", ""]
    else:
        lines += [f"Tesseract not measured: {r['tesseract_skipped']}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    parser.add_argument("--no-tesseract", action="store_true", help="measure RapidOCR only")
    args = parser.parse_args()
    results = run(args.count, tesseract=not args.no_tesseract)
    publish(report(results, command_line("bench.ocr_bench", sys.argv[1:])), args.write)


if __name__ == "__main__":
    main()
