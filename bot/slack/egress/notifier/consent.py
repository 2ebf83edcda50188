"""A management transfer and the current Service Operator's people: asked, reminded, answered, and told it is done.

- request.opened (a transfer): each Slack-known person of the chargers' Service Operator gets a DM asking for
  consent, unless nobody of an operator whose answer it needs can be reached in Slack: then the transfer goes to
  support at once (transfer.operator_unreachable tells the requester).
- transfer.consented / transfer.declined: the requester gets a DM and the request's thread a note; the consent DMs
  are updated to say who answered (the triage card is updated as on any change: requests.py).
- transfer.consent_reminder (recorded once per transfer, by the background check): the people of each Service
  Operator that has not answered yet get the consent DM again, as a reminder with its buttons.
- transfer.completed: the previous Service Operator's people learn that the chargers moved; the triage cards of the
  other requests still under way on those chargers are updated in place to show the new Service Operator.

Consent DMs and the other Service Operator messages go only to people verified for that organization now: a
learned person or a users.lookupByEmail hit from a workspace that is neither home nor linked to it is skipped
(`People.user_ids`). Each is written in the language of the person who reads it (not the requester's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.slack.egress.delivery import Delivery
from bot.slack.egress.notifier.deliveries import direct_message, tell_requester, triage_post
from bot.slack.messages.blocks import escape
from bot.slack.messages.consent import consent_answered_message, consent_message, consent_reminder_message
from bot.slack.messages.triage import triage_message
from bot.slack.messages.wording import ENGLISH, status_text
from portal import services
from portal.errors import UnknownRequest
from portal.languages.texts import Texts
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier

logger = logging.getLogger(__name__)

Render = Callable[[RequestFacts, str, Texts], tuple[str, list[dict[str, Any]]]]  # (facts, operator, texts) → DM


async def ask_consent_to_transfer(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    if facts.kind != "transfer":
        return []
    if facts.status == "awaiting_operator":
        unreachable = await _unreachable_operators(notifier, facts)
        if unreachable and await services.send_unreachable_transfer_to_support(
            notifier.portal.uow(), facts.reference, unreachable
        ):
            # Gone to support at once: its own events update the triage card and tell the requester.
            logger.info("transfer sent to support: %d Service Operator(s) not reachable in Slack", len(unreachable))
            return []
    return await _consent_dms(notifier, event, facts, "chat.postMessage", "consent", consent_message)


async def _unreachable_operators(notifier: Notifier, facts: RequestFacts) -> list[str]:
    """The Service Operators whose answer the transfer still needs and of whom nobody can be asked in Slack
    (no account, or no account of a person verified for it now). An operator one of whose people Slack could
    not look up this time is not counted: "unknown" is not "unreachable"."""
    needed = {c.operator for c in facts.chargers if c.answer is None}
    unsure: set[str] = set()
    users = await notifier.people.user_ids((email for _, email in facts.operator_accounts), unsure)
    reachable = {o for o, email in facts.operator_accounts if users.get(email.strip().lower())}
    uncertain = {o for o, email in facts.operator_accounts if email.strip().lower() in unsure}
    return sorted(needed - reachable - uncertain)


async def remind_consent(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The one reminder: a new consent DM to the people of each Service Operator that has not answered yet."""
    if facts.kind != "transfer" or facts.status != "awaiting_operator":
        return []
    waiting = {c.operator for c in facts.chargers if c.answer is None}
    return await _consent_dms(
        notifier, event, facts, "chat.postMessage", "consent-reminder", consent_reminder_message, only=waiting
    )


async def operator_unreachable(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    return await tell_requester(notifier, event, facts, lambda t: _unreachable_text(facts, t))


async def operator_answered(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    answered = await consent_answered(notifier, event, facts)
    return answered + await tell_requester(notifier, event, facts, lambda t: _answer_text(event, facts, t))


async def consent_answered(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The consent DMs, updated in place to say who answered (or how the transfer ended)."""
    return await _consent_dms(notifier, event, facts, "chat.update", "consent-answered", consent_answered_message)


async def _consent_dms(
    notifier: Notifier,
    event: Event,
    facts: RequestFacts,
    method: str,
    purpose: str,
    render: Render,
    only: set[str] | None = None,
) -> list[Delivery]:
    """The consent DM of each Slack-known person of each current Service Operator (of those `only` names, when
    given): posted, or updated; each in the language of the person who reads it (not the requester's)."""
    deliveries: list[Delivery] = []
    accounts = [(o, email) for o, email in facts.operator_accounts if only is None or o in only]
    users = await notifier.people.user_ids(email for _, email in accounts)
    for operator, email in accounts:
        for user_id in users.get(email, []):
            text, blocks = render(facts, operator, await notifier.texts_of(user_id))
            deliveries.append(
                Delivery(
                    user_id,
                    method,
                    {"channel": user_id, "text": text, "blocks": blocks},
                    key=f"ev{event.id}:{purpose}:{user_id}",
                    # A reminder is not remembered: the answer updates the consent DM itself, in place.
                    message_key=None if only is not None else f"consent:{facts.reference}:{user_id}",
                )
            )
    return deliveries


async def tell_previous_operators(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    users = await notifier.people.user_ids(email for _, email in facts.operator_accounts)
    deliveries = []
    for operator, email in facts.operator_accounts:
        serials = ", ".join(c.serial for c in facts.chargers if c.operator == operator)
        for user_id in users.get(email, []):
            t = await notifier.texts_of(user_id)
            text = t.gettext(
                "Management transfer {reference} is completed: {serials} is now operated by {organization}."
            ).format(
                reference=facts.reference,
                serials=escape(serials),
                organization=escape(facts.organization or t.gettext("the requesting organization")),
            )
            deliveries.append(direct_message(user_id, text, f"ev{event.id}:previous:{user_id}"))
    return deliveries


async def refresh_cards_naming(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """A completed transfer changed its chargers' Service Operator: the triage cards of the other requests still
    under way on them show the new one (in place, once per event and card)."""
    if not notifier.triage_channel:
        return []
    serials = [c.serial for c in facts.chargers]
    deliveries = []
    for reference in await services.open_requests_naming(notifier.portal.uow(), serials, excluding=facts.reference):
        try:
            other = await services.request_facts(notifier.portal.uow(), reference)
        except UnknownRequest:
            continue
        text, blocks = triage_message(other, notifier.agent_texts)
        deliveries.append(
            triage_post(
                notifier, "chat.update", text, blocks, f"ev{event.id}:triage:{reference}", f"triage:{reference}"
            )
        )
    return deliveries


def _answer_text(event: Event, facts: RequestFacts, t: Texts = ENGLISH) -> str:
    operator = next((c.operator for c in facts.chargers if c.answer), None)
    who = escape(operator) if operator else t.gettext("The current Service Operator")
    if event.name == "transfer.consented":
        return t.gettext("{operator} consented to your management transfer {reference}. It is now {status}.").format(
            operator=who, reference=facts.reference, status=status_text(t, facts.kind, facts.status)
        )
    reason = facts.history[-1].reason if facts.history else None
    text = t.gettext("{operator} declined your management transfer {reference}.").format(
        operator=who, reference=facts.reference
    )
    if reason:
        text += " " + t.gettext("Their reason: {reason}").format(reason=escape(reason))
    return text


def _unreachable_text(facts: RequestFacts, t: Texts = ENGLISH) -> str:
    return t.gettext(
        "Nobody of the current Service Operator of your chargers can be reached in Slack to consent, so your "
        "management transfer {reference} has gone straight to our support team, who will decide on it. You don't "
        "need to do anything."
    ).format(reference=facts.reference)
