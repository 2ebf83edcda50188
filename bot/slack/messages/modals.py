"""Forms as modals: one input per required slot, labelled from the domain, validated by the form's validator."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement  # not re-exported by slack_sdk.models.blocks
from slack_sdk.models.views import View

from bot.engine.design import Domain
from bot.engine.responses import BotMessage, choose_variation, interpolate
from bot.slack.ingress.context import Conversation
from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import N_, Texts, texts

FORM_CALLBACK = "chargedesk_form"
FROM_MESSAGE_CALLBACK = "chargedesk_from_message"
CHARGER_SEARCH = "charger"  # action id of the searchable charger select (block_suggestion)
VALUE = "value"  # action id of every other input
MAX_STATIC_OPTIONS = 100  # Slack's limit; beyond it the charger choice becomes a search
CATEGORIES = (
    (N_("A service request on a charger"), "/request_service_ticket"),
    (N_("Administrative changes"), "/request_admin_change"),
    (N_("A management transfer"), "/request_transfer"),
)
DESCRIPTION_LIMITS = (10, 3000)
# A photo of the label beside a typed charger (issue 17 §1): read when no serial was typed, kept on the request.
PHOTO_BLOCK = "label_photo"
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]  # what bot/photos opens (HEIC would need pillow-heif)
CHARGER_SLOTS = ("serial", "serials", "fault_serial")
PHOTO_LABEL = N_("Photo of the label (optional)")
PHOTO_HINT = N_("Can't type the serial number? Add a photo of the label under the charger and I'll read it.")


# The conversation's "check and submit" question (issue 13): a modal shows every field at once, so the modal itself
# is the summary and has no input for it.
SUMMARY_SLOTS = frozenset({"request_confirmed"})


def label(domain: Domain, name: str, fallback: str, slots: Mapping[str, Any] | None = None) -> str:
    """The domain's label `utter_label_<name>`: the variation the conversation's slots (its `language`) choose."""
    name = f"utter_label_{name}"
    variations = domain.responses.get(name)
    if not variations:
        return fallback
    return str(choose_variation(variations, slots or {}).get("text") or fallback)


def form_view(
    domain: Domain,
    form: str,
    slots: Mapping[str, Any],
    conversation: Conversation,
    chargers: Sequence[str] = (),
    *,
    notice: str | None = None,
    photo: str | None = None,
) -> dict[str, Any]:
    """The modal for `form`, prefilled with what the conversation already knows.

    A charger to be typed as text (none known yet) gets a photo input beside it, and may then be left empty.
    `notice` is said above the inputs (what was read off a photo); `photo` is the `label_photo` value of a serial
    read off one, kept with the modal so that its next submission files the request with the photo.
    """
    # The modal is its own summary: the conversation's confirmation slots get no input (sent as confirmed).
    t = texts(slots.get("language"))
    typed = typed_charger(domain, form, chargers)
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=escape(notice)))] if notice else []
    for slot in domain.forms[form]:
        if slot in SUMMARY_SLOTS:
            continue
        block = _input(domain, form, slot, slots, chargers, t)
        blocks.append(block)
        if slot == typed and not slots.get(slot):
            block.optional = True  # the photo may give it
            blocks.append(_photo_input(t))
    metadata = {"conversation": conversation.dumps(), "form": form, "language": t.language}
    if photo:
        metadata[PHOTO_BLOCK] = photo
    return View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=PlainTextObject(text=label(domain, form, t.gettext("Request"), slots)[:24]),
        submit=PlainTextObject(text=t.gettext("Send")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    ).to_dict()


def typed_charger(domain: Domain, form: str, chargers: Sequence[str] = ()) -> str | None:
    """The slot of `form` whose charger is typed as text (not chosen from the asker's own), if it has one."""
    for slot in domain.forms[form]:
        if slot in CHARGER_SLOTS and not (slot == "serial" and chargers):
            return slot
    return None


def _photo_input(t: Texts) -> InputBlock:
    return InputBlock(
        block_id=PHOTO_BLOCK,
        optional=True,
        label=PlainTextObject(text=t.gettext(PHOTO_LABEL)),
        hint=PlainTextObject(text=t.gettext(PHOTO_HINT)),
        element=FileInputElement(action_id=VALUE, filetypes=PHOTO_TYPES, max_files=1),
    )


def photo_in(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The photo a modal's file input carries (Slack's file object: id, name, permalink …), if any."""
    element = ((state.get(PHOTO_BLOCK) or {}).get(VALUE) or {}) if isinstance(state, Mapping) else {}
    files = element.get("files") if isinstance(element, Mapping) else None
    first = files[0] if isinstance(files, list) and files else None
    return first if isinstance(first, dict) and first.get("id") else None


def _input(
    domain: Domain, form: str, slot: str, slots: Mapping[str, Any], chargers: Sequence[str], t: Texts = ENGLISH
) -> InputBlock:
    value = slots.get(slot)
    slot_type = domain.slots[slot].type
    hint = _hint(domain, form, slot, slots)
    element: Any
    if slot_type == "bool":
        # The checkbox's own words (`utter_label_<slot>_option`), else the transfer's terms (its only bool before).
        accept = label(domain, f"{slot}_option", "", slots) or label(
            domain, "transfer_terms", t.gettext("I accept"), slots
        )
        option = Option(value="true", text=PlainTextObject(text=accept[:75]))
        element = CheckboxesElement(
            action_id=VALUE, options=[option], initial_options=[option] if value is True else None
        )
    elif slot_type == "list":
        initial = ", ".join(str(v) for v in value) if isinstance(value, list) else None
        element = PlainTextInputElement(action_id=VALUE, initial_value=initial)
    elif slot == "serial" and chargers:
        element = _charger_select(chargers, value, t)
    elif slot == "description":
        element = PlainTextInputElement(
            action_id=VALUE,
            multiline=True,
            min_length=DESCRIPTION_LIMITS[0],
            max_length=DESCRIPTION_LIMITS[1],
            initial_value=str(value) if value else None,
        )
    else:
        element = PlainTextInputElement(action_id=VALUE, initial_value=str(value) if value else None)
    return InputBlock(
        block_id=slot,
        label=PlainTextObject(text=label(domain, slot, slot.replace("_", " ").capitalize(), slots)[:2000]),
        hint=PlainTextObject(text=hint[:2000]) if hint else None,
        element=element,
    )


def _charger_select(chargers: Sequence[str], value: Any, t: Texts = ENGLISH) -> Any:
    """The asker's own chargers only; a search over them when there are more than Slack lists at once."""
    initial = Option(value=str(value), text=PlainTextObject(text=str(value))) if value in chargers else None
    if len(chargers) > MAX_STATIC_OPTIONS:
        return ExternalDataSelectElement(
            action_id=CHARGER_SEARCH,
            placeholder=t.gettext("Type part of the serial number"),
            min_query_length=0,
            initial_option=initial,
        )
    options = [Option(value=s, text=PlainTextObject(text=s)) for s in chargers]
    return StaticSelectElement(
        action_id=VALUE, placeholder=t.gettext("Choose a charger"), options=options, initial_option=initial
    )


def _hint(domain: Domain, form: str, slot: str, slots: Mapping[str, Any]) -> str:
    """The hint under an input: its own label (`utter_label_<slot>_hint`), else the conversation's question filled
    with what is known. A question that still needs a value the modal does not have yet (the transfer's
    `{serials_text}` before any charger is named) is left out rather than shown with its braces."""
    own = label(domain, f"{slot}_hint", "", slots)
    if own:
        return own
    known = {name: v for name, v in slots.items() if v is not None}
    text = interpolate(_ask_text(domain, form, slot, slots), known)
    return "" if _PLACEHOLDER.search(text) else text


_PLACEHOLDER = re.compile(r"{[^\n{}]+?}")


def _ask_text(domain: Domain, form: str, slot: str, slots: Mapping[str, Any]) -> str:
    """The conversation's question for `slot`, as written (placeholders unfilled), in the slots' variation."""
    for name in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"):
        variations = domain.responses.get(name)
        if variations:
            # Only the variation is chosen here (no values: `_hint` fills what is known and drops the rest).
            chosen = choose_variation(variations, slots)
            return str(chosen.get("text") or "")
    return ""


def read_values(domain: Domain, form: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted value of every input, typed for its slot (missing or empty inputs give None)."""
    values: dict[str, Any] = {}
    for slot in domain.forms[form]:
        if slot in SUMMARY_SLOTS:
            values[slot] = True  # pressing Send on the modal is the customer's "Submit"
            continue
        block = state.get(slot) or {}
        element: Mapping[str, Any] = next(iter(block.values()), {}) if isinstance(block, dict) else {}
        values[slot] = _element_value(element, domain.slots[slot].type)
    return values


def _element_value(element: Mapping[str, Any], slot_type: str) -> Any:
    kind = element.get("type")
    if kind == "checkboxes":
        return bool(element.get("selected_options"))
    if kind in ("static_select", "external_select"):
        selected = element.get("selected_option") or {}
        return selected.get("value")
    value = element.get("value")
    if slot_type == "bool":
        return None if value is None else str(value).lower() == "true"
    return value if isinstance(value, str) and value.strip() else None


def message_view(title: str, messages: Sequence[BotMessage], t: Texts = ENGLISH) -> dict[str, Any]:
    """A modal that shows what the assistant said (the outcome of a form), privately."""
    blocks = [SectionBlock(text=MarkdownTextObject(text=escape(m.text)[:3000])) for m in messages if m.text]
    return View(
        type="modal",
        title=PlainTextObject(text=title[:24]),
        close=PlainTextObject(text=t.gettext("Done")),
        blocks=blocks or [SectionBlock(text=MarkdownTextObject(text=t.gettext("Done.")))],
    ).to_dict()


def from_message_view(description: str, conversation: Conversation, t: Texts = ENGLISH) -> dict[str, Any]:
    """First step of "raise a request from this message": which kind, with the message as the description."""
    options = [Option(value=payload, text=PlainTextObject(text=t.gettext(title))) for title, payload in CATEGORIES]
    return View(
        type="modal",
        callback_id=FROM_MESSAGE_CALLBACK,
        title=PlainTextObject(text=t.gettext("Support request")),
        submit=PlainTextObject(text=t.gettext("Next")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps({"conversation": conversation.dumps()}),
        blocks=[
            InputBlock(
                block_id="category",
                label=PlainTextObject(text=t.gettext("What is it about?")),
                element=StaticSelectElement(action_id=VALUE, options=options, initial_option=options[0]),
            ),
            InputBlock(
                block_id="description",
                label=PlainTextObject(text=t.gettext("Description")),
                element=PlainTextInputElement(
                    action_id=VALUE,
                    multiline=True,
                    max_length=DESCRIPTION_LIMITS[1],
                    initial_value=description[: DESCRIPTION_LIMITS[1]] or None,
                ),
            ),
        ],
    ).to_dict()
