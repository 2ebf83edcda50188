"""A Slack user's email address (users.info), cached for a while: it decides which portal account is asking."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600.0  # an email change or a new account shows up within ten minutes


class Directory:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def email_of(self, user_id: str) -> str | None:
        """The user's email, or None when Slack does not share it (no scope, hidden, unknown user)."""
        cached = self._cache.get(user_id)
        if cached and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
            profile = (response.get("user") or {}).get("profile") or {}
            email = profile.get("email") or None
        except SlackApiError as error:
            # Not cached: a passing failure must not turn a customer into "no account" for ten minutes.
            logger.warning("users.info failed: %s", error.response.get("error"))
            return None
        self._cache[user_id] = (self.clock(), email)
        return email
