"""Mentions in channels and direct messages: the conversation's text turns."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack import support
from bot.slack.agents import Agents
from bot.slack.context import Conversation
from bot.slack.conversations import SlackConversations

MENTION = re.compile(r"<@[A-Z0-9]+>")


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], body: dict[str, Any]) -> None:
        # The conversation lives in the thread of the first message; a mention inside a thread continues it.
        conversation = Conversation(
            team_id=str(event.get("user_team") or event.get("team") or body.get("team_id") or ""),
            user_id=str(event["user"]),
            channel_id=str(event["channel"]),
            thread_ts=str(event.get("thread_ts") or event["ts"]),
            surface="channel",
        )
        text = MENTION.sub("", str(event.get("text", ""))).strip()
        # `/support` does not work in threads or for Slack Connect users: the same words in a mention do.
        answer = await support.answer(conversations, agents, conversation.user_id, conversation.team_id, text)
        if answer is not None and text:
            reply, blocks = answer
            await conversations.client.chat_postEphemeral(
                channel=conversation.channel_id,
                user=conversation.user_id,
                thread_ts=conversation.thread_ts,
                text=reply,
                blocks=blocks,
            )
            return
        await conversations.converse(conversation, text, order_key=str(event["ts"]))

    @app.event("message")
    async def direct_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or "user" not in event:
            return  # edits, joins, and the assistant's own messages are not turns
        conversation = Conversation(
            team_id=str(event.get("user_team") or event.get("team") or body.get("team_id") or ""),
            user_id=str(event["user"]),
            channel_id=str(event["channel"]),
            thread_ts=None,
            surface="im",
        )
        await conversations.converse(conversation, str(event.get("text", "")).strip(), order_key=str(event["ts"]))
