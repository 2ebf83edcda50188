"""Modal submissions: a whole form at once, and the kind of request raised from a message."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from actions.photos import label_photo_value
from bot.engine.engine import TurnResult
from bot.engine.responses import BotMessage
from bot.slack.ingress.context import Conversation
from bot.slack.ingress.conversations import (
    TRY_AGAIN,
    UNAVAILABLE,
    SlackConversations,
    filed_result,
    modal_key,
)
from bot.slack.messages.modals import (
    FORM_CALLBACK,
    FROM_MESSAGE_CALLBACK,
    PHOTO_BLOCK,
    form_view,
    label,
    message_view,
    photo_in,
    read_values,
    typed_charger,
)
from bot.slack.messages.photos import READING, form_notice
from bot.slack.photos.reading import PhotoReader
from portal import services
from portal.domain.serials import find_serials
from portal.languages.texts import N_, Texts, texts

logger = logging.getLogger(__name__)

FORGED = N_(
    "This form can't be sent from here: it was opened for someone else, or it was changed on the way. "
    "Nothing was filed. Please start your own request from the assistant."
)


def _metadata(view: dict[str, Any]) -> dict[str, Any] | None:
    """The modal's private metadata, or None when it is not what we put there (a forged or mangled value)."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def _conversation(view: dict[str, Any], user_id: str | None) -> Conversation | None:
    """The conversation the modal belongs to, if the person submitting is the one it was opened for."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        conversation = Conversation.loads(meta["conversation"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return conversation if conversation.user_id == user_id else None


async def _forged_view(conversations: SlackConversations, user_id: str) -> dict[str, Any]:
    """The modal that says a forged form was refused, in the submitter's own language."""
    t = await conversations.texts_for(user_id, ask_slack=False)
    return message_view(t.gettext("Support request"), [BotMessage(t.gettext(FORGED))], t)


async def _refuse_forged(conversations: SlackConversations, user_id: str, what: str) -> None:
    """Audit a modal whose metadata is not ours or not the submitter's; a database outage must not turn the
    refusal into an error (the person is answered either way)."""
    try:
        await services.audit_refusal(
            conversations.portal.uow(), f"slack:{user_id}", f"submit {what}", None, "ForgedValue", "private_metadata"
        )
    except UNAVAILABLE as error:
        logger.error("auditing a forged modal failed: %s", type(error).__name__)


