"""Slack redelivers events it thinks were missed (X-Slack-Retry-Num) and clients can send an interaction twice:
each is handled once, whichever process gets it, by recording its key in the database first.

A request that is a conversation turn goes into the inbox in the same transaction as its receipt, before Slack is
answered: the acknowledgement never waits for a turn, and an acknowledged turn survives a crash.
"""

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

from bot.slack.inbox import Inbox
from bot.slack.intake import turn_of
from portal.adapters.tables import metadata
from portal.adapters.types import UtcDateTime

logger = logging.getLogger(__name__)
KEEP = timedelta(hours=2)  # Slack retries within minutes; after this a key may be forgotten
QUEUED = "chargedesk_turn_queued"  # set in the request's context when its turn is in the inbox

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
    def __init__(
        self,
        engine: AsyncEngine,
        inbox: Inbox | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.inbox = inbox
        self.now = now
        self._writes = 0

    async def first_time(self, key: str, body: dict[str, Any] | None = None) -> tuple[bool, bool]:
        """Record `key`: (first time, turn queued). Not the first time when it was already recorded (by this or any
        other process); when it is and `body` asks for a conversation turn, the turn is put in the inbox."""
        dialect = self.engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(slack_receipts).values(key=key, received_at=self.now()).on_conflict_do_nothing()
        turn = turn_of(body) if body is not None and self.inbox is not None else None
        async with self.engine.begin() as conn:
            inserted = (await conn.execute(statement)).rowcount == 1
            if inserted and turn is not None and self.inbox is not None:
                await self.inbox.put(conn, key, turn)
            self._writes += 1
            if self._writes % 500 == 0:  # now and then, forget keys Slack can no longer retry
                await conn.execute(delete(slack_receipts).where(slack_receipts.c.received_at < self.now() - KEEP))
        queued = inserted and turn is not None
        if queued and self.inbox is not None:
            self.inbox.ring()
        return inserted, queued


def deduplicate(receipts: Receipts) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt middleware: a redelivered request is acknowledged and goes no further."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = receipt_key(req.body)
        first, queued = True, False
        try:
            if key is not None:
                first, queued = await receipts.first_time(key, req.body)
        except (SQLAlchemyError, OSError) as error:
            # The database is down: handle the request anyway, so the user hears "try again" from the listener
            # rather than nothing at all (a redelivery during the outage may then be answered twice).
            logger.error("recording a receipt failed: %s", type(error).__name__)
        if not first:
            logger.info("redelivery of %s ignored", (key or "").split(":", 1)[0])
            return BoltResponse(status=200, body="")
        # The listener still runs (bolt answers a request no listener matched with 404, and Slack would retry it);
        # it runs the turn itself only when the turn is not in the inbox.
        req.context[QUEUED] = queued
        await next()
        return None

    return middleware
