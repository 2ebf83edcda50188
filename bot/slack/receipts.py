"""Slack redelivers events it thinks were missed (X-Slack-Retry-Num) and clients can send an interaction twice:
each is handled once, whichever process gets it, by recording its key in the database first."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import Column, Index, String, Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.adapters.tables import metadata
from portal.adapters.types import UtcDateTime

logger = logging.getLogger(__name__)
KEEP = timedelta(hours=2)  # Slack retries within minutes; after this a key may be forgotten

slack_receipts = Table(
    "slack_receipts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_slack_receipts_received_at", "received_at"),
)


def receipt_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of a request: the event id, or the interaction's trigger (unique per click)."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if trigger and body.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
        return f"{body['type']}:{trigger}"
    if body.get("command") and trigger:
        return f"command:{trigger}"
    return None  # options requests and url_verification only read: answering twice is harmless


class Receipts:
    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.now = now
        self._writes = 0

    async def first_time(self, key: str) -> bool:
        """Record `key`; False when it was already recorded (by this or any other process)."""
        dialect = self.engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(slack_receipts).values(key=key, received_at=self.now()).on_conflict_do_nothing()
        async with self.engine.begin() as conn:
            inserted = (await conn.execute(statement)).rowcount == 1
            self._writes += 1
            if self._writes % 500 == 0:  # now and then, forget keys Slack can no longer retry
                await conn.execute(delete(slack_receipts).where(slack_receipts.c.received_at < self.now() - KEEP))
        return inserted


def deduplicate(receipts: Receipts) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt middleware: a redelivered request is acknowledged and goes no further."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = receipt_key(req.body)
        try:
            first = key is None or await receipts.first_time(key)
        except (SQLAlchemyError, OSError) as error:
            # The database is down: handle the request anyway, so the user hears "try again" from the listener
            # rather than nothing at all (a redelivery during the outage may then be answered twice).
            logger.error("recording a receipt failed: %s", type(error).__name__)
            first = True
        if not first:
            logger.info("redelivery of %s ignored", (key or "").split(":", 1)[0])
            return BoltResponse(status=200, body="")
        await next()
        return None

    return middleware
