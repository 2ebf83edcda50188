"""Fault reports on another organization's charger (issue 17 §2).

- fault.reported: each verified person of the charger's Service Operator gets a DM, in their language, with the
  serial, the symptom, the reporter only if they agreed, and *Open a service ticket* / *Not ours any more*; when
  nobody of the operator can be reached in Slack, the report goes to support at once.
- fault.ticket_opened: the operator's DMs say which ticket was opened from the report, in place of their buttons.
- fault.to_support: the triage channel gets a card (the operator said "not ours any more", or nobody of it could
  be reached); after "not ours", the operator's DMs lose their buttons.
- fault.reporter_told (recorded once per report, with fault.to_support): the reporter gets a DM, in their language,
  that support has the report now, never naming the operator; their App Home is refreshed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.slack.egress.delivery import Delivery
from bot.slack.egress.notifier.deliveries import direct_message
from bot.slack.messages.faults import fault_answered_text, fault_dm, fault_triage_card, reporter_told_text
from bot.slack.people.identity import IdentityUnavailable
from portal import services
from portal.languages.texts import Texts
from portal.outbox import OutboxEvent as Event
from portal.services.faults import FaultNotice

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier

logger = logging.getLogger(__name__)


async def fault_reported(notifier: Notifier, event: Event) -> list[Delivery]:
    """The DM of each verified person of the charger's Service Operator; nobody reachable: support has it."""
    notice = await services.fault_notice(notifier.portal.uow(), event.reference or "")
    if notice is None or notice.status != "sent":
        return []
    unsure: set[str] = set()
    users = await notifier.people.user_ids(notice.operator_emails, unsure)
    if not any(users.get(e.strip().lower()) for e in notice.operator_emails):
        if unsure:
            # "Unknown" (a look-up that failed this time) is not "unreachable": the event waits for a next round.
            raise IdentityUnavailable
        if await services.send_unreachable_fault_to_support(notifier.portal.uow(), notice.reference, [notice.operator]):
            logger.info("fault report sent to support: its Service Operator is not reachable in Slack")
        return []
    return [
        _fault_dm(event, notice, user_id, await notifier.texts_of(user_id), "chat.postMessage")
        for email in notice.operator_emails
        for user_id in users.get(email.strip().lower(), [])
    ]


def _fault_dm(event: Event, notice: FaultNotice, user_id: str, t: Texts, method: str) -> Delivery:
    if method == "chat.postMessage":
        text, blocks = fault_dm(notice, t)
        message: dict[str, Any] = {"channel": user_id, "text": text, "blocks": blocks}
    else:
        message = {"channel": user_id, "text": fault_answered_text(notice, t), "blocks": []}
    return Delivery(
        user_id,
        method,
        message,
        key=f"ev{event.id}:fault:{user_id}",
        message_key=f"fault:{notice.reference}:{user_id}",
    )


async def fault_to_support(notifier: Notifier, event: Event) -> list[Delivery]:
    """Support's card; after "not ours any more", the operator's DMs say so in place of their buttons."""
    notice = await services.fault_notice(notifier.portal.uow(), event.reference or "")
    if notice is None:
        return []
    reason = str(event.payload.get("reason") or "")
    deliveries: list[Delivery] = []
    if notifier.triage_channel:
        text = fault_triage_card(notice, reason, notifier.agent_texts)
        message = {"channel": notifier.triage_channel, "text": text}
        deliveries.append(Delivery(notifier.triage_channel, "chat.postMessage", message, key=f"ev{event.id}:fault"))
    if reason == "not_ours":
        deliveries += await _fault_answered(notifier, event, notice)
    return deliveries


async def fault_ticket_opened(notifier: Notifier, event: Event) -> list[Delivery]:
    """One of the operator's people opened a ticket from the report: every DM of it says so, without buttons."""
    notice = await services.fault_notice(notifier.portal.uow(), event.reference or "")
    return await _fault_answered(notifier, event, notice) if notice is not None else []


async def _fault_answered(notifier: Notifier, event: Event, notice: FaultNotice) -> list[Delivery]:
    users = await notifier.people.user_ids(notice.operator_emails)
    return [
        _fault_dm(event, notice, user_id, await notifier.texts_of(user_id), "chat.update")
        for email in notice.operator_emails
        for user_id in users.get(email.strip().lower(), [])
    ]


async def fault_reporter_told(notifier: Notifier, event: Event) -> list[Delivery]:
    """The reporter learns that support has their report: a DM to each of their verified Slack people (and the
    user it was reported from), in the language it was reported in, else theirs; and their App Home anew."""
    reporter = await services.fault_reporter(notifier.portal.uow(), event.reference or "")
    if reporter is None:
        return []
    found = (await notifier.people.user_ids([reporter.email])).get(reporter.email.strip().lower(), [])
    users = list(dict.fromkeys([*([reporter.slack_user_id] if reporter.slack_user_id else []), *found]))
    reason = str(event.payload.get("reason") or "")
    deliveries: list[Delivery] = []
    for user_id in users:
        t = await notifier.reader_texts(reporter.language, user_id)
        text = reporter_told_text(reporter.summary, reason, t)
        deliveries.append(direct_message(user_id, text, f"ev{event.id}:fault-reporter:{user_id}"))
        deliveries += await notifier.home_refresh(event, user_id, reporter.slack_team_id or "")
    return deliveries
