"""Benchmark of scale: many conversations in one process, and two processes on one PostgreSQL (issue's targets).

    python -m bench.scale_bench                     # Part A: 10,000 conversations on SQLite (several minutes)
    python -m bench.scale_bench --postgres-url postgresql+asyncpg://postgres@127.0.0.1/postgres --write BENCHMARKS.md
    python -m bench.scale_bench --conversations 30 --sample-every 10   # smoke size

Part A runs `--conversations` conversations of 2 or 3 turns through the embedded engine in this process, sampling the
resident memory every `--sample-every` conversations (it should stay flat), and reports the database rows and bytes
each conversation leaves behind (file size on SQLite, ``pg_total_relation_size`` on PostgreSQL with
``--database postgres``). Part B (only with `--postgres-url`) drives `--workers-conversations` conversations through
one OS process, then the same number through two OS processes, on one fresh PostgreSQL database, and compares the
turns per second. Fresh PostgreSQL databases are created next to `--postgres-url`'s and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import TARGET_COLUMNS, command_line, fresh_postgres_database, machine, markdown_table, publish
from bench.engine_bench import CARLA
from bot.config import DESIGN_ROOT
from bot.engine.actions import InProcessActions
from bot.engine.engine import Engine, prepare
from bot.engine.store import TrackerStore
from portal.bootstrap import Portal
from portal.demo import seed_demo

# A short support conversation: greet, ask to ask a question, and every other user says thanks.
SHORT = ("hello", "/have_question")
LONG = (*SHORT, "thanks!")
CONCURRENCY = 10  # conversations in flight per process
COUNTED_TABLES = ("conversations", "conversation_events", "conversation_leases")
TARGET_RSS_MB = 200
TARGET_GROWTH_MB = 1.0  # per 1,000 conversations: "flat" (≤ 1 KB per conversation)
TARGET_SPEEDUP = 1.7
WORKER_START_TIMEOUT = 300.0  # seconds for a worker process to import, connect and train before the run starts


def script(index: int) -> tuple[str, ...]:
    return LONG if index % 2 else SHORT


def turns_of(conversations: int) -> int:
    return sum(len(script(index)) for index in range(conversations))


def rss_mb() -> float:
    """The current resident set size (VmRSS); the peak (ru_maxrss) where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 for fewer than two distinct x)."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


async def converse_all(engine: Engine, tag: str, first: int, count: int) -> int:
    """Conversations `first` … `first + count - 1`, `CONCURRENCY` at a time; the number of turns taken."""
    queue = list(range(first + count - 1, first - 1, -1))
    turns = 0

    async def worker() -> None:
        nonlocal turns
        while queue:
            index = queue.pop()
            for message in script(index):
                await engine.handle(f"{tag}-{index}", message, CARLA)
                turns += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return turns


def build_engine(portal: Portal, design_and_interpreter: tuple[Any, Any]) -> Engine:
    design, interpreter = design_and_interpreter
    return Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))


@asynccontextmanager
async def part_a_database(postgres_url: str | None) -> AsyncIterator[tuple[str, Path | None]]:
    """A fresh, migrated and seeded database's URL, with the SQLite file's path (None on PostgreSQL)."""
    if postgres_url:
        async with fresh_postgres_database(postgres_url, "chargedesk_scale") as url:
            await prepare_database(url)
            yield url, None
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "scale.db"
        url = f"sqlite+aiosqlite:///{path}"
        await prepare_database(url)
        yield url, path


async def prepare_database(url: str) -> None:
    portal = Portal.connect(url)
    try:
        await portal.upgrade()
        await seed_demo(portal.uow())
    finally:
        await portal.close()  # on SQLite this also checkpoints the WAL into the file


def sqlite_bytes(path: Path) -> int:
    """The SQLite file with its -wal / -shm companions (none left after the last connection closes)."""
    return path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-*"))


async def database_bytes(url: str, path: Path | None) -> int:
    """Bytes the database takes: the SQLite file (after its WAL is checkpointed at close), or all public tables."""
    if path is not None:
        return await asyncio.to_thread(sqlite_bytes, path)
    portal = Portal.connect(url)
    try:
        async with portal.engine.connect() as conn:
            size = await conn.scalar(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            )
        return int(size or 0)
    finally:
        await portal.close()


