"""The charger's Service Operator answers a fault report from its DM: open a service ticket, or "not ours any more".

Who pressed goes through the one identity check first; then the portal decides whether they are a person of the
charger's current Service Operator (authorization before state) and audits refusals. A forged button value or
modal gets the same answer as another organization's report, and shows nobody's symptom.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.engine.responses import BotMessage
from bot.slack.ingress.context import acting_team
from bot.slack.ingress.conversations import TRY_AGAIN, UNAVAILABLE, SlackConversations
from bot.slack.listeners.refusals import ALREADY_ANSWERED, Press, person_or_refuse, tell
from bot.slack.messages.faults import FAULT_NOT_OURS, FAULT_OPEN_TICKET, FAULT_TICKET_CALLBACK, fault_ticket_view
from bot.slack.messages.modals import message_view
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.errors import InvalidInput, InvalidTransition, NotEligible, UnknownRequest
from portal.languages.texts import N_, texts

logger = logging.getLogger(__name__)

NOT_YOURS = N_("Only the people of the charger's current Service Operator can answer this. Nothing was changed.")
NOT_OURS_DONE = N_("Thank you. Support will check the charger's records; nothing more is needed from you.")


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client, directory = conversations.portal, conversations.client, conversations.directory

    async def press(body: dict[str, Any], action: dict[str, Any], *, open_ticket: bool) -> None:
        pressed = Press.of(body, action)
        reference = pressed.reference
        verb = "fault_open_ticket" if open_ticket else "fault_not_ours"
        t = await conversations.texts_for(pressed.user_id, ask_slack=False)

        async def say(text: str) -> None:
            await tell(conversations, pressed, text)

        try:
            checked = await person_or_refuse(conversations, pressed, verb, NOT_YOURS)
            if checked is None:
                return
            person, t = checked
            try:
                if open_ticket:
                    notice = await services.fault_for_operator(portal.uow(), person.email, reference)
                    view = fault_ticket_view(notice, pressed.user_id, t)
                    await client.views_open(trigger_id=str(body.get("trigger_id")), view=view)
                else:
                    await services.fault_not_ours(portal.uow(), person.email, reference)
                    await say(t.gettext(NOT_OURS_DONE))
            except UnknownRequest:
                await say(t.gettext(NOT_YOURS))  # the portal audited it
            except InvalidTransition:
                await say(t.gettext(ALREADY_ANSWERED).format(reference=reference))
        except UNAVAILABLE as error:
            logger.error("fault report press failed: %s", type(error).__name__)
            await say(t.gettext(IDENTITY_UNAVAILABLE if isinstance(error, IdentityUnavailable) else TRY_AGAIN))

    @app.action(FAULT_OPEN_TICKET)
    async def open_ticket(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await press(body, action, open_ticket=True)

    @app.action(FAULT_NOT_OURS)
    async def not_ours(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await press(body, action, open_ticket=False)

    @app.view(FAULT_TICKET_CALLBACK)
    async def ticket_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        user_id = str(context.user_id or "unknown")
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = None
        t = texts(meta.get("language") if isinstance(meta, dict) else None)
        reference = meta.get("fault") if isinstance(meta, dict) else None
        title = t.gettext("Service ticket")
        if not isinstance(meta, dict) or meta.get("user_id") != user_id or not isinstance(reference, str):
            await services.audit_refusal(
                portal.uow(), f"slack:{user_id}", "fault_open_ticket", None, "ForgedValue", "private_metadata"
            )
            await ack(response_action="update", view=message_view(title, [BotMessage(t.gettext(NOT_YOURS))], t))
            return
        values = (view.get("state") or {}).get("values") or {}
        description = ((values.get("description") or {}).get("value") or {}).get("value") or ""
        user = body.get("user") or {}
        view_id = str(view.get("id") or "")
        origin = {
            "surface": "modal",
            "slack_user_id": user_id,
            "slack_team_id": acting_team(user, (body.get("team") or {}).get("id")),
            "fault_report": reference,
            "key": f"view:{user_id}:{view_id}" if view_id else None,
        }
        try:
            person = await directory.resolve(user_id, origin["slack_team_id"] or "")
            if not person.verified:
                await services.audit_refusal(
                    portal.uow(), f"slack:{user_id}", "fault_open_ticket", reference, "IdentityNotVerified", ""
                )
                await ack(response_action="update", view=message_view(title, [BotMessage(t.gettext(NOT_YOURS))], t))
                return
            ticket = await services.open_ticket_from_fault(portal.uow(), person.email, reference, description, origin)
        except UnknownRequest:
            await ack(response_action="update", view=message_view(title, [BotMessage(t.gettext(NOT_YOURS))], t))
            return
        except (InvalidInput, NotEligible, InvalidTransition) as error:
            await ack(response_action="errors", errors={"description": t.gettext(str(error))[:150]})
            return
        except UNAVAILABLE as error:
            logger.error("opening a ticket from a fault report failed: %s", type(error).__name__)
            await ack(response_action="errors", errors={"description": t.gettext(TRY_AGAIN)})
            return
        done = t.gettext("Service ticket {ticket} is open for {serial}. Support will follow up with you.").format(
            ticket=ticket.reference, serial=", ".join(ticket.serials)
        )
        await ack(response_action="update", view=message_view(title, [BotMessage(done)], t))
