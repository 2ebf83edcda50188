"""What a request's own life tells people: filed, assigned, its status changed.

- request.opened: the triage channel gets a message with the decision buttons; the channel thread it was filed
  from (if any) a note that it was filed (and is remembered as the request's, for the customer's later messages
  there); a request filed in a channel (whose confirmation there was ephemeral) also gets its requester a DM receipt
  to keep. (For a transfer, consent.py asks the current Service Operator.) The event is recorded once per filed
  request, so a retried modal submission or turn (which finds the request it filed) announces nothing twice.
- request.assigned: the triage message shows the assignee.
- request.status_changed: the triage message is updated (its buttons fit the new state); the requester gets a DM
  with the reason, the thread a note; when a transfer ends, the consent DMs say so. A resolved service ticket's DM
  carries *Reopen* (the requester's side may reopen it for CHARGEDESK_REOPEN_DAYS); a ticket closed as a duplicate
  tells the requester which ticket support continues under. Moving into waiting_for_customer, and back out on the
  requester's own answer, sends no status DM: the question, and the answer, are the news (relay.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.slack.egress.delivery import Delivery
from bot.slack.egress.notifier.consent import consent_answered
from bot.slack.egress.notifier.deliveries import direct_message, public_thread, tell_requester, thread_post, triage_post
from bot.slack.ingress.threads import remember_thread
from bot.slack.messages.blocks import escape
from bot.slack.messages.receipts import filing_receipt
from bot.slack.messages.reopen import with_reopen_button
from bot.slack.messages.sla import unanswered_close_text
from bot.slack.messages.triage import triage_message
from bot.slack.messages.wording import ENGLISH, kind_text, status_text
from portal.domain.requests import WAITING_FOR_CUSTOMER
from portal.languages.texts import Texts
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier

# What a withdrawal by the requester's side leads to (a transfer is cancelled).
WITHDRAWN_STATUSES = {"withdrawn", "cancelled"}

# Statuses a Service Operator's answer leads to: its own event already told the requester.
ANSWERED_STATUSES = {"awaiting_support", "declined_by_operator"}


async def remember_request_thread(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """A request filed from a channel thread: the thread is remembered as the request's, so that the customer's
    later messages there are added to it (ingress/threads.py). Before the filed note is posted, which invites them."""
    thread = public_thread(facts.origin or {})
    if thread is not None:
        await remember_thread(notifier.portal.engine, *thread, facts.reference, notifier.clock())
    return []


async def triage(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The request's triage card: posted when it is filed, updated in place on every change after."""
    if not notifier.triage_channel:
        return []
    text, blocks = triage_message(facts, notifier.agent_texts)
    method = "chat.postMessage" if event.name == "request.opened" else "chat.update"
    return [triage_post(notifier, method, text, blocks, f"ev{event.id}:triage", f"triage:{facts.reference}")]


async def filed_note_in_thread(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The channel thread a request was filed from learns its reference (the details went to the requester)."""
    origin = facts.origin or {}
    thread, user_id = public_thread(origin), origin.get("slack_user_id")
    if thread is None or not user_id:
        return []
    t = await notifier.requester_texts(facts)
    return [thread_post(event, thread, filed_note(facts.kind, facts.reference, str(user_id), t))]


async def receipt(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """A request filed in a channel: its requester gets a DM to keep (the confirmation there was ephemeral)."""
    origin = facts.origin or {}
    user_id = origin.get("slack_user_id")
    if not user_id or not _filed_in_channel(origin):
        return []
    text = filing_receipt(facts, await notifier.requester_texts(facts))
    kept = direct_message(str(user_id), text, f"ev{event.id}:receipt")
    # Remembered, so that the requester's reply in its DM thread is added to the request (threads.py).
    return [replace(kept, message_key=f"receipt:{facts.reference}")]


async def status_changed(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    if event.payload.get("status") in ANSWERED_STATUSES or _waiting_news(event):
        return []

    def reopen_button(text: str, t: Texts) -> list[dict[str, Any]]:
        return with_reopen_button(text, facts.reference, t)

    resolved = facts.kind == "service_ticket" and facts.status == "resolved"
    buttons = reopen_button if resolved else None
    deliveries = await tell_requester(notifier, event, facts, lambda t: _status_text(event, facts, t), buttons)
    if facts.kind == "transfer" and facts.is_closed:
        deliveries += await consent_answered(notifier, event, facts)
    return deliveries


def filed_note(kind: str, reference: str, requester: str, t: Texts = ENGLISH) -> str:
    """The public note in the thread a request was filed from: who filed what, and that support answers there."""
    return t.gettext("{requester} filed {kind} {reference}. Support will follow up in this thread.").format(
        requester=f"<@{requester}>", kind=kind_text(t, kind), reference=escape(reference)
    )


def _waiting_news(event: Event) -> bool:
    """Whether a status change is support starting to wait for the requester's answer, or the requester's own
    answer ending the wait: the question and the answer are the news, so no status DM repeats them. Anything else
    out of waiting (a decision, a withdrawal, closing it unanswered) is told as usual."""
    payload = event.payload
    if payload.get("status") == WAITING_FOR_CUSTOMER:
        return True
    answered = str(payload.get("actor") or "").startswith("account:")
    return payload.get("from") == WAITING_FOR_CUSTOMER and answered and payload.get("status") not in WITHDRAWN_STATUSES


def _filed_in_channel(origin: dict[str, Any]) -> bool:
    """Whether a request was filed in a channel (where its confirmation was ephemeral), not in the requester's DM."""
    channel = origin.get("channel_id")
    return bool(channel) and not str(channel).startswith("D") and origin.get("surface") != "im"


def _status_text(event: Event, facts: RequestFacts, t: Texts = ENGLISH) -> str:
    last = facts.history[-1] if facts.history else None
    if facts.duplicate_of and facts.is_closed:
        return t.gettext(
            "Your {kind} {reference} describes the same problem as {other}, so support closed it and continues "
            "under {other}."
        ).format(kind=kind_text(t, facts.kind), reference=facts.reference, other=escape(facts.duplicate_of))
    if last and last.from_status == "waiting_for_customer" and last.actor == "system" and facts.is_closed:
        return unanswered_close_text(facts, t)  # its recorded reason is the portal's English, for the history
    text = t.gettext("Your {kind} {reference} is now {status}.").format(
        kind=kind_text(t, facts.kind), reference=facts.reference, status=status_text(t, facts.kind, facts.status)
    )
    if last and last.reason:
        text += " " + t.gettext("Reason: {reason}").format(reason=escape(last.reason))
    if last and facts.status in WITHDRAWN_STATUSES and last.actor != f"account:{facts.requester_email}":
        # A colleague of the requester's organization withdrew it: the requester learns who.
        who = escape(last.actor.partition(":")[2] or last.actor)
        text += " " + t.gettext("It was withdrawn by {who}.").format(who=who)
    if facts.kind == "service_ticket" and facts.status == "resolved":
        text += " " + t.gettext("If the problem comes back, press Reopen and support picks it up again.")
    if facts.kind == "transfer" and facts.status == "completed":
        serials = ", ".join(c.serial for c in facts.chargers)
        text += " " + t.gettext(
            "Your organization is now the Service Operator of {serials}: you can raise service tickets on it."
        ).format(serials=escape(serials))
    return text
