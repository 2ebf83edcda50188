"""Which request a customer's thread reply belongs to: the channel thread it was filed from, or our DM about it.

Two indexed look-ups, made for the replies of a batch in the transaction that records their receipts (so that a
reply in a thread of no request is dropped there, before it costs a turn): `slack_request_threads` by its primary
key's prefix (channel, thread), and `slack_messages` by (channel, ts) for a DM reply under one of the messages we
posted about a request (remembered under a key that names it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.slack.ingress.intake import QueuedTurn, TurnKind
from bot.slack.tables import slack_messages, slack_request_threads

# The keys of messages we post to a requester about their request, whose second part is its reference: a relayed
# message of support's ("relay:ST-000001:2"), the filing receipt, a status DM.
REQUEST_MESSAGE_KEYS = ("relay", "receipt", "requester")


def reference_in_key(key: str) -> str | None:
    """The request a remembered message is about, when its key says so."""
    parts = key.split(":")
    return parts[1] if len(parts) >= 2 and parts[0] in REQUEST_MESSAGE_KEYS and parts[1] else None


async def remember_thread(engine: AsyncEngine, channel: str, thread_ts: str, reference: str, at: datetime) -> None:
    """Remember that `reference` was filed from the thread `thread_ts` of `channel` (once, however often told)."""
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(slack_request_threads)
        .values(channel=channel, thread_ts=thread_ts, reference=reference, filed_at=at)
        .on_conflict_do_nothing()
    )
    async with engine.begin() as conn:
        await conn.execute(statement)


async def resolve(
    conn: AsyncConnection, turns: Iterable[tuple[str, QueuedTurn]], internal: frozenset[str] = frozenset()
) -> list[tuple[str, QueuedTurn]]:
    """`turns` as the inbox should keep them: additions name their request; a channel reply in a thread of no
    request (or in an `internal` channel, such as the triage channel, where agents' replies are their own notes) is
    dropped; a DM thread reply under no message about a request stays what it always was, a turn of the DM."""
    turns = list(turns)
    additions = [t for _, t in turns if t.kind is TurnKind.ADDITION and t.reference is None]
    if not additions:
        return turns
    threads = await _channel_threads(conn, [t for t in additions if t.conversation.surface == "channel"])
    dms = await _dm_messages(conn, [t for t in additions if t.conversation.surface == "im"])
    kept: list[tuple[str, QueuedTurn]] = []
    for delivery, turn in turns:
        if turn.kind is not TurnKind.ADDITION or turn.reference is not None:
            kept.append((delivery, turn))
            continue
        place = (turn.conversation.channel_id, turn.parent_ts or "")
        if turn.conversation.surface == "channel":
            reference = None if place[0] in internal else threads.get(place)
            if reference is not None:
                kept.append((delivery, replace(turn, reference=reference)))
        elif (reference := dms.get(place)) is not None:
            kept.append((delivery, replace(turn, reference=reference)))
        elif not turn.files:
            kept.append((delivery, QueuedTurn(TurnKind.MESSAGE, turn.conversation, turn.text, turn.order_key)))
    return kept


async def reference_of(conn: AsyncConnection, turn: QueuedTurn, internal: frozenset[str] = frozenset()) -> str | None:
    """The request of one addition (for a turn that ran without the inbox)."""
    resolved = await resolve(conn, [("", turn)], internal)
    return resolved[0][1].reference if resolved else None


async def _channel_threads(conn: AsyncConnection, turns: list[QueuedTurn]) -> dict[tuple[str, str], str]:
    """(channel, thread) → the request filed from it last (a thread that filed several adds to the newest)."""
    places = {(t.conversation.channel_id, t.parent_ts or "") for t in turns}
    if not places:
        return {}
    table = slack_request_threads
    rows = (
        await conn.execute(
            select(table.c.channel, table.c.thread_ts, table.c.reference)
            .where(or_(*(and_(table.c.channel == c, table.c.thread_ts == ts) for c, ts in sorted(places))))
            .order_by(table.c.filed_at, table.c.reference)
        )
    ).all()
    return {(row.channel, row.thread_ts): row.reference for row in rows}


async def _dm_messages(conn: AsyncConnection, turns: list[QueuedTurn]) -> dict[tuple[str, str], str]:
    """(DM, ts of our message) → the request that message is about."""
    places = sorted({(t.conversation.channel_id, t.parent_ts or "") for t in turns})
    if not places:
        return {}
    rows = (
        await conn.execute(
            select(slack_messages.c.channel, slack_messages.c.ts, slack_messages.c.key).where(
                or_(*(and_(slack_messages.c.channel == c, slack_messages.c.ts == ts) for c, ts in places))
            )
        )
    ).all()
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        if (reference := reference_in_key(row.key)) is not None:
            found[(row.channel, row.ts)] = reference
    return found
