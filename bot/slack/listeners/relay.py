"""Agent → customer (issue 16 §1): the modal's submission, and the *Send to requester* message shortcut.

Only agents write to requesters, and every refusal is audited. The portal keeps the message on the request (and,
for a question, moves it to waiting_for_customer) and records `request.message`; the notifier then carries it to the
requester, where nobody of another organization reads it. A message is sent once per modal (its view id) and once
per thread message (its channel and ts), however often Slack or the agent submits it. Plain replies in the triage
thread are never sent: only this modal sends.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.egress.posted import triage_reference
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.listeners.triage import NOTHING_CHANGED, UNREACHABLE, UNREADABLE_FORM
from bot.slack.messages.decisions import submitted_text
from bot.slack.messages.relay import (
    ASK,
    KIND_BLOCK,
    MESSAGE_BLOCK,
    RELAY_CALLBACK,
    SEND_TO_REQUESTER,
    notice_view,
    relay_view,
)
from bot.slack.people.agents import Agents, audited_agent
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal import services
from portal.domain.actors import Agent
from portal.domain.requests import looks_like_reference
from portal.errors import PortalError
from portal.languages.texts import N_, texts
from portal.views import is_askable

logger = logging.getLogger(__name__)

ACTION = "relay_to_requester"  # the audit log's name for writing to a requester
REFUSAL = N_("Only support agents can write to requesters. Nothing was sent.")
NOT_IN_TRIAGE_THREAD = N_(
    "Send to requester works on a reply in the thread of a request's triage card. Nothing was sent."
)
UNCONFIRMED = N_(
    "I can't reach the support records right now, so I can't tell whether your message was sent. Please press Send "
    "again in a minute: it is sent once, however often you press."
)
SLACK_TS = re.compile(r"\d{1,12}\.\d{1,8}")


def _metadata(view: dict[str, Any]) -> dict[str, Any] | None:
    """The modal's private_metadata as relay_view wrote it, or None: {reference, ask} from a triage card's button,
    {reference, channel, ts} from the shortcut."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("reference"), str):
        return None
    if not looks_like_reference(meta["reference"]):
        return None
    if "channel" in meta or "ts" in meta:
        channel, ts = meta.get("channel"), meta.get("ts")
        if not isinstance(channel, str) or not channel or len(channel) > 64 or not isinstance(ts, str):
            return None
        return meta if SLACK_TS.fullmatch(ts) else None
    return meta if isinstance(meta.get("ask"), bool) else None


def _slack_text(text: str) -> str:
    """A message's text as its author typed it: Slack sends &, < and > as entities."""
    return html.unescape(text) if "&" in text else text


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client = conversations.portal, conversations.client
    at = texts(agents.language)  # what agents read (CHARGEDESK_AGENT_LANGUAGE)

    def errors(text: str) -> dict[str, Any]:
        return {"response_action": "errors", "errors": {MESSAGE_BLOCK: text}}

    @app.view(RELAY_CALLBACK)
    async def relayed(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        user_id = str(context.user_id)
        meta = _metadata(view)
        named = meta["reference"] if meta else str(view.get("private_metadata") or "")
        try:
            agent = await audited_agent(agents, portal, user_id, ACTION, named, "wrote to a requester")
        except IdentityUnavailable:
            await ack(**errors(at.gettext(IDENTITY_UNAVAILABLE)))
            return
        if agent is None:
            await ack(**errors(at.gettext(REFUSAL)))
            return
        if meta is None:
            # Our modals carry what relay_view wrote; anything else was made up. Remembered, and nothing is sent.
            await services.audit_refusal(
                portal.uow(), f"slack:{user_id}", ACTION, named, "ForgedValue", "private_metadata"
            )
            await ack(**errors(at.gettext(UNREADABLE_FORM)))
            return
        reference = meta["reference"]
        key: str | None
        if "channel" in meta:
            ask = submitted_text(view, KIND_BLOCK) == ASK
            key = f"shortcut:{meta['channel']}:{meta['ts']}"  # the same thread message twice is sent once
        else:
            ask = bool(meta["ask"])
            view_id = str(view.get("id") or "")
            key = f"view:{view_id}" if view_id else None  # a retried submission is sent once
        # The name the requester reads is the agent's Slack name (the agent check just read their profile).
        profile = agents.directory.cached_profile(user_id) if agents.directory else None
        writer = Agent(agent.user_id, profile.name if profile else None)
        try:
            await services.write_to_requester(
                portal.uow(), writer, reference, submitted_text(view, MESSAGE_BLOCK), ask=ask, key=key
            )
        except PortalError as error:
            await ack(**errors(at.gettext("Not sent: {error}.").format(error=error)))
            return
        except UNREACHABLE as error:
            logger.error("writing to a requester failed: %s", type(error).__name__)
            await ack(**errors(at.gettext(UNCONFIRMED)))
            return
        await ack()

    @app.shortcut(SEND_TO_REQUESTER)
    async def send_message(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user_id = str(context.user_id)
        trigger = str(body.get("trigger_id") or "")

        async def notice(text: str) -> None:
            await client.views_open(trigger_id=trigger, view=notice_view(text, at))

        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        ts, thread_ts = str(message.get("ts") or ""), str(message.get("thread_ts") or "")
        try:
            agent = await audited_agent(agents, portal, user_id, ACTION, None, "used Send to requester")
        except IdentityUnavailable:
            await notice(at.gettext(IDENTITY_UNAVAILABLE))
            return
        if agent is None:
            await notice(at.gettext(REFUSAL))
            return
        try:
            # A reply in a card's thread (never the card itself): its thread is a triage card's.
            reference = await triage_reference(portal.engine, channel, thread_ts) if thread_ts != ts else None
            if reference is None:
                await notice(at.gettext(NOT_IN_TRIAGE_THREAD))
                return
            facts = await services.request_facts(portal.uow(), reference)
        except (PortalError, *UNREACHABLE) as error:
            logger.error("finding a triage thread's request failed: %s", type(error).__name__)
            await notice(at.gettext(NOTHING_CHANGED))
            return
        if facts.is_closed:
            text = at.gettext("{reference} is already decided ({status}); nothing was sent.").format(
                reference=reference, status=facts.status.replace("_", " ")
            )
            await notice(text)
            return
        view = relay_view(
            reference,
            at,
            text=_slack_text(str(message.get("text") or "")),
            message=(channel, ts),
            may_ask=is_askable(facts.kind, facts.status),
        )
        await client.views_open(trigger_id=trigger, view=view)
