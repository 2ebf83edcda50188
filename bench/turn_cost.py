"""What one engine turn costs: CPU milliseconds and SQL statements, on a temporary SQLite database.

    python -m bench.turn_cost                       # 40 conversations of bench.engine_bench's script, one at a time
    python -m bench.turn_cost --conversations 5

Wall-clock rates are noisy on a shared machine; CPU time of this process (`time.process_time`, which includes
aiosqlite's driver thread) and the statement count are not, so these are the figures to compare before and after
a change to the engine. Turns run one at a time, as the sequential part of bench.engine_bench.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.engine_bench import CARLA, SCRIPT
from bot.config import DESIGN_ROOT
from bot.engine.actions import InProcessActions
from bot.engine.engine import Engine, prepare
from bot.engine.store import TrackerStore
from portal.bootstrap import Portal
from portal.demo import seed_demo


@dataclass
class Statements:
    """Every SQL statement on the engine's database, by its first word, and every COMMIT and ROLLBACK."""

    kinds: Counter[str] = field(default_factory=Counter)

    def record(self, statement: str) -> None:
        self.kinds[statement.split(None, 1)[0].upper() if statement.strip() else "?"] += 1

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


async def measure(conversations: int, database_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        portal = Portal.connect(database_url or f"sqlite+aiosqlite:///{Path(directory) / 'cost.db'}")
        await portal.upgrade()
        await seed_demo(portal.uow())
        design, interpreter = prepare(DESIGN_ROOT)
        engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
        await engine.handle("warm-up", "hello", CARLA)
        statements = Statements()

        def on_execute(*args: Any) -> None:
            statements.record(args[2])  # (conn, cursor, statement, parameters, context, executemany)

        def on_commit(_conn: Any) -> None:
            statements.record("COMMIT")  # a driver call, not a cursor statement, but one more round trip

        def on_rollback(_conn: Any) -> None:
            statements.record("ROLLBACK")  # how a read-only transaction ends

        event.listen(portal.engine.sync_engine, "before_cursor_execute", on_execute)
        event.listen(portal.engine.sync_engine, "commit", on_commit)
        event.listen(portal.engine.sync_engine, "rollback", on_rollback)
        turns = 0
        cpu_start = time.process_time()
        for conversation in range(conversations):
            for text in SCRIPT:
                await engine.turn(f"cost-{conversation}", text, CARLA)
                turns += 1
        cpu = time.process_time() - cpu_start
        event.remove(portal.engine.sync_engine, "before_cursor_execute", on_execute)
        event.remove(portal.engine.sync_engine, "commit", on_commit)
        event.remove(portal.engine.sync_engine, "rollback", on_rollback)
        await engine.close()
        await portal.close()
    return {
        "turns": turns,
        "cpu_ms_per_turn": cpu * 1000 / turns,
        "statements_per_turn": statements.total / turns,
        "by_kind": {kind: count / turns for kind, count in sorted(statements.kinds.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--database-url", help="an empty database to use instead of a temporary SQLite file")
    args = parser.parse_args()
    results = asyncio.run(measure(args.conversations, args.database_url))
    print("python -m bench.turn_cost " + " ".join(sys.argv[1:]))
    print(
        f"{results['turns']} turns: {results['cpu_ms_per_turn']:.2f} CPU ms/turn, "
        f"{results['statements_per_turn']:.2f} statements/turn"
    )
    print("  " + ", ".join(f"{kind} {per:.2f}" for kind, per in results["by_kind"].items()))


if __name__ == "__main__":
    main()
