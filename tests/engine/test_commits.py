"""One durable commit per turn (issue 18): a turn that files nothing waits for the disk once, for its append.

Counted structurally on SQLite, by the safety level each COMMIT ran under (portal.adapters.database sets it before
each BEGIN): the conversation's lease is taken in a `losable` transaction (synchronous=NORMAL, no fsync), and the
turn's events are stored, and the lease given back, in one durable transaction (synchronous=FULL).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

from bench.engine_bench import CARLA
from bot.engine.engine import Engine
from portal.bootstrap import Portal


class Commits:
    """COMMITs on the engine's SQLite connection, by the `PRAGMA synchronous` level set before their BEGIN."""

    def __init__(self) -> None:
        self.level = "FULL"  # SQLite's default, until a PRAGMA says otherwise
        self.by_level: Counter[str] = Counter()

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("PRAGMA synchronous="):
            self.level = statement.split("=", 1)[1]

    def commit(self, _conn: Any) -> None:
        self.by_level[self.level] += 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_turn_that_files_nothing_commits_durably_once(portal: Portal, engine: Engine) -> None:
    await engine.handle("commits", "hello", CARLA)  # the conversation exists: later turns are ordinary ones
    commits = Commits()
    event.listen(portal.engine.sync_engine, "before_cursor_execute", commits.statement)
    event.listen(portal.engine.sync_engine, "commit", commits.commit)
    try:
        for text in ("thanks!", "hello", "/have_question", "/cancel"):
            before = Counter(commits.by_level)
            await engine.handle("commits", text, CARLA)
            turn = commits.by_level - before
            assert turn["FULL"] == 1, (text, dict(turn))  # the append, with the lease given back in it
            assert turn["NORMAL"] == 1, (text, dict(turn))  # the lease taken
    finally:
        event.remove(portal.engine.sync_engine, "before_cursor_execute", commits.statement)
        event.remove(portal.engine.sync_engine, "commit", commits.commit)
