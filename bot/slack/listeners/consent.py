"""The current Service Operator's people answer a transfer in their DM; the portal checks who may answer."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.agents import Agents
from bot.slack.conversations import SlackConversations
from portal import services
from portal.errors import AlreadyAnswered, InvalidTransition, NotAllowed, NotFound


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client

    @app.action(re.compile("^consent_(yes|no)$"))
    async def answered(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        reference = str(action.get("value") or "")
        consent = action.get("action_id") == "consent_yes"
        email = await conversations.directory.email_of(user_id)
        try:
            await services.answer_transfer(portal.uow(), email, reference, consent=consent)
        except (NotAllowed, NotFound) as refused:
            # Someone who is not the charger's Service Operator (or a forged button) : refused and remembered.
            await services.audit_refusal(
                portal.uow(), f"slack:{user_id}", "consent" if consent else "decline", reference, type(refused).__name__
            )
            text = "Only the people of the chargers' current Service Operator can answer this. Nothing was changed."
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        except (AlreadyAnswered, InvalidTransition):
            text = f"{reference} has already been answered; nothing was changed."
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
