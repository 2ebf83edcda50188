"""The start-up benchmark's report (its processes take a minute, so `python -m bench.startup_bench` runs them)."""

from __future__ import annotations

from bench.startup_bench import Sample, report

MEASURES = ("shell_cold", "shell_warm", "run_cold", "run_warm")


def test_the_report_gives_medians_and_verdicts_before_and_after() -> None:
    after = {measure: [Sample(0.5, 100.0), Sample(0.7, 110.0), Sample(3.0, 300.0)] for measure in MEASURES}
    after["run_warm"] = [Sample(2.0, 130.0)]
    before = {measure: [Sample(5.0, 340.0)] for measure in MEASURES}
    section = report({"before": before, "after": after}, "python -m bench.startup_bench", 3)
    assert section.startswith("## Start-up and memory (issue 18)")
    rows = section.splitlines()
    assert "| `chargedesk shell` start-up to the first answer, warm model cache | 5.00 → 0.70 s | ≤ 1 s | met |" in rows
    assert "| `chargedesk shell` peak resident memory, cold model cache | 340 → 110 MB | ≤ 120 MB | met |" in rows
    assert "| `chargedesk run` start-up to /readyz 200, warm model cache | 5.00 → 2.00 s | ≤ 1 s | **missed** |" in rows
    assert "| `chargedesk run` peak resident memory, warm model cache | 340 → 130 MB | ≤ 120 MB | **missed** |" in rows


def test_without_a_baseline_only_this_checkout_is_shown() -> None:
    after = {measure: [Sample(0.9, 119.0)] for measure in MEASURES}
    section = report({"after": after}, "python -m bench.startup_bench", 1)
    assert "| `chargedesk run` peak resident memory, cold model cache | 119 MB | ≤ 120 MB | met |" in section
    assert "→" not in section
