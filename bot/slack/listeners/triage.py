"""Agents decide in the triage channel. Every press is checked: only configured agents may act.

Decisions go through the portal like any other; its outbox events then update the triage message in place and
notify everyone concerned, so a decision made anywhere looks the same here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.decisions import (
    DECISION_TITLES,
    DUPLICATE_CALLBACK,
    LINK_CALLBACK,
    REASON_CALLBACK,
    duplicate_view,
    link_view,
    reason_view,
    submitted_text,
)
from bot.slack.messages.relay import relay_view
from bot.slack.messages.triage import (
    APPROVE,
    ASK,
    ASSIGN,
    CLOSE,
    DUPLICATE,
    LINK,
    PROGRESS,
    REJECT,
    REOPEN,
    REPLY,
    RESOLVE,
)
from bot.slack.people.agents import Agents, audited_agent
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.domain.actors import Agent
from portal.domain.requests import looks_like_reference
from portal.errors import PortalError, ReasonRequired, UnknownRequest
from portal.languages.texts import N_, texts
from portal.services.facts import RequestFacts

logger = logging.getLogger(__name__)
Decision = Callable[[Agent, RequestFacts, str, str], Awaitable[None]]  # (agent, request, channel, trigger id)

REFUSAL = N_("Only support agents can decide requests. Nothing was changed.")
# The records are out of reach (the database restarting, locked, gone): the agent hears it, nothing is guessed.
UNREACHABLE = (SQLAlchemyError, OSError)
NOTHING_CHANGED = N_(
    "I can't reach the support records right now, so nothing was changed. Please try again in a minute."
)
UNCONFIRMED = N_(
    "I can't reach the support records right now, so I can't tell whether {reference} was changed. "
    "Please check it in a minute; doing it again is safe, a request is never decided twice."
)
NOT_A_REQUEST = N_("This button doesn't name a request, so nothing was changed.")
UNREADABLE_FORM = N_("This form can't be read, so nothing was changed. Please press the button on the request again.")


def _raw_metadata(view: dict[str, Any]) -> str:
    return str(view.get("private_metadata") or "")


def _metadata(view: dict[str, Any], *keys: str) -> dict[str, str] | None:
    """The modal's private_metadata as this app wrote it (`keys`, all text, a well-formed reference), or None."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(key), str) for key in keys):
        return None
    if not looks_like_reference(meta["reference"]) or meta.get("decision", "approve") not in DECISION_TITLES:
        return None
    return {key: meta[key] for key in keys}


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client
    at = texts(agents.language)  # agents read the agents' language (CHARGEDESK_AGENT_LANGUAGE), English by default

    def not_done(error: Exception) -> str:
        return at.gettext("Not done: {error}.").format(error=error)

    async def agent_or_audit(user_id: str, action: str, reference: str) -> Agent | None:
        return await audited_agent(agents, portal, user_id, action, reference, "pressed a triage button")

    async def agent_or_refuse(user_id: str, action: str, reference: str, channel: str) -> Agent | None:
        agent = await agent_or_audit(user_id, action, reference)
        if agent is None:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(REFUSAL))
        return agent

    async def facts_after_failure(reference: str) -> RequestFacts | None:
        """Where a request stands after a decision failed on the way: the failure may have come after its commit."""
        try:
            return await services.request_facts(portal.uow(), reference)
        except (PortalError, *UNREACHABLE):
            return None

    async def forged_form(user_id: str, action: str, view: dict[str, Any]) -> None:
        await services.audit_refusal(
            portal.uow(),
            f"slack:{user_id}",
            action,
            _raw_metadata(view),
            "ForgedValue",
            "private_metadata",
        )

    # What each triage button does once the press is checked (an agent, a real request, not decided yet), one
    # entry per action id as the bolt starter template has it; `decide` does the checks and the failure handling.
    async def approve(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        if facts.kind == "transfer" and facts.status == "awaiting_support":
            await services.approve_transfer(portal.uow(), agent, facts.reference)
            return
        # Without the Service Operator's consent an approval needs a reason on record.
        prompt = at.gettext("Why approve without the Service Operator's consent?")
        await client.views_open(trigger_id=trigger, view=reason_view("approve", facts.reference, channel, prompt, at))

    async def reject(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        view = reason_view("reject", facts.reference, channel, at.gettext("Why is it rejected?"), at)
        await client.views_open(trigger_id=trigger, view=view)

    async def resolve(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        if facts.kind == "administrative":
            view = reason_view("resolve", facts.reference, channel, at.gettext("What was done?"), at)
            await client.views_open(trigger_id=trigger, view=view)
            return
        await services.set_ticket_status(portal.uow(), agent, facts.reference, "resolved")

    async def progress(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await services.set_ticket_status(portal.uow(), agent, facts.reference, "in_progress")

    async def close(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await services.set_ticket_status(portal.uow(), agent, facts.reference, "closed")

    async def assign(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await services.assign_request(portal.uow(), agent, facts.reference)

    async def reopen(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await services.reopen_ticket_as_agent(portal.uow(), agent, facts.reference)

    async def duplicate(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await client.views_open(trigger_id=trigger, view=duplicate_view(facts.reference, channel, at))

    async def link(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        names = await services.organization_names(portal.uow())
        await client.views_open(
            trigger_id=trigger, view=link_view(facts.reference, facts.requester_email, names, channel, at)
        )

    # Writing to the requester opens the modal of bot/slack/listeners/relay.py; the portal says whether asking fits.
    async def reply(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await client.views_open(trigger_id=trigger, view=relay_view(facts.reference, at))

    async def ask(agent: Agent, facts: RequestFacts, channel: str, trigger: str) -> None:
        await client.views_open(trigger_id=trigger, view=relay_view(facts.reference, at, ask=True))

    decisions: dict[str, Decision] = {
        APPROVE: approve,
        REJECT: reject,
        RESOLVE: resolve,
        PROGRESS: progress,
        CLOSE: close,
        ASSIGN: assign,
        LINK: link,
        REOPEN: reopen,
        DUPLICATE: duplicate,
        REPLY: reply,
        ASK: ask,
    }

    async def decide(
        action_id: str, decision: Decision, user_id: str, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        reference = str(action.get("value") or "")
        try:
            agent = await agent_or_refuse(user_id, action_id, reference, channel)
        except IdentityUnavailable:
            # Slack can't say whose workspace they're in: not a refusal, so nothing is audited.
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(IDENTITY_UNAVAILABLE))
            return
        if agent is None:
            return
        if not looks_like_reference(reference):
            # Our buttons carry a reference; anything else was made up. Remembered, and not echoed back.
            await services.audit_refusal(
                portal.uow(), f"slack:{user_id}", action_id, reference, "ForgedValue", "triage button value"
            )
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(NOT_A_REQUEST))
            return
        trigger = str(body.get("trigger_id") or "")
        try:
            facts = await services.request_facts(portal.uow(), reference)
        except PortalError as error:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=not_done(error))
            return
        except UNREACHABLE as error:
            logger.error("triage lookup failed: %s", type(error).__name__)
            await client.chat_postEphemeral(channel=channel, user=user_id, text=at.gettext(NOTHING_CHANGED))
            return
        try:
            if facts.is_closed and action_id != CLOSE:
                text = at.gettext("{reference} is already decided ({status}); nothing was changed.").format(
                    reference=reference, status=facts.status.replace("_", " ")
                )
                await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
                return
            await decision(agent, facts, channel, trigger)
        except PortalError as error:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=not_done(error))
        except UNREACHABLE as error:
            logger.error("triage decision failed: %s", type(error).__name__)
            now = await facts_after_failure(reference)
            if now is None:
                text = at.gettext(UNCONFIRMED).format(reference=reference)
            elif (now.status, now.assignee) != (facts.status, facts.assignee):
                text = at.gettext("Done: {reference} is now {status}.").format(
                    reference=reference, status=now.status.replace("_", " ")
                )
            else:
                text = at.gettext(NOTHING_CHANGED)
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)

    def pressed(action_id: str, decision: Decision) -> Callable[..., Awaitable[None]]:
        async def listener(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
        ) -> None:
            await ack()
            await decide(action_id, decision, str(context.user_id), body, action)

        return listener

    for action_id, decision in decisions.items():
        app.action(action_id)(pressed(action_id, decision))

    @app.view(REASON_CALLBACK)
    async def decided_with_reason(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        user_id = str(context.user_id)
        meta = _metadata(view, "decision", "reference")
        action = f"triage_{meta['decision']}" if meta else "triage_reason"
        try:
            agent = await agent_or_audit(user_id, action, meta["reference"] if meta else _raw_metadata(view))
        except IdentityUnavailable:
            await ack(response_action="errors", errors={"reason": at.gettext(IDENTITY_UNAVAILABLE)})
            return
        if agent is None:
            await ack(response_action="errors", errors={"reason": at.gettext(REFUSAL)})
            return
        if meta is None:
            await forged_form(user_id, action, view)
            await ack(response_action="errors", errors={"reason": at.gettext(UNREADABLE_FORM)})
            return
        reference, decision = meta["reference"], meta["decision"]
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
            await ack(response_action="errors", errors={"reason": not_done(error)})
            return
        except UNREACHABLE as error:
            logger.error("triage decision failed: %s", type(error).__name__)
            await ack_after_failure(ack, reference, "reason")
            return
        await ack()

    @app.view(LINK_CALLBACK)
    async def linked(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        user_id = str(context.user_id)
        meta = _metadata(view, "reference", "email")
        try:
            agent = await agent_or_audit(user_id, "triage_link", meta["reference"] if meta else _raw_metadata(view))
        except IdentityUnavailable:
            await ack(response_action="errors", errors={"organization": at.gettext(IDENTITY_UNAVAILABLE)})
            return
        if agent is None:
            await ack(response_action="errors", errors={"organization": at.gettext(REFUSAL)})
            return
        if meta is None:
            await forged_form(user_id, "triage_link", view)
            await ack(response_action="errors", errors={"organization": at.gettext(UNREADABLE_FORM)})
            return
        reference = meta["reference"]
        organization = submitted_text(view, "organization")
        try:
            await services.link_account(portal.uow(), agent, meta["email"], organization, reference)
        except PortalError as error:
            await ack(response_action="errors", errors={"organization": not_done(error)})
            return
        except UNREACHABLE as error:
            logger.error("linking an account failed: %s", type(error).__name__)
            await ack_after_failure(ack, reference, "organization")
            return
        await ack()

    @app.view(DUPLICATE_CALLBACK)
    async def duplicated(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        user_id = str(context.user_id)
        meta = _metadata(view, "reference")
        reference_or_raw = meta["reference"] if meta else _raw_metadata(view)
        try:
            agent = await agent_or_audit(user_id, "triage_duplicate", reference_or_raw)
        except IdentityUnavailable:
            await ack(response_action="errors", errors={"original": at.gettext(IDENTITY_UNAVAILABLE)})
            return
        if agent is None:
            await ack(response_action="errors", errors={"original": at.gettext(REFUSAL)})
            return
        if meta is None:
            await forged_form(user_id, "triage_duplicate", view)
            await ack(response_action="errors", errors={"original": at.gettext(UNREADABLE_FORM)})
            return
        reference = meta["reference"]
        try:
            await services.close_as_duplicate(portal.uow(), agent, reference, submitted_text(view, "original"))
        except UnknownRequest as error:
            text = at.gettext("There is no ticket {reference}. Please check the reference.").format(
                reference=error.reference
            )
            await ack(response_action="errors", errors={"original": text})
            return
        except PortalError as error:
            await ack(response_action="errors", errors={"original": not_done(error)})
            return
        except UNREACHABLE as error:
            logger.error("closing as a duplicate failed: %s", type(error).__name__)
            await ack_after_failure(ack, reference, "original")
            return
        await ack()

    async def ack_after_failure(ack: AsyncAck, reference: str, block: str) -> None:
        """Every decision made in these modals closes its request: closed means it went through after all."""
        now = await facts_after_failure(reference)
        if now is not None and now.is_closed:
            await ack()
        else:
            text = (
                at.gettext(NOTHING_CHANGED) if now is not None else at.gettext(UNCONFIRMED).format(reference=reference)
            )
            await ack(response_action="errors", errors={block: text})
