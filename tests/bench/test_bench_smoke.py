"""Seconds-long runs of the benchmarks, so they never rot (no timing assertions: figures live in BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from bench.common import command_line, markdown_table
from bench.engine_bench import SCRIPT, main_async, report
from bot.reports import write_section


async def test_engine_benchmark_runs_and_reports(tmp_path: Path) -> None:
    results = await main_async(conversations=4, concurrency=2, long_turns=40)
    # every scripted turn ran: 1 sequential conversation, 4 saturating, 2 paced (one per concurrent user)
    assert results["turns"] == len(SCRIPT) * (1 + 4 + 2)
    # then one conversation of 40 turns, measured over its turns up to the 4th and up to the 40th
    assert (results["long_turns"], results["long_first"], results["long_last"]) == (40, 4, 40)
    for point in (4, 40):
        assert results[f"long_{point}_turns_per_second"] > 0
        assert results[f"long_{point}_cpu_ms"] > 0
        assert results[f"long_{point}_events_read"] > 0  # a turn reads its conversation's window
    assert results["long_ratio"] > 0
    assert results["durable_commits_per_second"] > 0  # the disk's floor, measured in the same run
    section = report(results, "smoke", 2)
    assert "of the durable-commit rate" in section
    assert section.startswith("## Embedded engine")
    assert "one conversation of 40 turns, at its 4th and 40th turns" in section
    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    write_section(target, section)
    write_section(target, section)  # replacing the section keeps one copy and the other sections
    text = target.read_text(encoding="utf-8")
    assert text.count("## Embedded engine") == 1
    assert "## Other\n\nkept" in text


def test_reports_name_the_command_without_the_database_password() -> None:
    url = "postgresql+asyncpg://bench:s3cret@db.example/postgres"
    line = command_line("bench.scale_bench", ["--postgres-url", url, "--write", "BENCHMARKS.md"], url)
    assert "s3cret" not in line
    assert line == (
        "python -m bench.scale_bench --postgres-url postgresql+asyncpg://bench:***@db.example/postgres "
        "--write BENCHMARKS.md"
    )
    table = markdown_table(("measure", "result"), [("a", "1")])
    assert table == ["| measure | result |", "|---|---|", "| a | 1 |"]
