"""Which Slack users may be told about a portal account: learned when they talk to the assistant, else looked up.

Learning matters for Slack Connect: a user from another workspace cannot be found by email in ours. Only verified
people are learned (the resolver decided, `bot.slack.people.identity`), and every one is checked again when a message is
about to go to them: a learned person or a `users.lookupByEmail` hit whose workspace is neither ours nor linked to
the account's organization gets nothing (a workspace can be relinked, and anyone can type any email in theirs).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from cachetools import LRUCache, TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.people.identity import CACHE_SIZE, Directory, IdentityUnavailable, Person, profile_of
from bot.slack.tables import slack_people
from portal.bootstrap import Portal
from portal.languages import DEFAULT_LANGUAGE, LANGUAGES, Language, language_of

logger = logging.getLogger(__name__)
LOOKUP_CACHE_SECONDS = 600.0
_NOT_LOOKED_UP = object()  # None in the cache is an answer: Slack knows nobody with that email


def reader_language(stored: object = None, locale: object = None) -> Language:
    """The language to write to a person in: the one they last wrote in, else their Slack locale's, else English.

    Only our own languages count: a stored value or a locale that is none of them (forged, or "ja-JP") is passed
    over, never trusted as a catalog name.
    """
    chosen = stored if isinstance(stored, str) and stored in LANGUAGES else None
    return chosen or language_of(locale) or DEFAULT_LANGUAGE


class People:
    def __init__(
        self,
        engine: AsyncEngine,
        client: AsyncWebClient,
        directory: Directory | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.engine = engine
        self.client = client
        self.directory = directory or Directory(client, Portal(engine))
        self.now = now
        self.monotonic = monotonic
        # user_id -> (team, enterprise, email) as stored: spares a write per turn; forgetting one costs one write.
        self._known: LRUCache[str, tuple[str, str | None, str]] = LRUCache(cache_size)
        # user_id -> the language last stored: spares a write per turn.
        self._languages: LRUCache[str, str] = LRUCache(cache_size)
        # email -> (user id, team, enterprise), or None: Slack found nobody.
        self._lookups: TTLCache[str, tuple[str, str | None, str | None] | None] = TTLCache(
            cache_size, LOOKUP_CACHE_SECONDS, timer=monotonic
        )

    async def remember(self, person: Person) -> None:
        """Learn a verified person (an unverified one is never stored: they must not receive anyone's DMs)."""
        if not person.verified or person.email is None:
            return
        user_id, team_id, enterprise_id, email = person.user_id, person.team_id, person.enterprise_id, person.email
        if self._known.get(user_id) == (team_id, enterprise_id, email):
            return  # nothing new: no write on every turn
        values = {"team_id": team_id, "enterprise_id": enterprise_id, "email": email, "updated_at": self.now()}
        async with self.engine.begin() as conn:
            changed = await conn.execute(update(slack_people).where(slack_people.c.user_id == user_id).values(values))
            if changed.rowcount == 0:
                # Another process may store the same person at the same moment: a savepoint keeps our
                # transaction usable (PostgreSQL aborts a transaction on a failed statement otherwise).
                with contextlib.suppress(IntegrityError):
                    async with conn.begin_nested():
                        await conn.execute(insert(slack_people).values(user_id=user_id, **values))
        self._known[user_id] = (team_id, enterprise_id, email)
        self._languages.pop(user_id, None)  # a new row has no language yet: the next turn's is written

    async def store_language(self, user_id: str, language: object) -> None:
        """Keep the language of `user_id`'s last turn (on their row: only people who were learned have one).

        Anything but one of our languages is ignored; the same value again costs no write.
        """
        if not isinstance(language, str) or language not in LANGUAGES:
            return
        if self._languages.get(user_id) == language:
            return
        async with self.engine.begin() as conn:
            changed = await conn.execute(
                update(slack_people).where(slack_people.c.user_id == user_id).values(language=language)
            )
        if changed.rowcount:
            self._languages[user_id] = language

    async def stored_language(self, user_id: str) -> Language | None:
        """The language `user_id` last wrote to the assistant in, if they were learned and have written since."""
        async with self.engine.connect() as conn:
            stored = (
                await conn.execute(select(slack_people.c.language).where(slack_people.c.user_id == user_id))
            ).scalar()
        return stored if isinstance(stored, str) and stored in LANGUAGES else None

    async def language_for(self, user_id: str, *, ask_slack: bool = True) -> Language:
        """What to write to `user_id` in outside a conversation (/support, App Home, DMs): their stored language,
        else their Slack locale's (users.info, cached), else English. Never raises: a database or Slack outage
        means English rather than no message. `ask_slack=False` when Slack just failed to say who they are: only
        a profile already cached counts then (asking again would only make them wait longer)."""
        try:
            stored = await self.stored_language(user_id)
        except Exception as error:  # the message matters more than its language
            logger.warning("reading a person's language failed: %s", type(error).__name__)
            stored = None
        if stored is not None:
            return stored
        if not ask_slack:
            cached = self.directory.cached_profile(user_id)
            return reader_language(None, cached.locale if cached else None)
        try:
            locale = (await self.directory.profile(user_id)).locale
        except IdentityUnavailable:
            locale = None
        return reader_language(None, locale)

    async def user_ids(self, emails: Iterable[str], unsure: set[str] | None = None) -> dict[str, list[str]]:
        """Slack user ids per email of the people verified for that email's account now (several when a person
        uses several workspaces). Raises IdentityUnavailable when Slack cannot say which workspace is ours.

        `unsure`, when given, receives the emails Slack could not look up this time (a passing failure, not "no
        such user"): an empty list for them does not mean that nobody can be reached."""
        wanted = sorted({e.strip().lower() for e in emails})
        found: dict[str, list[str]] = {e: [] for e in wanted}
        if not wanted:
            return found
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        slack_people.c.email,
                        slack_people.c.user_id,
                        slack_people.c.team_id,
                        slack_people.c.enterprise_id,
                    )
                    .where(slack_people.c.email.in_(wanted))
                    .order_by(slack_people.c.updated_at.desc())
                )
            ).all()
        learned: set[str] = set()
        for row in rows:
            learned.add(row.email)
            if await self.directory.verified_for(row.email, row.team_id, row.enterprise_id):
                found[row.email].append(row.user_id)
        for email in [e for e in wanted if e not in learned]:
            hit = await self._lookup(email)
            if hit is None:
                if unsure is not None and email not in self._lookups:
                    unsure.add(email)  # not cached: the lookup failed in passing
                continue
            user_id, team_id, enterprise_id = hit
            # Slack finds the email in any workspace our app can see, Slack Connect ones included.
            if await self.directory.verified_for(email, team_id, enterprise_id):
                found[email].append(user_id)
        return found

    async def _lookup(self, email: str) -> tuple[str, str | None, str | None] | None:
        cached = self._lookups.get(email, _NOT_LOOKED_UP)
        if cached is not _NOT_LOOKED_UP:
            return cached  # type: ignore[return-value]
        try:
            response = await self.client.users_lookupByEmail(email=email)
            user = response.get("user") or {}
            profile = profile_of(user)
            hit = (str(user["id"]), profile.team_id, profile.enterprise_id) if user.get("id") else None
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                logger.warning("users.lookupByEmail failed: %s", error.response.get("error"))
                return None  # a passing failure is not cached
            hit = None
        self._lookups[email] = hit
        return hit
