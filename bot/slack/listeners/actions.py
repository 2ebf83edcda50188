"""Buttons and selects in the assistant's messages, and the button that opens the active form."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.blocks import CHOOSE, OPEN_FORM, PRESS, thread_of_block
from bot.slack.context import Conversation, acting_team
from bot.slack.conversations import SlackConversations


def conversation_of(body: dict[str, Any], action: dict[str, Any]) -> Conversation:
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    private = channel.startswith("D")
    # A click in a thread belongs to that thread; on the entry message it starts a thread under it.
    thread = (
        None
        if private
        else (thread_of_block(action.get("block_id")) or container.get("thread_ts") or container.get("message_ts"))
    )
    return Conversation(
        team_id=acting_team(body.get("user"), (body.get("team") or {}).get("id")),
        user_id=str((body.get("user") or {}).get("id") or ""),
        channel_id=channel,
        thread_ts=str(thread) if thread else None,
        surface="im" if private else "channel",
    )


def register(app: AsyncApp, conversations: SlackConversations) -> None:
    @app.action(re.compile(f"^({PRESS}_[0-9]+|{CHOOSE})$"))
    async def pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        payload = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        conversation = conversation_of(body, action)
        if not conversation.channel_id:
            # A button on the App Home tab has no channel: the conversation continues in the user's DM.
            opened = await conversations.client.conversations_open(users=conversation.user_id)
            dm = str((opened.get("channel") or {}).get("id"))
            conversation = Conversation(conversation.team_id, conversation.user_id, dm, None, "im")
        # The value is whatever the client sent: it is only ever a message to the assistant, and every
        # decision it leads to is checked again by the portal.
        await conversations.converse(
            conversation, str(payload), trigger_id=body.get("trigger_id"), order_key=action.get("action_ts")
        )

    @app.action(OPEN_FORM)
    async def open_form(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        conversation = conversation_of(body, action)
        tracker = await conversations.engine.tracker(conversation.sender_id)
        if tracker.loop_name and body.get("trigger_id"):
            await conversations.open_form(conversation, tracker.loop_name, tracker.slots, str(body["trigger_id"]))
