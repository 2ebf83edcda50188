"""The `/support` slash command: `status [REF]`, `charger SERIAL`, `help`, answered privately.

Slack does not deliver slash commands typed in a thread (the client rejects them there), nor those typed by
Slack Connect users from another workspace in a shared channel: the command belongs to our workspace's app.
Those people mention the assistant instead; the mention path answers the same queries with `support.answer`.

The answer is computed before acknowledging and sent as the acknowledgement itself (ephemeral): a few portal
queries take well under Slack's three seconds, and the reply then needs no extra Web API call or scope.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import support
from bot.slack.agents import Agents
from bot.slack.conversations import SlackConversations

logger = logging.getLogger(__name__)

COMMAND = "/support"
FAILED = "Sorry, I couldn't look that up just now. Please try again in a minute."


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    @app.command(COMMAND)
    async def support_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "")
        try:
            reply = await support.answer(
                conversations, agents, str(command.get("user_id") or ""), str(command.get("team_id") or ""), text
            )
        except Exception:
            # Logged here rather than re-raised: bolt's async runner drops an ack made before a listener raises,
            # and the person would then see Slack's "failed with the error" instead of this answer.
            logger.exception("/support %r failed", text[:100])
            await ack(response_type="ephemeral", text=FAILED)
            return
        fallback, blocks = reply if reply is not None else support.not_understood(text)
        await ack(response_type="ephemeral", text=fallback, blocks=blocks)
