"""The App Home tab: published each time someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.home import publish_home
from bot.slack.people.agents import Agents


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab is the DM; nothing to publish
        await publish_home(conversations, agents, str(event["user"]), str(body.get("team_id") or ""))
