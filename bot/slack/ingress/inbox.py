"""The inbox: conversation turns Slack has handed us, stored before Slack is answered, taken by whoever runs turns.

An acknowledged message is therefore never lost: if the process that took it dies, its claim runs out and another
process (or the restarted one) runs the turn. A conversation's turns are taken one at a time, in the order Slack
stamped them, whichever process takes them: a turn can be claimed only when no earlier turn of its conversation
is still in the inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.engine.leases import RowLease
from bot.slack.ingress.intake import QueuedTurn
from bot.slack.ingress.threads import resolve
from bot.slack.tables import slack_inbox


@dataclass(frozen=True)
class Claimed:
    id: int
    delivery: str
    turn: QueuedTurn
    received_at: datetime
    attempts: int  # more than 1: an earlier claim ran out, so the turn may already have run


class Inbox:
    def __init__(
        self,
        engine: AsyncEngine,
        claim_ttl: timedelta = timedelta(seconds=6),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        internal_channels: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.internal_channels = internal_channels  # the triage channel: replies there are agents' own notes
        self.claim_ttl = claim_ttl
        self.now = now
        # A claim is the lease of the consumer running the turn: renewed while it runs, and free again once it runs
        # out (the consumer died), so another consumer runs the turn.
        self.claims = RowLease(slack_inbox, slack_inbox.c.claimed_by, slack_inbox.c.claimed_until, claim_ttl, now)
        self._bells: list[Callable[[], None]] = []

    def on_put(self, bell: Callable[[], None]) -> None:
        """Call `bell` after each committed put (to wake this process's consumer, or the worker processes)."""
        self._bells.append(bell)

    def ring(self) -> None:
        for bell in self._bells:
            bell()

    async def put_many(self, conn: AsyncConnection, turns: list[tuple[str, QueuedTurn]]) -> None:
        """Add `turns` (delivery key, turn) within the caller's transaction (the one that records their receipts).

        A thread reply is looked up here: added to a request when its thread is a request's, else dropped (or, in a
        DM, taken as the turn it always was)."""
        turns = await resolve(conn, turns, self.internal_channels)
        if not turns:
            return
        now = self.now()
        rows = [
            {
                "delivery": delivery,
                "sender_id": turn.conversation.sender_id,
                "order_key": turn.order_key,
                "conversation": turn.conversation.dumps(),
                "turn": turn.dumps(),
                "received_at": now,
            }
            for delivery, turn in turns
        ]
        await conn.execute(insert(slack_inbox), rows)

    async def claim(self, owner: str, limit: int) -> list[Claimed]:
        """Up to `limit` turns for `owner`, each the earliest waiting turn of a conversation nobody is running."""
        now = self.now()
        inbox = slack_inbox
        earlier = slack_inbox.alias("earlier")
        before = select(earlier.c.id).where(
            earlier.c.sender_id == inbox.c.sender_id,
            or_(
                earlier.c.order_key < inbox.c.order_key,
                and_(earlier.c.order_key == inbox.c.order_key, earlier.c.id < inbox.c.id),
            ),
        )
        candidates = select(inbox.c.id).where(self.claims.free(now), ~before.exists()).order_by(inbox.c.id).limit(limit)
        if self.engine.dialect.name == "postgresql":
            # Consumers in other processes skip the rows this one is claiming instead of queueing behind them.
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            self.claims.take(owner, inbox.c.id.in_(candidates.scalar_subquery()), now=now)
            .values(attempts=inbox.c.attempts + 1)
            .returning(
                inbox.c.id,
                inbox.c.delivery,
                inbox.c.conversation,
                inbox.c.turn,
                inbox.c.order_key,
                inbox.c.received_at,
                inbox.c.attempts,
            )
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(statement)).all()
        claimed = [
            Claimed(
                row.id,
                row.delivery,
                QueuedTurn.loads(row.conversation, row.turn, row.order_key),
                row.received_at,
                row.attempts,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    async def renew(self, owner: str) -> None:
        """Keep `owner`'s claims alive while their turns run."""
        async with self.engine.begin() as conn:
            await conn.execute(self.claims.renew(owner))

    async def finish(self, entry_id: int, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.claims.drop(owner, slack_inbox.c.id == entry_id))

    async def waiting(self) -> int:
        """How many turns are in the inbox (claimed or not)."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(slack_inbox)) or 0)
