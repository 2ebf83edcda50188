"""Who the support agents are: configured Slack user ids and/or the members of a user group (cached), who are
members of the home workspace (a configured id seen acting from another workspace is nobody's agent)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people.identity import Directory
from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from portal.languages import DEFAULT_LANGUAGE, Language

logger = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0  # someone added to the agents' group can act within five minutes


class Agents:
    def __init__(
        self,
        client: AsyncWebClient,
        users: frozenset[str] = frozenset(),
        usergroup: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        directory: Directory | None = None,
        language: Language = DEFAULT_LANGUAGE,
    ) -> None:
        self.client = client
        self.language: Language = language  # what agents read (CHARGEDESK_AGENT_LANGUAGE): English by default
        self.directory = directory
        self.users = users
        self.usergroup = usergroup
        self.clock = clock
        self._group: tuple[float, frozenset[str]] | None = None

    async def members(self) -> frozenset[str]:
        """Every agent's Slack user id."""
        return self.users | await self._group_members()

    async def is_agent(self, user_id: str) -> bool:
        """Raises IdentityUnavailable (bot.slack.people.identity) when Slack cannot say whose workspace they are in."""
        if user_id not in self.users and user_id not in await self._group_members():
            return False
        return self.directory is None or await self.directory.is_home_member(user_id)

    async def agent(self, user_id: str) -> Agent | None:
        """The portal actor for an agent, or None for anyone else: the portal then refuses support decisions."""
        return Agent(user_id) if await self.is_agent(user_id) else None

    async def _group_members(self) -> frozenset[str]:
        if not self.usergroup:
            return frozenset()
        if self._group and self.clock() - self._group[0] < GROUP_CACHE_SECONDS:
            return self._group[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=self.usergroup)
            members = frozenset(str(u) for u in response.get("users") or [])
        except SlackApiError as error:
            # Keep the last known members rather than locking every agent out on a passing failure.
            logger.warning("usergroups.users.list failed: %s", error.response.get("error"))
            return self._group[1] if self._group else frozenset()
        self._group = (self.clock(), members)
        return members


async def audited_agent(
    agents: Agents, portal: Portal, user_id: str, action: str, reference: str | None, detail: str
) -> Agent | None:
    """The agent pressing an agents' button, or None after auditing the attempt as `NotSupportAgent` (the caller
    answers where the person is). Raises IdentityUnavailable like `Agents.is_agent`."""
    agent = await agents.agent(user_id)
    if agent is None:
        await services.audit_refusal(portal.uow(), f"slack:{user_id}", action, reference, "NotSupportAgent", detail)
    return agent
