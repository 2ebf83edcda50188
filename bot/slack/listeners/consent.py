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

from bot.slack.ingress.conversations import TRY_AGAIN, SlackConversations
from bot.slack.listeners.refusals import ALREADY_ANSWERED, Press, person_or_refuse, tell
from bot.slack.messages.consent import CONSENT, DECLINE
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.errors import AlreadyAnswered, InvalidTransition, UnknownRequest
from portal.languages.texts import N_

logger = logging.getLogger(__name__)

NOT_YOURS = N_("Only the people of the chargers' current Service Operator can answer this. Nothing was changed.")


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal = conversations.portal

    async def answer(body: dict[str, Any], action: dict[str, Any], *, consent: bool) -> None:
        press = Press.of(body, action)
        verb = "consent" if consent else "decline"

        # The person who pressed reads the answer: in their language (the consent DM was written in it too), known
        # for sure once Slack has said who they are.
        t = await conversations.texts_for(press.user_id, ask_slack=False)

        async def say(text: str) -> None:
            await tell(conversations, press, t.gettext(text))

        try:
            checked = await person_or_refuse(conversations, press, verb, NOT_YOURS)
            if checked is None:
                return
            person, t = checked
            try:
                await services.answer_consent(portal.uow(), person.email, press.reference, consent=consent)
            except UnknownRequest:
                # Unknown, another organization's or another kind of request: one answer, and remembered.
                await services.audit_refusal(
                    portal.uow(),
                    f"slack:{press.user_id}",
                    verb,
                    press.reference,
                    "NotServiceOperator",
                    "may not answer it",
                )
                await say(NOT_YOURS)
            except (AlreadyAnswered, InvalidTransition):
                await tell(conversations, press, t.gettext(ALREADY_ANSWERED).format(reference=press.reference))
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
