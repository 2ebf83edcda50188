"""A customer adds to their request from Slack (issue 16 §2): a reply in the channel thread it was filed from, or in
their DM thread under one of our messages about it, with the files they attached.

The portal decides who may (the requester or their organization, by the verified email; an unverified workspace is
nobody) and keeps the message once per Slack message (its key), so Slack's retries and a turn run twice add it
once. The customer hears back where they wrote: ephemerally in the channel thread (which may be shared with other
organizations), in the DM thread otherwise. Support learns of it from the `request.message` event (the notifier
mirrors it into the triage thread). Files are kept as references only: nothing is downloaded or uploaded anywhere.
"""

from __future__ import annotations

import logging

from bot.slack.ingress.conversations import UNAVAILABLE, SlackConversations
from bot.slack.ingress.intake import QueuedTurn
from bot.slack.ingress.threads import reference_of
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.domain.messages import MESSAGE_MAX
from portal.errors import InvalidMessage, InvalidTransition, NotFound, NotRequester
from portal.languages.texts import N_, Texts

logger = logging.getLogger(__name__)

ADDED = N_("Added to {reference}. Support sees it.")
# A resolved service ticket takes the message (support sees it) but waits in nobody's queue until it is reopened.
UNKNOWN = N_("I can't find a request {reference} that you can see, so nothing was added.")
CLOSED = N_("{reference} is closed, so nothing was added to it.")
REOPEN_HINT = N_(
    "It is resolved: if the problem is back, press Reopen in my message about it, or type "
    "`/support reopen {reference}` and what is still wrong."
)
TOO_LONG = N_("That message is too long to add to {reference}: please keep it under {limit} characters.")
TRY_AGAIN = N_("Sorry, I can't reach the support records right now, so nothing was added. Please send it again.")


async def add_to_request(
    conversations: SlackConversations, agents: Agents, turn: QueuedTurn, internal: frozenset[str] = frozenset()
) -> None:
    """Add the customer's message of `turn` to its request, and tell them whether it was."""
    if await agents.is_agent(turn.conversation.user_id):
        # An agent writing in the customer's thread talks to the people there, not to the request (support's
        # messages to the requester go through the triage thread): nothing to add, nothing to answer.
        return
    reference = turn.reference
    if reference is None:  # it ran without the inbox, which looks it up: look it up now
        async with conversations.portal.engine.connect() as conn:
            reference = await reference_of(conn, turn, internal)
        if reference is None:
            return
    t = await conversations.texts_for(turn.conversation.user_id)
    answer = await _add(conversations, turn, reference, t)
    if answer:
        await _tell(conversations, turn, answer)


async def _add(conversations: SlackConversations, turn: QueuedTurn, reference: str, t: Texts) -> str | None:
    """What the customer is told (None: nothing, e.g. an empty message without files)."""
    try:
        person = await conversations.person(turn.conversation)
    except IdentityUnavailable:
        return t.gettext(IDENTITY_UNAVAILABLE)
    if not person.verified or not person.email:
        # An unverified workspace, or no email Slack vouches for: nobody whose request this could be.
        return t.gettext(UNKNOWN).format(reference=reference)
    files = [{"id": i, "name": n, "permalink": p} for i, n, p in turn.files]
    try:
        request = await services.add_from_requester(
            conversations.portal.uow(), person.email, reference, turn.text, files, key=turn.message_key
        )
    except (NotFound, NotRequester):
        return t.gettext(UNKNOWN).format(reference=reference)
    except InvalidTransition:
        return t.gettext(CLOSED).format(reference=reference)
    except InvalidMessage:
        if not turn.text.strip() and not turn.files:
            return None  # nothing to add (a message of only a mention of someone, say)
        return t.gettext(TOO_LONG).format(reference=reference, limit=MESSAGE_MAX)
    except UNAVAILABLE as error:
        logger.error("adding a customer's message failed: %s", type(error).__name__)
        return t.gettext(TRY_AGAIN)
    answer = t.gettext(ADDED).format(reference=reference)
    if request.kind == "service_ticket" and request.status == "resolved":
        # Support sees it in the ticket's thread, but a resolved ticket is in nobody's queue: reopening puts it back.
        answer += " " + t.gettext(REOPEN_HINT).format(reference=reference)
    return answer


async def _tell(conversations: SlackConversations, turn: QueuedTurn, text: str) -> None:
    conversation = turn.conversation
    if conversation.is_private:
        await conversations.client.chat_postMessage(
            channel=conversation.channel_id, thread_ts=turn.parent_ts, text=text
        )
    else:
        await conversations.client.chat_postEphemeral(
            channel=conversation.channel_id, user=conversation.user_id, thread_ts=turn.parent_ts, text=text
        )