async def _forged_charger(
    conversations: SlackConversations, conversation: Conversation, form: str, values: dict[str, Any], t: Texts
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
    return t.gettext("Please choose one of your organization's chargers.")


async def _after(conversations: SlackConversations, conversation: Conversation, result: TurnResult) -> None:
    """The DM copy or thread note of a filed modal. The modal already shows the outcome: a failure here must not
    make bolt answer Slack with an error instead, which would tell the person their filed request failed."""
    try:
        await conversations.after_submission(conversation, result)
    except Exception as error:
        logger.error("telling the conversation about a filed modal failed: %s", type(error).__name__)


def serials_from_message(fields: Sequence[str], slots: dict[str, Any], text: str) -> dict[str, Any]:
    """The chargers a message names, for the form raised from it: what the customer already said is not asked
    again. A service request is about one charger, so only a message naming exactly one prefills it; the modal
    still validates whatever is sent."""
    named = find_serials(text)
    if "serials" in fields and named and not slots.get("serials"):
        return {"serials": named}
    if "serial" in fields and len(named) == 1 and not slots.get("serial"):
        return {"serial": named[0]}
    return {}


async def read_into_form(
    conversations: SlackConversations,
    reader: PhotoReader,
    ack: AsyncAck,
    view: dict[str, Any],
    form: str,
    values: dict[str, Any],
    conversation: Conversation,
    photo: dict[str, Any],
    t: Texts,
) -> None:
    """A form sent with a photo of the label and no charger: read the photo, then show the form again with the
    serial read (to check, never filed unseen) or why none was, and every other value as it was sent.

    Slack waits 3 seconds for the answer and reading takes about one: the modal says it is reading at once, and is
    updated when the reading is done.
    """
    domain = conversations.engine.domain
    slot = typed_charger(domain, form)
    title = label(domain, form, t.gettext("Request"), {"language": t.language})
    await ack(response_action="update", view=message_view(title, [BotMessage(t.gettext(READING))], t))
    reading = await reader.read(conversations.client, [str(photo["id"])])
    slots: dict[str, Any] = {name: value for name, value in values.items() if value is not None}
    slots["language"] = t.language
    kept = None
    if reading.serial is not None and reading.file is not None and slot is not None:
        slots[slot] = [reading.serial] if domain.slots[slot].type == "list" else reading.serial
        kept = label_photo_value(reading.serial, reading.file.permalink)
    notice = form_notice(reading.serial, reading.problem, t)
    updated = form_view(domain, form, slots, conversation, notice=notice, photo=kept)
    await conversations.client.views_update(view_id=str(view.get("id") or ""), view=updated)


def photo_kept(meta: dict[str, Any], photo: dict[str, Any] | None, typed: Any) -> str | None:
    """The `label_photo` a form is filed with: the photo a serial was read from, or the one sent beside a typed
    serial (kept for that serial; actions/photos.py keeps it only on a request about it)."""
    if isinstance(meta.get(PHOTO_BLOCK), str):
        return str(meta[PHOTO_BLOCK])
    named = [
        s
        for text in (typed if isinstance(typed, list) else [typed])
        if isinstance(text, str)
        for s in find_serials(text)
    ]
    if photo is None or not named or not isinstance(photo.get("permalink"), str):
        return None
    return label_photo_value(named[0], str(photo["permalink"]))


def register(app: AsyncApp, conversations: SlackConversations, reader: PhotoReader) -> None:
    domain = conversations.engine.domain

    @app.view(FORM_CALLBACK)
    async def form_submitted(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        meta = _metadata(view)
        form = meta.get("form") if meta is not None else None
        conversation = _conversation(view, context.user_id)
        if conversation is None or not isinstance(form, str) or form not in domain.forms:
            # Someone else's modal metadata, or metadata we never wrote: nothing is filed, and it is remembered.
            user_id = str(context.user_id or "unknown")
            await _refuse_forged(conversations, user_id, form if isinstance(form, str) else "form")
            await ack(response_action="update", view=await _forged_view(conversations, user_id))
            return
        state = (view.get("state") or {}).get("values") or {}
        values = read_values(domain, form, state)
        view_id = str(view.get("id") or "") or None
        # The language the modal was opened in (the conversation's then); a value that is none of ours is English.
        t = texts((meta or {}).get("language"))
        slots = {"language": t.language}
        title = label(domain, form, t.gettext("Request"), slots)
        photo, charger = photo_in(state), typed_charger(domain, form)
        if photo is not None and charger is not None and values.get(charger) is None:
            await read_into_form(conversations, reader, ack, view, form, values, conversation, photo, t)
            return
        if charger is not None and (kept := photo_kept(meta or {}, photo, values.get(charger))):
            values["label_photo"] = kept
        try:
            forged = await _forged_charger(conversations, conversation, form, values, t)
            if forged:
                await ack(response_action="errors", errors={"serial": forged})
                return
            submission = await conversations.submit(conversation, form, values, view_id)
        except UNAVAILABLE as error:
            # The request may have been filed before the failure: look before saying "try again".
            logger.error("form submission failed: %s", type(error).__name__)
            key = modal_key(conversation, view_id) if view_id else None
            answer, filed = await conversations.after_failure(key, t=t)
            if filed is None:
                await ack(response_action="errors", errors={domain.forms[form][0]: answer.text})
                return
            await ack(response_action="update", view=message_view(title, [answer], t))
            await _after(conversations, conversation, filed_result(filed, t))
            return
        if "" in submission.errors:
            # The form is no longer open: this modal may be the one that filed it (its answer never arrived).
            key = modal_key(conversation, view_id) if view_id else None
            answer, filed = await conversations.after_failure(key, t=t)
            shown = answer if filed is not None else BotMessage(submission.errors[""])
            await ack(response_action="update", view=message_view(title, [shown], t))
            return
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        assert submission.result is not None
        done = texts(submission.result.slots.get("language") or t.language)
        title = label(domain, form, done.gettext("Request"), submission.result.slots)
        await ack(response_action="update", view=message_view(title, submission.result.messages, done))
        await _after(conversations, conversation, submission.result)

    @app.view(FROM_MESSAGE_CALLBACK)
    async def kind_chosen(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        conversation = _conversation(view, context.user_id)
        values = (view.get("state") or {}).get("values") or {}
        payload = ((values.get("category") or {}).get("value") or {}).get("selected_option", {}).get("value")
        description = ((values.get("description") or {}).get("value") or {}).get("value") or ""
        if conversation is None:
            user_id = str(context.user_id or "unknown")
            await _refuse_forged(conversations, user_id, "request kind")
            await ack(response_action="update", view=await _forged_view(conversations, user_id))
            return
        if not isinstance(payload, str) or not payload.startswith("/request_"):
            t = await conversations.texts_for(conversation.user_id, ask_slack=False)
            choose = t.gettext("Please choose what the request is about.")
            await ack(response_action="errors", errors={"category": choose})
            return
        try:
            result = await conversations.engine.turn(
                conversation.sender_id, payload, await conversations.metadata(conversation)
            )
            chargers = await conversations.chargers_of(conversation) if result.active_form else ()
        except UNAVAILABLE as error:
            # Choosing a kind files nothing, so "try again" is the whole truth here.
            logger.error("choosing a request kind failed: %s", type(error).__name__)
            t = await conversations.texts_for(conversation.user_id, ask_slack=False)
            await ack(response_action="errors", errors={"category": t.gettext(TRY_AGAIN)})
            return
        await conversations.remember_language(conversation, result)
        if result.active_form:
            slots = {**result.slots, "description": description or result.slots.get("description")}
            slots |= serials_from_message(domain.forms[result.active_form], slots, description)
            await ack(
                response_action="update", view=form_view(domain, result.active_form, slots, conversation, chargers)
            )
        else:
            t = texts(result.slots.get("language"))
            await ack(response_action="update", view=message_view(t.gettext("Support request"), result.messages, t))
