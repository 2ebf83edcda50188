"""Which Slack users are which portal accounts: learned when they talk to the assistant, else looked up by email.

Learning matters for Slack Connect: a user from another workspace cannot be found by email in ours.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Column, Index, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.adapters.tables import metadata
from portal.adapters.types import UtcDateTime

logger = logging.getLogger(__name__)
LOOKUP_CACHE_SECONDS = 600.0

slack_people = Table(
    "slack_people",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("team_id", String(32), nullable=False),
    Column("email", String(320), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_slack_people_email", "email"),
)


class People:
    def __init__(
        self,
        engine: AsyncEngine,
        client: AsyncWebClient,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.client = client
        self.now = now
        self.monotonic = monotonic
        self._known: dict[str, tuple[str, str]] = {}  # user_id -> (team_id, email) already stored
        self._lookups: dict[str, tuple[float, str | None]] = {}

    async def remember(self, user_id: str, team_id: str, email: str) -> None:
        email = email.strip().lower()
        if self._known.get(user_id) == (team_id, email):
            return  # nothing new: no write on every turn
        values = {"team_id": team_id, "email": email, "updated_at": self.now()}
        async with self.engine.begin() as conn:
            changed = await conn.execute(update(slack_people).where(slack_people.c.user_id == user_id).values(values))
            if changed.rowcount == 0:
                # Another process may store the same person at the same moment: a savepoint keeps our
                # transaction usable (PostgreSQL aborts a transaction on a failed statement otherwise).
                with contextlib.suppress(IntegrityError):
                    async with conn.begin_nested():
                        await conn.execute(insert(slack_people).values(user_id=user_id, **values))
        self._known[user_id] = (team_id, email)

    async def user_ids(self, emails: Iterable[str]) -> dict[str, list[str]]:
        """Slack user ids per email (several when a person has accounts in several workspaces)."""
        wanted = sorted({e.strip().lower() for e in emails})
        found: dict[str, list[str]] = {e: [] for e in wanted}
        if not wanted:
            return found
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(slack_people.c.email, slack_people.c.user_id)
                .where(slack_people.c.email.in_(wanted))
                .order_by(slack_people.c.updated_at.desc())
            )
            for row in rows:
                found[row.email].append(row.user_id)
        for email in [e for e, ids in found.items() if not ids]:
            user_id = await self._lookup(email)
            if user_id:
                found[email].append(user_id)
        return found

    async def _lookup(self, email: str) -> str | None:
        cached = self._lookups.get(email)
        if cached and self.monotonic() - cached[0] < LOOKUP_CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.users_lookupByEmail(email=email)
            user_id = (response.get("user") or {}).get("id")
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                logger.warning("users.lookupByEmail failed: %s", error.response.get("error"))
                return None  # a passing failure is not cached
            user_id = None
        self._lookups[email] = (self.monotonic(), user_id)
        return str(user_id) if user_id else None
