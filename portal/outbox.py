"""The outbox, read by the surfaces: domain events committed with their changes, each to be passed on once.

A surface reads `unprocessed` events, works out what to do about them, then marks each with `mark_processed` in
the transaction that records its consequences (bot.slack: the Slack deliveries). Of two readers of one event, only
the one whose mark succeeds may act on it, so a rolled-back mark notifies nobody and a committed one is never
repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.adapters.tables import outbox


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    name: str
    reference: str | None
    payload: dict[str, Any]


async def unprocessed(engine: AsyncEngine, limit: int) -> list[OutboxEvent]:
    """The oldest `limit` events nobody has marked processed yet, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.id, outbox.c.name, outbox.c.reference, outbox.c.payload)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [OutboxEvent(r.id, r.name, r.reference, dict(r.payload or {})) for r in rows]


async def mark_processed(conn: AsyncConnection, event_id: int, at: datetime) -> bool:
    """Mark the event processed in the caller's transaction; False if another reader already did."""
    marked = await conn.execute(
        update(outbox).where(outbox.c.id == event_id, outbox.c.sent_at.is_(None)).values(sent_at=at)
    )
    return bool(marked.rowcount == 1)
