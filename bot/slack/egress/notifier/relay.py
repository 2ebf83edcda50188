"""Messages on a request between support and the requester's side (issue 16 §1).

- request.message to the requester (an agent's reply or question): the requester gets the words with the agent's
  name and the reference, in the channel thread the request was asked in only when nobody of another organization
  can read that channel (bot/slack/people/channels.py), else in their DM (remembered under
  ``relay:<reference>:<number>``, so that a reply in its thread can be matched to the request); the triage thread a
  note of who sent what, and where.
- request.message from the requester's side (a reply in the request's channel thread or DM thread, ingress/
  additions.py): the triage thread gets it, marked as the customer's, files as links; no customer channel does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.egress.delivery import THREAD_OF, Delivery
from bot.slack.egress.notifier.deliveries import public_thread
from bot.slack.egress.posted import triage_key
from bot.slack.messages.additions import customer_message_in_triage
from bot.slack.messages.relay import IN_DM, IN_THREAD, NOWHERE, to_requester, triage_note
from bot.slack.people.channels import private_to_organization
from bot.slack.people.identity import IdentityUnavailable
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier


async def relay(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """An agent's message to the requester: to them (their channel thread when only their organization reads
    it, else their DM), and a note of it for agents in the triage thread."""
    if event.payload.get("direction") != "to_requester":
        return []
    message = next((m for m in facts.messages if m.number == event.payload.get("number")), None)
    if message is None:
        return []
    kind, _, agent = message.author.partition(":")
    agent = agent if kind == "agent" else ""
    origin = facts.origin or {}
    user_id = origin.get("slack_user_id")
    deliveries: list[Delivery] = []
    where = NOWHERE
    if user_id:
        t = await notifier.requester_texts(facts)
        name = await _agent_name(notifier, agent)
        # Remembered, so that the requester's reply in its thread can be matched to the request.
        message_key = f"relay:{facts.reference}:{message.number}"
        thread = public_thread(origin)
        people = notifier.people
        if thread is not None and await private_to_organization(
            people.client, people.directory, notifier.portal, thread[0], facts.organization, notifier.is_support
        ):
            channel, ts = thread
            text = to_requester(facts.reference, name, message.text, message.asks, t, mention=str(user_id))
            payload = {"channel": channel, "thread_ts": ts, "text": text}
            deliveries.append(Delivery(channel, "chat.postMessage", payload, f"ev{event.id}:relay", message_key))
            where = IN_THREAD
        else:
            text = to_requester(facts.reference, name, message.text, message.asks, t)
            payload = {"channel": str(user_id), "text": text}
            deliveries.append(Delivery(str(user_id), "chat.postMessage", payload, f"ev{event.id}:relay", message_key))
            where = IN_DM
    if notifier.triage_channel:
        note = triage_note(agent, message.text, message.asks, where, notifier.agent_texts)
        payload = {"channel": notifier.triage_channel, "text": note, THREAD_OF: triage_key(facts.reference)}
        deliveries.append(Delivery(notifier.triage_channel, "chat.postMessage", payload, f"ev{event.id}:relay-note"))
    return deliveries


async def _agent_name(notifier: Notifier, user_id: str) -> str | None:
    """The name Slack shows for an agent (their display name, else their real name); None when Slack cannot
    say now (the message then comes from "Support")."""
    if not user_id:
        return None
    try:
        return (await notifier.people.directory.profile(user_id)).name
    except IdentityUnavailable:
        return None


async def customer_message_to_triage(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The requester's side added to the request: the triage thread gets it, marked as the customer's, in the
    agents' language. Nothing goes to any customer channel (the customer was answered where they wrote)."""
    if event.payload.get("direction") != "from_requester" or not notifier.triage_channel:
        return []
    number = event.payload.get("number")
    message = next((m for m in facts.messages if m.number == number), None)
    if message is None:
        return []
    email = message.author.partition(":")[2]
    try:
        users = (await notifier.people.user_ids([email])).get(email.strip().lower(), []) if email else []
    except IdentityUnavailable:  # the email says who wrote it: the message need not wait for Slack's answer
        users = []
    text = customer_message_in_triage(message, users, notifier.agent_texts)
    channel = notifier.triage_channel
    payload = {"channel": channel, "text": text, THREAD_OF: f"triage:{facts.reference}"}
    return [Delivery(channel, "chat.postMessage", payload, key=f"ev{event.id}:triage-customer")]