async def part_a(conversations: int, sample_every: int, postgres_url: str | None = None) -> dict[str, float]:
    design_and_interpreter = prepare(DESIGN_ROOT)
    async with part_a_database(postgres_url) as (url, path):
        bytes_before = await database_bytes(url, path)
        portal = Portal.connect(url)
        engine = build_engine(portal, design_and_interpreter)
        gc.collect()
        samples: list[tuple[float, float]] = [(0.0, rss_mb())]
        turns = 0
        started = time.perf_counter()
        try:
            done = 0
            while done < conversations:
                batch = min(sample_every, conversations - done)
                turns += await converse_all(engine, "scale", done, batch)
                done += batch
                gc.collect()
                samples.append((float(done), rss_mb()))
            seconds = time.perf_counter() - started
            async with portal.engine.connect() as conn:
                rows = {
                    table: int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
                    for table in COUNTED_TABLES
                }
        finally:
            await engine.close()
            await portal.close()
        bytes_after = await database_bytes(url, path)
    # Growth from the first sample on: the first batch also pays for one-off allocations (caches, pools, imports).
    steady = samples[1:] if len(samples) >= 3 else samples
    results = {
        "conversations": float(conversations),
        "turns": float(turns),
        "turns_per_second": turns / seconds,
        "rss_start_mb": samples[0][1],
        "rss_end_mb": samples[-1][1],
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb_per_1000": slope(steady) * 1000,
        "bytes_per_conversation": (bytes_after - bytes_before) / conversations,
        "database_bytes": float(bytes_after),
    }
    results.update({f"rows_{table}_per_conversation": rows[table] / conversations for table in COUNTED_TABLES})
    results.update({f"rss_mb_at_{int(done)}": mb for done, mb in samples})
    return results


# ---------------------------------------------------------------------- Part B: separate OS processes


