"""The deliveries every family of events builds: a DM, a note in a request's channel thread, the requester told.

Public thread notes (in the channel where a request was filed, possibly shared with other organizations, e.g.
through Slack Connect) carry the reference and nothing else: no status, organization, serial or description. The
requester gets the details in a DM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.slack.egress.delivery import Delivery
from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import Texts
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier

Wording = Callable[[Texts], str]  # a text, in the language of the Texts given
Buttons = Callable[[str, Texts], list[dict[str, Any]]]  # a DM's text → its blocks, with buttons, in that language


async def tell_requester(
    notifier: Notifier, event: Event, facts: RequestFacts, wording: Wording, buttons: Buttons | None = None
) -> list[Delivery]:
    """A DM to the request's requester, in the language it was made in, and a note without details in the channel
    thread it came from (if any)."""
    origin = facts.origin or {}
    user_id = origin.get("slack_user_id")
    if not user_id:
        return []
    t = await notifier.requester_texts(facts)
    text = wording(t)
    message: dict[str, Any] = {"channel": user_id, "text": text}
    if buttons is not None:
        message["blocks"] = buttons(text, t)
    # Remembered, so that the requester's reply in its DM thread is added to the request (threads.py).
    remembered = f"requester:{facts.reference}:{event.id}"
    deliveries = [
        Delivery(str(user_id), "chat.postMessage", message, key=f"ev{event.id}:requester", message_key=remembered)
    ]
    thread = public_thread(origin)
    if thread is not None:
        # The thread learns that something happened, not what: a shared channel may hold other organizations.
        note = thread_note(facts.reference, str(user_id), t)
        deliveries.append(thread_post(event, thread, note))
    return deliveries


def thread_note(reference: str, requester: str, t: Texts = ENGLISH) -> str:
    """The public note in a request's thread: its reference, and that the requester has the details privately."""
    return t.gettext("There's an update on {reference}; {requester} has the details in a direct message.").format(
        reference=escape(reference), requester=f"<@{requester}>"
    )


def public_thread(origin: dict[str, Any]) -> tuple[str, str] | None:
    """The channel thread a request came from, unless it came from a DM (whose messages the requester gets anyway)."""
    channel, thread = origin.get("channel_id"), origin.get("thread_ts")
    if not channel or not thread or str(channel).startswith("D") or origin.get("surface") == "im":
        return None
    return str(channel), str(thread)


def direct_message(user_id: str, text: str, key: str) -> Delivery:
    """A DM to `user_id` (posting to a user id opens the conversation with the app), once per `key`."""
    return Delivery(user_id, "chat.postMessage", {"channel": user_id, "text": text}, key=key)


def thread_post(event: Event, thread: tuple[str, str], text: str) -> Delivery:
    """A note in a request's thread, once per event (the key)."""
    channel, ts = thread
    return Delivery(
        channel, "chat.postMessage", {"channel": channel, "thread_ts": ts, "text": text}, key=f"ev{event.id}:thread"
    )


def triage_post(
    notifier: Notifier, method: str, text: str, blocks: list[dict[str, Any]], key: str, message_key: str | None = None
) -> Delivery:
    """A card in the triage channel (posted, or updated in place by its `message_key`)."""
    channel = str(notifier.triage_channel)
    return Delivery(
        channel, method, {"channel": channel, "text": text, "blocks": blocks}, key=key, message_key=message_key
    )
