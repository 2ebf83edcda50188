"""The global shortcut (start in a DM) and the message shortcut (a request from a message)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.ingress.context import Conversation, acting_team
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.intake import GLOBAL_SHORTCUT
from bot.slack.ingress.turns import TurnRunner
from bot.slack.listeners.events import run_unless_queued
from bot.slack.messages.modals import from_message_view

MESSAGE_SHORTCUT = "chargedesk_from_message"


def register(app: AsyncApp, conversations: SlackConversations, turns: TurnRunner) -> None:
    @app.shortcut(GLOBAL_SHORTCUT)
    async def raise_request(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
        await ack()
        await run_unless_queued(turns, body, context)

    @app.shortcut(MESSAGE_SHORTCUT)
    async def from_message(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = body.get("user") or {}
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        conversation = Conversation(
            team_id=acting_team(user, (body.get("team") or {}).get("id")),
            user_id=str(user.get("id")),
            channel_id=channel,
            thread_ts=None if channel.startswith("D") else str(message.get("thread_ts") or message.get("ts")),
            surface="im" if channel.startswith("D") else "channel",
        )
        t = await conversations.texts_for(conversation.user_id)
        view = from_message_view(str(message.get("text") or ""), conversation, t)
        await conversations.client.views_open(trigger_id=str(body.get("trigger_id")), view=view)
