"""The accuracy smoke test: a fixed set of generated photos across the variations, through the benchmark's own run
(bench/ocr_bench.py; its full-size figures live in BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from bench.ocr_bench import NO_LABEL, VARIATIONS, report, run, samples
from bot.reports import write_section

COUNT = 20


def test_the_sample_set_covers_every_variation_and_both_formats() -> None:
    made = samples(len(VARIATIONS) + 1)
    assert {sample.variation for sample in made} == {*VARIATIONS, NO_LABEL}
    serials = [sample.serial for sample in made if sample.serial]
    assert any(s.startswith("ACE") for s in serials)
    assert any("R" in s and not s.startswith("ACE") for s in serials)
    assert samples(len(VARIATIONS) + 1) == made  # deterministic: the same photos, byte for byte, every run


def test_nineteen_of_twenty_labels_are_read_exactly_and_no_wrong_serial_is_returned(tmp_path: Path) -> None:
    results = run(COUNT, tesseract=False)
    tally = results["rapidocr"]
    assert tally.labels == COUNT - 1  # one photo without a label
    # The person confirms every reading ("Is it ACE0123456?"), so a wrong read is caught; still, none is expected
    # on these photos, and the list names the photo if one appears.
    assert tally.wrong == []
    assert tally.exact >= 0.95 * tally.labels, tally.missed
    section = report(results, "smoke")
    assert section.startswith("## Label photos")
    assert "Tesseract not measured: not asked for" in section
    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    write_section(target, section)
    assert "## Other\n\nkept" in target.read_text(encoding="utf-8")
