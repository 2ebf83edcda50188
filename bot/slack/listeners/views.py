"""Modal submissions: a whole form at once, and the kind of request raised from a message."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.context import Conversation
from bot.slack.conversations import TRY_AGAIN, UNAVAILABLE, SlackConversations
from bot.slack.modals import FORM_CALLBACK, FROM_MESSAGE_CALLBACK, form_view, label, message_view, read_values
from portal import services

logger = logging.getLogger(__name__)


def _conversation(view: dict[str, Any], body: dict[str, Any]) -> Conversation | None:
    """The conversation the modal belongs to, if the person submitting is the one it was opened for."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        conversation = Conversation.loads(meta["conversation"])
    except (ValueError, KeyError, TypeError):
        return None
    return conversation if conversation.user_id == (body.get("user") or {}).get("id") else None


async def _forged_charger(
    conversations: SlackConversations, conversation: Conversation, form: str, values: dict[str, Any]
) -> str | None:
    """The modal offers only the asker's own chargers; a serial outside them was not chosen there. Refused and
    remembered (the portal would refuse the ticket anyway, but a forged value is worth knowing about)."""
    serial = values.get("serial")
    if "serial" not in conversations.engine.domain.forms[form] or not isinstance(serial, str):
        return None
    offered = await conversations.chargers_of(conversation)
    if not offered or serial in offered:
        return None  # no choice was offered (a typed serial is validated as usual), or a genuine choice
    await services.audit_refusal(
        conversations.portal.uow(), f"slack:{conversation.user_id}", f"submit {form}", None, "ForgedValue", "serial"
    )
    return "Please choose one of your organization's chargers."


def register(app: AsyncApp, conversations: SlackConversations) -> None:
    domain = conversations.engine.domain

    @app.view(FORM_CALLBACK)
    async def form_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        conversation = _conversation(view, body)
        form = json.loads(view.get("private_metadata") or "{}").get("form")
        if conversation is None or form not in domain.forms:
            await ack(response_action="errors", errors={})
            return
        values = read_values(domain, form, (view.get("state") or {}).get("values") or {})
        forged = await _forged_charger(conversations, conversation, form, values)
        if forged:
            await ack(response_action="errors", errors={"serial": forged})
            return
        try:
            submission = await conversations.submit(conversation, form, values)
        except UNAVAILABLE as error:
            logger.error("form submission failed: %s", type(error).__name__)
            await ack(response_action="errors", errors={domain.forms[form][0]: TRY_AGAIN})
            return
        if "" in submission.errors:
            await ack(response_action="update", view=message_view(label(domain, form, "Request"), []))
            return
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        assert submission.result is not None
        await ack(
            response_action="update", view=message_view(label(domain, form, "Request"), submission.result.messages)
        )
        await conversations.after_submission(conversation, submission.result)

    @app.view(FROM_MESSAGE_CALLBACK)
    async def kind_chosen(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        conversation = _conversation(view, body)
        values = (view.get("state") or {}).get("values") or {}
        payload = ((values.get("category") or {}).get("value") or {}).get("selected_option", {}).get("value")
        description = ((values.get("description") or {}).get("value") or {}).get("value") or ""
        if conversation is None or not isinstance(payload, str) or not payload.startswith("/request_"):
            await ack(response_action="errors", errors={"category": "Please choose what the request is about."})
            return
        result = await conversations.engine.turn(
            conversation.sender_id, payload, await conversations.metadata(conversation)
        )
        if result.active_form:
            slots = {**result.slots, "description": description or result.slots.get("description")}
            chargers = await conversations.chargers_of(conversation)
            await ack(
                response_action="update", view=form_view(domain, result.active_form, slots, conversation, chargers)
            )
        else:
            await ack(response_action="update", view=message_view("Support request", result.messages))