def worker_process(
    url: str, tag: str, first: int, count: int, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    """Set up an engine on `url`, wait for the others at `barrier`, run the conversations, put (turns, start, end)."""

    async def work() -> tuple[int, float, float]:
        portal = Portal.connect(url)
        engine = build_engine(portal, prepare(DESIGN_ROOT))
        try:
            await engine.handle(f"{tag}-warm-up", "hello", CARLA)  # connections opened, lazy imports done
            await asyncio.to_thread(barrier.wait, WORKER_START_TIMEOUT)
            start = time.monotonic()  # CLOCK_MONOTONIC: comparable between processes on one machine
            turns = await converse_all(engine, tag, first, count)
            return turns, start, time.monotonic()
        finally:
            await engine.close()
            await portal.close()

    try:
        results.put(("ok", *asyncio.run(work())))
    except BaseException as error:
        results.put(("error", f"{type(error).__name__}: {error}", 0.0, 0.0))
        raise


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (`/proc/stat`); (0, 0) elsewhere."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cores_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many of the machine's cores were busy on average between two `busy_jiffies()` readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total * (os.cpu_count() or 1) if total else 0.0


def run_processes(url: str, tag: str, conversations: int, processes: int) -> tuple[int, float, float]:
    """`conversations` split over `processes` worker processes started together: (turns, seconds of the slowest,
    cores busy on the whole machine meanwhile, PostgreSQL included)."""
    context = multiprocessing.get_context("spawn")  # no forked event loop, threads or connections
    barrier = context.Barrier(processes)
    results = context.Queue()
    share, extra = divmod(conversations, processes)
    children = []
    first = 0
    for number in range(processes):
        count = share + (1 if number < extra else 0)
        child = context.Process(
            target=worker_process, args=(url, f"{tag}-p{number}", first, count, barrier, results), daemon=True
        )
        child.start()
        children.append(child)
        first += count
    samples: list[tuple[float, tuple[int, int]]] = []
    done = threading.Event()

    def sample() -> None:  # the machine's CPU every 0.2 s, to be cut to the measured interval afterwards
        while not done.is_set():
            samples.append((time.monotonic(), busy_jiffies()))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        answers = [results.get(timeout=WORKER_START_TIMEOUT + 3600) for _ in children]
    finally:
        done.set()
        sampler.join()
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
    errors = [answer[1] for answer in answers if answer[0] != "ok"]
    if errors:
        raise RuntimeError(f"a worker process failed: {errors[0]}")
    turns = sum(int(answer[1]) for answer in answers)
    start, end = min(float(a[2]) for a in answers), max(float(a[3]) for a in answers)
    inside = [reading for at, reading in samples if start <= at <= end] or [samples[0][1], samples[-1][1]]
    return turns, end - start, cores_busy(inside[0], inside[-1])


async def part_b(postgres_url: str, conversations: int) -> dict[str, float]:
    async with fresh_postgres_database(postgres_url, "chargedesk_scale") as url:
        await prepare_database(url)
        one_turns, one_seconds, one_cores = await asyncio.to_thread(run_processes, url, "one", conversations, 1)
        two_turns, two_seconds, two_cores = await asyncio.to_thread(run_processes, url, "two", conversations, 2)
    one, two = one_turns / one_seconds, two_turns / two_seconds
    return {
        "workers_conversations": float(conversations),
        "one_process_turns": float(one_turns),
        "one_process_turns_per_second": one,
        "two_processes_turns": float(two_turns),
        "two_processes_turns_per_second": two,
        "speedup": two / one,
        "one_process_cores": one_cores,
        "two_processes_cores": two_cores,
        # Turns per second per busy core: what 2 processes could reach if the machine had the cores they need.
        "ceiling": (os.cpu_count() or 1) / one_cores if one_cores else 0.0,
    }


async def main_async(
    conversations: int,
    postgres_url: str | None = None,
    workers_conversations: int = 1000,
    sample_every: int = 1000,
    part_a_on_postgres: bool = False,
) -> dict[str, float]:
    if part_a_on_postgres and not postgres_url:
        raise ValueError("Part A on PostgreSQL needs a PostgreSQL URL")
    results = await part_a(conversations, sample_every, postgres_url if part_a_on_postgres else None)
    if postgres_url:
        results.update(await part_b(postgres_url, workers_conversations))
    return results


def report(results: dict[str, float], command: str, database: str = "SQLite") -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    r = results
    samples = sorted(
        (int(key.removeprefix("rss_mb_at_")), value) for key, value in r.items() if key.startswith("rss_mb_at_")
    )
    rows = [
        (
            f"resident memory after {int(r['conversations']):,} conversations (peak)",
            f"{r['rss_end_mb']:.0f} MB ({r['rss_peak_mb']:.0f} MB)",
            f"≤ {TARGET_RSS_MB} MB",
            verdict(r["rss_end_mb"] <= TARGET_RSS_MB),
        ),
        (
            "resident memory growth per 1,000 conversations (least squares, after the first sample)",
            f"{r['rss_growth_mb_per_1000']:.2f} MB",
            f"flat (≤ {TARGET_GROWTH_MB:g} MB)",
            verdict(r["rss_growth_mb_per_1000"] <= TARGET_GROWTH_MB),
        ),
        (
            "resident memory by conversations done",
            ", ".join(f"{done:,}: {mb:.0f}" for done, mb in samples) + " MB",
            "",
            "",
        ),
        *(
            (f"rows in {table} per conversation", f"{r[f'rows_{table}_per_conversation']:.2f}", "", "")
            for table in COUNTED_TABLES
        ),
        (
            "database bytes per conversation",
            f"{r['bytes_per_conversation']:,.0f} B ({r['database_bytes'] / 1e6:.1f} MB in all)",
            "",
            "",
        ),
        (
            f"turns per second in Part A ({CONCURRENCY} conversations at a time)",
            f"{r['turns_per_second']:.0f}",
            "",
            "",
        ),
    ]
    if "speedup" in r:
        rows += [
            (
                f"turns per second, 1 process, PostgreSQL ({int(r['workers_conversations']):,} conversations)",
                f"{r['one_process_turns_per_second']:.0f}",
                "",
                "",
            ),
            (
                "turns per second, 2 processes on the same PostgreSQL database",
                f"{r['two_processes_turns_per_second']:.0f}",
                "",
                "",
            ),
            (
                "throughput, 2 processes ÷ 1 process",
                f"{r['speedup']:.2f} times",
                f"≥ {TARGET_SPEEDUP} times",
                verdict(r["speedup"] >= TARGET_SPEEDUP),
            ),
            (
                "cores busy on the whole machine (PostgreSQL included), 1 process / 2 processes",
                f"{r['one_process_cores']:.2f} / {r['two_processes_cores']:.2f} of {os.cpu_count()}",
                "",
                "",
            ),
            (
                "the most 2 processes could gain here: cores ÷ cores busy with 1 process",
                f"{min(2.0, r['ceiling']):.2f} times",
                "",
                "",
            ),
        ]
    part_b = (
        f" Part B: {int(r['workers_conversations']):,} conversations through 1 process, then through 2, "
        f"{CONCURRENCY} at a time in each process, on one fresh PostgreSQL database."
        if "speedup" in r
        else " Part B (two processes on PostgreSQL) not run: it needs `--postgres-url`."
    )
    lines = [
        "## Scale: conversations, memory, database, processes",
        "",
        f"Command: `{command}` — Part A: {int(r['conversations']):,} conversations ({int(r['turns']):,} turns: "
        f"{' / '.join(SHORT)}, every other one also {LONG[-1]!r}), {CONCURRENCY} at a time, in one process on "
        f"{database}.{part_b} Machine: {machine()}.",
        "",
        *markdown_table(TARGET_COLUMNS, rows),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=10_000, help="Part A's conversations")
    parser.add_argument("--sample-every", type=int, default=1000, help="Part A samples memory this often")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite", help="Part A's database")
    parser.add_argument(
        "--postgres-url", help="a PostgreSQL server (any database on it) for Part B and fresh databases"
    )
    parser.add_argument("--workers-conversations", type=int, default=1000, help="Part B's conversations per run")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    if args.database == "postgres" and not args.postgres_url:
        parser.error("--database postgres needs --postgres-url")
    results = asyncio.run(
        main_async(
            args.conversations,
            args.postgres_url,
            args.workers_conversations,
            args.sample_every,
            part_a_on_postgres=args.database == "postgres",
        )
    )
    command = command_line("bench.scale_bench", sys.argv[1:], args.postgres_url)
    section = report(results, command, "PostgreSQL" if args.database == "postgres" else "SQLite")
    publish(section, args.write)


if __name__ == "__main__":
    main()
