"""The helpdesk loop's clocks (SLA targets and the wait for a customer's answer).

- sla.digest (recorded once per UTC day by the background check): the triage channel gets the day's late and
  unassigned requests, or a short all clear, in the agents' language.
- sla.breach_warning (once per request and target): the assignee gets a DM that a target is about to pass.
- request.customer_reminder (once per support question): the requester is told support still waits for their
  answer, with the question; a request closed for want of one (request.status_changed) says so, and how to start
  again (requests.py).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from bot.slack.egress.delivery import Delivery
from bot.slack.egress.notifier.deliveries import direct_message, tell_requester
from bot.slack.messages.sla import breach_warning_text, customer_reminder_text, digest_text
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier


async def sla_digest(notifier: Notifier, event: Event) -> list[Delivery]:
    """The day's digest, posted once (the event's key is the day's) in the triage channel."""
    if not notifier.triage_channel:
        return []
    text = digest_text(event.payload, notifier.agent_texts)
    message = {"channel": notifier.triage_channel, "text": text}
    return [Delivery(notifier.triage_channel, "chat.postMessage", message, key=f"ev{event.id}:digest")]


async def breach_warning(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The assignee (whoever has it now) learns that a target is about to pass; nobody's request: nothing."""
    if not facts.assignee or facts.is_closed:
        return []
    text = breach_warning_text(facts, event.payload, notifier.agent_texts)
    return [direct_message(facts.assignee, text, f"ev{event.id}:sla-warning")]


async def remind_customer(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The requester's one reminder, unless they answered (or it ended) since it was recorded."""
    if facts.status != "waiting_for_customer":
        return []
    number = event.payload.get("number")
    question = next((m.text for m in facts.messages if m.number == number), None)
    close_on = date.fromisoformat(str(event.payload.get("close_on")))
    return await tell_requester(notifier, event, facts, lambda t: customer_reminder_text(facts, question, close_on, t))
