"""Modals agents fill in when a decision needs words: a reason, a resolution note, or the organization to link."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, PlainTextObject, StaticSelectElement
from slack_sdk.models.views import View

from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import N_, Texts

REASON_CALLBACK = "triage_reason"
LINK_CALLBACK = "triage_link"
DUPLICATE_CALLBACK = "triage_duplicate"
DECISION_TITLES = {"approve": N_("Approve"), "reject": N_("Reject"), "resolve": N_("Resolve")}


def reason_view(decision: str, reference: str, channel: str, prompt: str, t: Texts = ENGLISH) -> dict[str, Any]:
    """The modal an agent gives a decision's reason in (`t`: the agents' language; `prompt` already in it)."""
    title = t.gettext(DECISION_TITLES[decision])
    return View(
        type="modal",
        callback_id=REASON_CALLBACK,
        title=PlainTextObject(text=f"{title} {reference}"[:24]),
        submit=PlainTextObject(text=title),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps({"decision": decision, "reference": reference, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="reason",
                label=PlainTextObject(text=prompt),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            )
        ],
    ).to_dict()


def link_view(
    reference: str, email: str, organizations: Sequence[str], channel: str, t: Texts = ENGLISH
) -> dict[str, Any]:
    options = [Option(value=name, text=PlainTextObject(text=name[:75])) for name in organizations[:100]]
    return View(
        type="modal",
        callback_id=LINK_CALLBACK,
        title=PlainTextObject(text=t.gettext("Link {reference}").format(reference=reference)[:24]),
        submit=PlainTextObject(text=t.gettext("Link")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps({"reference": reference, "email": email, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="organization",
                label=PlainTextObject(text=t.gettext("Link {email} to").format(email=email[:150])),
                element=StaticSelectElement(
                    action_id="value", placeholder=t.gettext("Choose an organization"), options=options
                ),
            )
        ],
    ).to_dict()


def duplicate_view(reference: str, channel: str, t: Texts = ENGLISH) -> dict[str, Any]:
    """The modal that asks which ticket `reference` duplicates (`t`: the agents' language)."""
    return View(
        type="modal",
        callback_id=DUPLICATE_CALLBACK,
        title=PlainTextObject(text=t.gettext("Duplicate {reference}").format(reference=reference)[:24]),
        submit=PlainTextObject(text=t.gettext("Close as duplicate")[:24]),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps({"reference": reference, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="original",
                label=PlainTextObject(
                    text=t.gettext("{reference} is the same problem as ticket").format(reference=reference)
                ),
                hint=PlainTextObject(text=t.gettext("Its reference, e.g. ST-000012. This ticket is closed.")),
                element=PlainTextInputElement(action_id="value", max_length=20),
            )
        ],
    ).to_dict()


def submitted_text(view: dict[str, Any], block: str) -> str:
    element = ((view.get("state") or {}).get("values") or {}).get(block, {}).get("value") or {}
    if "selected_option" in element:
        return str((element.get("selected_option") or {}).get("value") or "")
    return str(element.get("value") or "")
