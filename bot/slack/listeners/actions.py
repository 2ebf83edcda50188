"""Buttons and selects in the assistant's messages, and the button that opens the active form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.intake import CONVERSATION_BUTTON, conversation_of_press
from bot.slack.ingress.turns import TurnRunner
from bot.slack.listeners.events import run_unless_queued
from bot.slack.messages.blocks import OPEN_FORM


def register(app: AsyncApp, conversations: SlackConversations, turns: TurnRunner) -> None:
    @app.action(CONVERSATION_BUTTON)
    async def pressed(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
        await ack()
        await run_unless_queued(turns, body, context)

    @app.action(OPEN_FORM)
    async def open_form(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        conversation = conversation_of_press(body, action)
        tracker = await conversations.engine.current(conversation.sender_id)  # its state: no need of the history
        if tracker.loop_name and body.get("trigger_id"):
            await conversations.open_form(conversation, tracker.loop_name, tracker.slots, str(body["trigger_id"]))
