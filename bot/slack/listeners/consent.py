"""The current Service Operator's people answer a transfer in their DM; the portal checks who may answer.

Who pressed goes through the one identity check first. Then authorization comes before state: an unknown
reference, another organization's transfer (decided or not) and a reference of another kind all get the same
answer, and every such press is audited. Only the Service Operator's own people learn that a transfer was
already answered. Slack or the database failing is said as such, never as a refusal, and never audited as one.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.ingress.context import acting_team
from bot.slack.ingress.conversations import TRY_AGAIN, SlackConversations
from bot.slack.messages.consent import CONSENT, DECLINE
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, WORKSPACE_NOT_VERIFIED, IdentityUnavailable
from portal import services
from portal.errors import AlreadyAnswered, InvalidTransition, UnknownRequest
from portal.languages.texts import N_

logger = logging.getLogger(__name__)

NOT_YOURS = N_("Only the people of the chargers' current Service Operator can answer this. Nothing was changed.")


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client, directory = conversations.portal, conversations.client, conversations.directory

    async def answer(body: dict[str, Any], action: dict[str, Any], *, consent: bool) -> None:
        user = body.get("user") or {}
        user_id = str(user.get("id"))
        team_id = acting_team(user, (body.get("team") or {}).get("id"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        reference = str(action.get("value") or "")
        verb = "consent" if consent else "decline"

        # The person who pressed reads the answer: in their language (the consent DM was written in it too), known
        # for sure once Slack has said who they are.
        t = await conversations.texts_for(user_id, ask_slack=False)

        async def say(text: str) -> None:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=t.gettext(text))

        try:
            person = await directory.resolve(user_id, team_id)
            t = await conversations.texts_for(user_id)
            if not person.verified:
                await services.audit_refusal(
                    portal.uow(), f"slack:{user_id}", verb, reference, "IdentityNotVerified", person.status.value
                )
                await say(WORKSPACE_NOT_VERIFIED if person.workspace_unverified else NOT_YOURS)
                return
            try:
                await services.answer_consent(portal.uow(), person.email, reference, consent=consent)
            except UnknownRequest:
                # Unknown, another organization's or another kind of request: one answer, and remembered.
                await services.audit_refusal(
                    portal.uow(), f"slack:{user_id}", verb, reference, "NotServiceOperator", "may not answer it"
                )
                await say(NOT_YOURS)
            except (AlreadyAnswered, InvalidTransition):
                await client.chat_postEphemeral(
                    channel=channel,
                    user=user_id,
                    text=t.gettext("{reference} has already been answered; nothing was changed.").format(
                        reference=reference
                    ),
                )
        except IdentityUnavailable:
            await say(IDENTITY_UNAVAILABLE)
        except (SQLAlchemyError, OSError) as error:
            logger.error("consent press failed: %s", type(error).__name__)
            await say(TRY_AGAIN)

    @app.action(CONSENT)
    async def consented(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await answer(body, action, consent=True)

    @app.action(DECLINE)
    async def declined(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await answer(body, action, consent=False)
