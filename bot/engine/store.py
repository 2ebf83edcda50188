"""Conversation trackers in the database, so that a restart loses no conversation.

A tracker is the list of Rasa-format events of one conversation (`{"event": "user", "text": …}`,
`{"event": "slot", "name": …, "value": …}`, …). Events are only ever appended, a turn at a time, and every append
states how many events its author had loaded: if another process extended the conversation meanwhile, the append
is refused with `ConcurrentTurn` and nothing is written, so two processes can never interleave their turns.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.engine.tables import conversation_events, conversations


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConcurrentTurn(Exception):
    """Another process appended to the conversation after this one loaded it; nothing was written.

    The caller should load the tracker again and redo its turn on top of it.
    """

    def __init__(self, sender_id: str) -> None:
        super().__init__(f"conversation {sender_id!r} changed while a turn was being processed")
        self.sender_id = sender_id


class TrackerStore:
    """Append-only storage of conversation events.

    Each method is one transaction on its own connection, so one store can serve many concurrent conversations.
    """

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def load(self, sender_id: str) -> list[dict[str, Any]]:
        """All events of the conversation in order; `[]` for a conversation never stored."""
        query = (
            select(conversation_events.c.event)
            .where(conversation_events.c.sender_id == sender_id)
            .order_by(conversation_events.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [dict(event) for event in rows.scalars()]

    async def append(
        self,
        sender_id: str,
        expected_count: int,
        events: Sequence[dict[str, Any]],
        *,
        also: Callable[[AsyncConnection], Awaitable[None]] | None = None,
    ) -> int:
        """Store `events` after the first `expected_count` events of the conversation; return the new count.

        Everything happens in one transaction. If the stored conversation does not have exactly `expected_count`
        events any more (or, for `expected_count == 0`, another process created it first), raises
        `ConcurrentTurn` and writes nothing. Events must be JSON values (timestamps as floats, never datetimes);
        anything else raises `ValueError` before the database is touched. `also`, if given, runs last in the same
        transaction (the engine releases its conversation lease there, saving a transaction per turn); it does
        not run when the append is refused.
        """
        if expected_count < 0:
            raise ValueError(f"expected_count must be >= 0, not {expected_count}")
        rows = [
            {"sender_id": sender_id, "seq": expected_count + offset, "event": _json_event(event, offset)}
            for offset, event in enumerate(events)
        ]
        new_count = expected_count + len(rows)
        now = self._clock()
        async with self._engine.begin() as conn:
            if not rows:
                # Nothing to write, but the caller still learns whether its view of the conversation is current.
                if await self._stored_count(conn, sender_id) != expected_count:
                    raise ConcurrentTurn(sender_id)
                if also is not None:
                    await also(conn)
                return expected_count
            try:
                # The compare-and-set on event_count is what serializes turns: PostgreSQL makes a concurrent
                # UPDATE of the row wait and then re-check the WHERE against the winner's committed count, and
                # SQLite runs whole transactions one after the other (BEGIN IMMEDIATE).
                claimed = await conn.execute(
                    update(conversations)
                    .where(conversations.c.sender_id == sender_id, conversations.c.event_count == expected_count)
                    .values(event_count=new_count, updated_at=now)
                )
                if claimed.rowcount != 1:
                    if expected_count > 0:
                        raise ConcurrentTurn(sender_id)
                    # A first turn: there is no row to compare against yet, so creating it is the claim. Of two
                    # processes inserting it at once the primary key admits one; the other gets IntegrityError.
                    await conn.execute(
                        insert(conversations).values(
                            sender_id=sender_id, event_count=new_count, created_at=now, updated_at=now
                        )
                    )
                # The unique (sender_id, seq) constraint is a second line of defence: even a writer that skipped
                # the claim above could not store a position twice.
                await conn.execute(insert(conversation_events), rows)
                if also is not None:
                    await also(conn)
            except IntegrityError as error:
                # Leaving the `begin()` block with an exception rolls everything back: nothing of this turn stays.
                raise ConcurrentTurn(sender_id) from error
        return new_count

    async def delete(self, sender_id: str) -> None:
        """Forget the conversation and all its events; nothing happens if it was never stored."""
        async with self._engine.begin() as conn:
            # Events first, explicitly, rather than relying on ON DELETE CASCADE: SQLite enforces foreign keys
            # only on connections that enabled them, and an engine configured elsewhere might not have.
            await conn.execute(delete(conversation_events).where(conversation_events.c.sender_id == sender_id))
            await conn.execute(delete(conversations).where(conversations.c.sender_id == sender_id))

    async def count(self) -> int:
        """The number of stored conversations."""
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(conversations)) or 0)

    @staticmethod
    async def _stored_count(conn: AsyncConnection, sender_id: str) -> int:
        stored = await conn.scalar(select(conversations.c.event_count).where(conversations.c.sender_id == sender_id))
        return int(stored or 0)


def _json_event(event: Mapping[str, Any], offset: int) -> dict[str, Any]:
    """The event as the plain dict that will be stored, after checking that it survives JSON unchanged in kind.

    The check runs here, before any SQL, so that a bad event fails the same way on both databases: a datetime
    would otherwise fail only inside the driver, and NaN would be stored by SQLite but refused by PostgreSQL.
    """
    if not isinstance(event, Mapping):
        raise ValueError(f"event {offset} is a {type(event).__name__}, not a dict")
    try:
        json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"event {offset} ({event.get('event')!r}) is not plain JSON: {error}") from error
    return dict(event)
