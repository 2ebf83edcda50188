"""Options for the searchable charger select (only the asker's own chargers, whatever they type)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Option, PlainTextObject

from bot.slack.ingress.context import Conversation, acting_team
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.modals import CHARGER_SEARCH

MAX_OPTIONS = 100


def register(app: AsyncApp, conversations: SlackConversations) -> None:
    @app.options(CHARGER_SEARCH)
    async def chargers(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body.get("user") or {}
        asker = Conversation(
            acting_team(user, (body.get("team") or {}).get("id")), str(user.get("id")), "-", None, "im"
        )
        typed = "".join(str(body.get("value") or "").split()).upper()
        serials = [s for s in await conversations.chargers_of(asker) if typed in s][:MAX_OPTIONS]
        await ack(options=[Option(text=PlainTextObject(text=s), value=s) for s in serials])
