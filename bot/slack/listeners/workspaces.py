"""Agents link a workspace to an organization from its triage card: the button opens a modal, the modal links.

Only agents may press or submit; anyone else is refused, audited like the other triage buttons. The card then
updates in place from the `workspace.linked` event (notifier), like every other decision.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.listeners.triage import NOTHING_CHANGED, UNREACHABLE
from bot.slack.messages.decisions import submitted_text
from bot.slack.messages.workspaces import LINK_WORKSPACE, LINK_WORKSPACE_CALLBACK, link_workspace_view
from bot.slack.people.agents import Agents, audited_agent
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.domain.actors import Agent
from portal.errors import PortalError
from portal.languages.texts import N_, texts

logger = logging.getLogger(__name__)

REFUSAL = N_("Only support agents can link workspaces. Nothing was changed.")
UNCONFIRMED = N_(
    "I can't reach the support records right now, so I can't tell whether the workspace was linked. "
    "Submitting again in a minute is safe: linking twice to the same organization does no harm."
)


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client
    at = texts(agents.language)  # agents read the agents' language (CHARGEDESK_AGENT_LANGUAGE), English by default

    async def agent_or_refuse(user_id: str, team_id: str, channel: str) -> Agent | None:
        agent = await audited_agent(agents, portal, user_id, LINK_WORKSPACE, None, f"workspace {team_id[:40]}")
        if agent is None and channel:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(REFUSAL))
        return agent

    @app.action(LINK_WORKSPACE)
    async def pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user_id = str(context.user_id)
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
        team_id = str(action.get("value") or "")
        try:
            if await agent_or_refuse(user_id, team_id, channel) is None:
                return
        except IdentityUnavailable:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(IDENTITY_UNAVAILABLE))
            return
        try:
            names = await services.organization_names(portal.uow())
        except UNREACHABLE as error:
            logger.error("listing organizations failed: %s", type(error).__name__)
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(NOTHING_CHANGED))
            return
        await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""), view=link_workspace_view(team_id, names, channel, at)
        )

    @app.view(LINK_WORKSPACE_CALLBACK)
    async def linked(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        user_id = str(context.user_id)
        team_id = str(meta.get("team_id") or "")
        try:
            agent = await agent_or_refuse(user_id, team_id, str(meta.get("channel") or ""))
        except IdentityUnavailable:
            await ack(response_action="errors", errors={"organization": at.gettext(IDENTITY_UNAVAILABLE)})
            return
        if agent is None:
            await ack(response_action="errors", errors={"organization": at.gettext(REFUSAL)})
            return
        try:
            await services.link_workspace(portal.uow(), agent, team_id, submitted_text(view, "organization"))
        except PortalError as error:
            await ack(
                response_action="errors", errors={"organization": at.gettext("Not done: {error}.").format(error=error)}
            )
            return
        except UNREACHABLE as error:
            # The failure may have come after the commit; linking again to the same organization is harmless.
            logger.error("linking a workspace failed: %s", type(error).__name__)
            await ack(response_action="errors", errors={"organization": at.gettext(UNCONFIRMED)})
            return
        await ack()
