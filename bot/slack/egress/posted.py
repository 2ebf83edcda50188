"""What the app posted, found by where it is: the triage card a thread hangs under.

The sender remembers each post made with a message_key (slack_messages: key → channel, ts); the triage card of a
request is remembered under ``triage:<reference>``. Only the sender writes that table; this reads it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.tables import slack_messages
from portal.domain.requests import looks_like_reference

TRIAGE_KEY_PREFIX = "triage:"


def triage_key(reference: str) -> str:
    """The message_key of a request's triage card."""
    return f"{TRIAGE_KEY_PREFIX}{reference}"


async def triage_reference(engine: AsyncEngine, channel: str, thread_ts: str) -> str | None:
    """The reference of the request whose triage card is the message `thread_ts` of `channel`, or None (another
    message, another channel: a thread under anything but a triage card)."""
    if not channel or not thread_ts:
        return None
    async with engine.connect() as conn:
        keys = (
            await conn.execute(
                select(slack_messages.c.key).where(
                    slack_messages.c.channel == channel,
                    slack_messages.c.ts == thread_ts,
                    slack_messages.c.key.startswith(TRIAGE_KEY_PREFIX, autoescape=True),
                )
            )
        ).scalars()
        for key in keys:
            reference = str(key)[len(TRIAGE_KEY_PREFIX) :]
            if looks_like_reference(reference):
                return reference
    return None
