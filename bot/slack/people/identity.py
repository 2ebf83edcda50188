"""Who a Slack user is: the one resolver every surface asks (conversations, /support, App Home, consent, agents).

A person is a Slack user id in a workspace. The email on their Slack profile (users.info) names a portal account
only in the app's home workspace (auth.test's team or Enterprise Grid) or in a workspace support linked to that
account's organization; the portal makes that decision (`services.identify`). Everyone else is unverified: they
are told so, support is asked once per workspace to link it, and they see nothing of any organization.

When Slack cannot tell us (users.info or auth.test failing, rate limited, timing out) the answer is
IdentityUnavailable, never "no account": nothing is cached and nothing is audited as a refusal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from portal import services
from portal.bootstrap import Portal
from portal.languages.texts import N_
from portal.services.workspaces import TEAM_ID, Identity, IdentityStatus

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600.0  # an email change shows up within ten minutes (links and accounts at once: not cached)
CACHE_SIZE = 10_000  # people per process: memory stays bounded however many write to the app
SLACK_TIMEOUT_SECONDS = 5.0  # how long a users.info / auth.test may take before we say "try again"

# What people hear; /support's listener words its answer from IDENTITY_UNAVAILABLE too.
# Both are in English, marked for the catalogs: shown as `texts(language).gettext(…)` in the reader's language.
IDENTITY_UNAVAILABLE = N_("I can't check who you are right now. Please try again in a minute.")
WORKSPACE_NOT_VERIFIED = N_(
    "Your Slack workspace isn't verified with our support team yet, so I can't show or file anything for your "
    "organization here. I've asked support to verify it; once they have, just ask me again."
)


class IdentityUnavailable(Exception):
    """Slack could not tell us who someone is right now (not the same as "no account")."""


@dataclass(frozen=True)
class Profile:
    """What users.info says about a user: their own workspace (and grid) and the email they show, if shared."""

    team_id: str | None
    enterprise_id: str | None
    email: str | None
    locale: str | None = None  # the language Slack shows them ("nl-NL"), asked for with include_locale
    name: str | None = None  # the name Slack shows for them (display name, else real name), for people to read
    is_bot: bool = False  # an app's or bot's user: reads what its app is sent, nobody's person


@dataclass(frozen=True)
class Person:
    """A resolved Slack user: `email` is set only when verified, so nothing downstream can use an unverified one."""

    user_id: str
    team_id: str
    enterprise_id: str | None
    home: bool
    identity: Identity
    locale: str | None = None  # their Slack locale ("de-DE"): a hint for their language, never a decision

    @property
    def verified(self) -> bool:
        return self.identity.verified

    @property
    def email(self) -> str | None:
        return self.identity.email if self.identity.verified else None

    @property
    def status(self) -> IdentityStatus:
        return self.identity.status

    @property
    def workspace_unverified(self) -> bool:
        return self.identity.status is IdentityStatus.WORKSPACE_NOT_VERIFIED

    def requester(self) -> dict[str, Any]:
        """The `requester` metadata the engine and the actions get (DESIGN.md §3)."""
        return {
            "email": self.email,
            "slack_user_id": self.user_id,
            "slack_team_id": self.team_id,
            "verified": self.verified,
            "identity": self.status.value,
        }


class Directory:
    """The resolver: users.info (cached), the home workspace (auth.test, once), and the portal's check."""

    def __init__(
        self,
        client: AsyncWebClient,
        portal: Portal,
        clock: Callable[[], float] = time.monotonic,
        timeout: float | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.client = client
        self.portal = portal
        self.clock = clock
        self.timeout = timeout
        self._profiles: TTLCache[str, Profile] = TTLCache(cache_size, CACHE_SECONDS, timer=clock)
        self._home: tuple[str, str | None] | None = None
        self._asked: set[str] = set()  # workspaces this process already asked support about

    async def home(self) -> tuple[str, str | None]:
        """(team id, enterprise id) of the workspace the app is installed in; fetched once."""
        if self._home is None:
            response = await self._call(self.client.auth_test)
            team = str(response.get("team_id") or "")
            if not team:
                raise IdentityUnavailable("auth.test gave no team_id")
            self._home = (team, str(response.get("enterprise_id") or "") or None)
        return self._home

    async def is_home(self, team_id: str | None, enterprise_id: str | None) -> bool:
        home_team, home_enterprise = await self.home()
        if team_id and team_id == home_team:
            return True
        # An org-wide install on an Enterprise Grid: the grid's members are ours too.
        return bool(home_enterprise and enterprise_id and enterprise_id == home_enterprise)

    def cached_profile(self, user_id: str) -> Profile | None:
        """What users.info said about `user_id` within the last ten minutes, without asking Slack."""
        return self._profiles.get(user_id)

    async def profile(self, user_id: str) -> Profile:
        cached = self._profiles.get(user_id)
        if cached is not None:
            return cached
        try:
            response = await self._call(self.client.users_info, user=user_id, include_locale=True)
        except IdentityUnavailable as error:
            if str(error) != "user_not_found":
                raise
            profile = Profile(None, None, None)  # a definite answer: nobody we can identify
        else:
            profile = profile_of(response.get("user") or {})
        self._profiles[user_id] = profile
        return profile

    async def resolve(
        self,
        user_id: str,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        *,
        team_name: str | None = None,
    ) -> Person:
        """Who `user_id` is. `team_id`/`enterprise_id` are what the payload said; Slack's own users.info wins.

        An unverified workspace is asked about (support gets one triage card per workspace).
        Raises IdentityUnavailable when Slack cannot answer now.
        """
        profile = await self.profile(user_id)
        team = profile.team_id or team_id or ""
        enterprise = profile.enterprise_id or enterprise_id or None
        home = await self.is_home(team, enterprise)
        identity = await services.identify(self.portal.uow(), profile.email, team, enterprise, home=home)
        if identity.status is IdentityStatus.WORKSPACE_NOT_VERIFIED:
            await self._ask(team, user_id, team_name)
        return Person(user_id, team, enterprise, home, identity, profile.locale)

    async def is_home_member(self, user_id: str) -> bool:
        profile = await self.profile(user_id)
        return await self.is_home(profile.team_id, profile.enterprise_id)

    async def verified_for(self, email: str, team_id: str | None, enterprise_id: str | None) -> bool:
        """Whether a person seen earlier (or found by email) in `team_id` may still speak for `email`'s account."""
        home = await self.is_home(team_id, enterprise_id)
        identity = await services.identify(self.portal.uow(), email, team_id, enterprise_id, home=home)
        return identity.verified and identity.email == email.strip().lower()

    async def _ask(self, team_id: str, user_id: str, team_name: str | None) -> None:
        if team_id in self._asked or not TEAM_ID.fullmatch(team_id):
            return
        await services.ask_workspace_verification(self.portal.uow(), team_id, user_id, team_name)
        self._asked.add(team_id)

    async def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout if self.timeout is not None else SLACK_TIMEOUT_SECONDS):
                return await method(**kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error") or "unknown")
            if code != "user_not_found":
                logger.warning("Slack could not tell who someone is: %s", code)
            raise IdentityUnavailable(code) from error
        except (TimeoutError, ClientError, SlackClientError, OSError) as error:
            logger.warning("Slack could not tell who someone is: %s", type(error).__name__)
            raise IdentityUnavailable(type(error).__name__) from error


def profile_of(user: dict[str, Any]) -> Profile:
    email = ((user.get("profile") or {}).get("email") or "").strip().lower() or None
    enterprise = (user.get("enterprise_user") or {}).get("enterprise_id") or user.get("enterprise_id")
    locale = user.get("locale")
    profile = user.get("profile") or {}
    names = (profile.get("display_name"), profile.get("real_name"), user.get("real_name"))
    name = next((n.strip() for n in names if isinstance(n, str) and n.strip()), None)
    return Profile(
        str(user.get("team_id") or "") or None,
        str(enterprise) if enterprise else None,
        email,
        str(locale)[:35] if isinstance(locale, str) and locale else None,
        name[:80] if name else None,
        bool(user.get("is_bot")),
    )
