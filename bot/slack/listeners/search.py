"""Agents search requests from their App Home: the button opens a modal, each submission answers in the same modal.

Only agents may press or submit (the results name any organization); anyone else is refused and audited, like the
triage buttons. A query longer than the modal's field allows was not typed in Slack: it is refused and audited too.
The database failing is said as such, never as "nothing found".
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.ingress.conversations import TRY_AGAIN, SlackConversations
from bot.slack.listeners.triage import UNREACHABLE
from bot.slack.messages.decisions import submitted_text
from bot.slack.messages.search import (
    REFUSAL,
    SEARCH_BLOCK,
    SEARCH_CALLBACK,
    SEARCH_OPEN,
    TOO_LONG,
    notice_view,
    search_view,
)
from bot.slack.people.agents import Agents, audited_agent
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.languages.texts import texts
from portal.services.search import QUERY_MAX, SearchTooLong

logger = logging.getLogger(__name__)

ACTION = "search"  # the audit log's name for a refused search


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client
    at = texts(agents.language)  # agents read the agents' language (CHARGEDESK_AGENT_LANGUAGE), English by default

    @app.action(SEARCH_OPEN)
    async def pressed(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user_id, trigger = str(context.user_id), str(body.get("trigger_id") or "")
        try:
            agent = await audited_agent(agents, portal, user_id, ACTION, None, "search button")
        except IdentityUnavailable:
            await client.views_open(trigger_id=trigger, view=notice_view(at.gettext(IDENTITY_UNAVAILABLE), at))
            return
        view = search_view(at) if agent is not None else notice_view(at.gettext(REFUSAL), at)
        await client.views_open(trigger_id=trigger, view=view)

    @app.view(SEARCH_CALLBACK)
    async def searched(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        user_id = str(context.user_id)
        query = submitted_text(view, SEARCH_BLOCK)
        try:
            agent = await audited_agent(agents, portal, user_id, ACTION, None, "search submitted")
        except IdentityUnavailable:
            await ack(response_action="errors", errors={SEARCH_BLOCK: at.gettext(IDENTITY_UNAVAILABLE)})
            return
        if agent is None:
            await ack(response_action="errors", errors={SEARCH_BLOCK: at.gettext(REFUSAL)})
            return
        try:
            found = await services.search_requests(portal.uow(), agent, query)
        except SearchTooLong:
            # The field allows no more: this submission was made up. Remembered (by length only), not echoed back.
            await services.audit_refusal(
                portal.uow(), agent, ACTION, None, "ForgedValue", f"query of {len(query)} characters"
            )
            await ack(response_action="errors", errors={SEARCH_BLOCK: at.gettext(TOO_LONG).format(count=QUERY_MAX)})
            return
        except UNREACHABLE as error:
            logger.error("searching requests failed: %s", type(error).__name__)
            await ack(response_action="errors", errors={SEARCH_BLOCK: at.gettext(TRY_AGAIN)})
            return
        await ack(response_action="update", view=search_view(at, query, found, portal.clock()))
