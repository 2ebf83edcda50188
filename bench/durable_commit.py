"""The machine's floor for a turn: durable SQLite commits per second, each the size of a turn's append.

    python -m bench.durable_commit              # 500 commits in a temporary directory under the working directory

One commit here is what a turn cannot do without: a WAL transaction (BEGIN IMMEDIATE) that moves a conversation's
version and inserts the turn's events, committed with SQLite's default `synchronous=FULL` (the write-ahead log is
fsynced before COMMIT returns). No Python above the driver: `sqlite3` on the calling thread, one connection. The
engine's turns are measured against this rate in the same run (bench.engine_bench), on the same disk.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

# A turn of bench.engine_bench's script appends about nine events of about 220 bytes of JSON each (measured on its
# database: 8.9 events a turn, 222 bytes an event, over 20 conversations of its script).
EVENTS_PER_TURN = 9
EVENT = json.dumps(
    {
        "event": "user",
        "timestamp": 1764300000.0,
        "text": "Socket two stops charging after a minute",
        "parse_data": {"intent": {"name": "describe_problem", "confidence": 0.93}, "entities": []},
        "input_channel": "slack",
        "metadata": {"email": "carla@example.com", "language": "en"},
    }
)


def durable_commits_per_second(directory: Path, commits: int = 500) -> float:
    """`commits` turn-sized WAL transactions, one after the other, on a new database in `directory`."""
    path = directory / "durable-commit.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE conversations (sender_id TEXT PRIMARY KEY, event_count INTEGER)")
        connection.execute(
            "CREATE TABLE conversation_events (id INTEGER PRIMARY KEY, sender_id TEXT, seq INTEGER, event TEXT,"
            " UNIQUE (sender_id, seq))"
        )
        connection.execute("INSERT INTO conversations VALUES ('floor', 0)")
        start = time.perf_counter()
        for turn in range(commits):
            seq = turn * EVENTS_PER_TURN
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE conversations SET event_count = ? WHERE sender_id = 'floor'", (seq,))
            connection.executemany(
                "INSERT INTO conversation_events (sender_id, seq, event) VALUES (?, ?, ?)",
                [("floor", seq + offset, EVENT) for offset in range(EVENTS_PER_TURN)],
            )
            connection.execute("COMMIT")
        return commits / (time.perf_counter() - start)
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=500)
    args = parser.parse_args()
    # Under the working directory, not /tmp: the disk the databases of the benchmarks live on (tmpfs has no fsync).
    with tempfile.TemporaryDirectory(dir=".") as directory:
        rate = durable_commits_per_second(Path(directory), args.commits)
    print(f"{rate:.0f} durable commits per second ({args.commits} turn-sized SQLite WAL transactions)")


if __name__ == "__main__":
    main()
