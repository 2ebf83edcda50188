"""Agents decide in the triage channel. Every press is checked: only configured agents may act.

Decisions go through the portal like any other; its outbox events then update the triage message in place and
notify everyone concerned, so a decision made anywhere looks the same here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.agents import Agents
from bot.slack.conversations import SlackConversations
from bot.slack.decisions import LINK_CALLBACK, REASON_CALLBACK, link_view, reason_view, submitted_text
from bot.slack.triage import APPROVE, ASSIGN, CLOSE, LINK, PROGRESS, REJECT, RESOLVE
from portal import services
from portal.domain.actors import Agent
from portal.errors import PortalError, ReasonRequired

REFUSAL = "Only support agents can decide requests. Nothing was changed."


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client

    async def agent_or_refuse(user_id: str, action: str, reference: str, channel: str) -> Agent | None:
        agent = await agents.agent(user_id)
        if agent is None:
            await services.audit_refusal(
                portal.uow(), f"slack:{user_id}", action, reference, "NotSupportAgent", "pressed a triage button"
            )
            await client.chat_postEphemeral(channel=channel, user=user_id, text=REFUSAL)
        return agent

    @app.action(re.compile("^triage_"))
    async def decide(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        reference, action_id = str(action.get("value") or ""), str(action.get("action_id"))
        agent = await agent_or_refuse(user_id, action_id, reference, channel)
        if agent is None:
            return
        trigger = str(body.get("trigger_id") or "")
        try:
            facts = await services.request_facts(portal.uow(), reference)
            if facts.is_closed and action_id != CLOSE:
                text = f"{reference} is already decided ({facts.status.replace('_', ' ')}); nothing was changed."
                await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
                return
            if action_id == APPROVE and facts.kind == "transfer" and facts.status == "awaiting_support":
                await services.approve_transfer(portal.uow(), agent, reference)
            elif action_id == APPROVE:
                # Without the Service Operator's consent an approval needs a reason on record.
                prompt = "Why approve without the Service Operator's consent?"
                await client.views_open(trigger_id=trigger, view=reason_view("approve", reference, channel, prompt))
            elif action_id == REJECT:
                await client.views_open(
                    trigger_id=trigger, view=reason_view("reject", reference, channel, "Why is it rejected?")
                )
            elif action_id == RESOLVE and facts.kind == "administrative":
                await client.views_open(
                    trigger_id=trigger, view=reason_view("resolve", reference, channel, "What was done?")
                )
            elif action_id == RESOLVE:
                await services.set_ticket_status(portal.uow(), agent, reference, "resolved")
            elif action_id == PROGRESS:
                await services.set_ticket_status(portal.uow(), agent, reference, "in_progress")
            elif action_id == CLOSE:
                await services.set_ticket_status(portal.uow(), agent, reference, "closed")
            elif action_id == ASSIGN:
                await services.assign_request(portal.uow(), agent, reference)
            elif action_id == LINK:
                names = await services.organization_names(portal.uow())
                view = link_view(reference, facts.requester_email, names, channel)
                await client.views_open(trigger_id=trigger, view=view)
        except PortalError as error:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=f"Not done: {error}.")

    @app.view(REASON_CALLBACK)
    async def decided_with_reason(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        user_id = str((body.get("user") or {}).get("id"))
        reference, decision = str(meta.get("reference")), str(meta.get("decision"))
        agent = await agent_or_refuse(user_id, f"triage_{decision}", reference, str(meta.get("channel")))
        if agent is None:
            await ack()
            return
        reason = submitted_text(view, "reason")
        try:
            if decision == "approve":
                await services.approve_transfer(portal.uow(), agent, reference, reason)
            elif decision == "reject":
                await services.reject_request(portal.uow(), agent, reference, reason)
            else:
                await services.resolve_administrative_request(portal.uow(), agent, reference, reason)
        except ReasonRequired as error:
            await ack(response_action="errors", errors={"reason": str(error)})
            return
        except PortalError as error:
            await ack(response_action="errors", errors={"reason": f"Not done: {error}."})
            return
        await ack()

    @app.view(LINK_CALLBACK)
    async def linked(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        user_id = str((body.get("user") or {}).get("id"))
        reference = str(meta.get("reference"))
        agent = await agent_or_refuse(user_id, "triage_link", reference, str(meta.get("channel")))
        if agent is None:
            await ack()
            return
        organization = submitted_text(view, "organization")
        try:
            await services.link_account(portal.uow(), agent, str(meta.get("email")), organization, reference)
        except PortalError as error:
            await ack(response_action="errors", errors={"organization": f"Not done: {error}."})
            return
        await ack()
