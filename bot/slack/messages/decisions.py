"""Modals agents fill in when a decision needs words: a reason, a resolution note, or the organization to link."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, PlainTextObject, StaticSelectElement
from slack_sdk.models.views import View

REASON_CALLBACK = "triage_reason"
LINK_CALLBACK = "triage_link"
DECISION_TITLES = {"approve": "Approve", "reject": "Reject", "resolve": "Resolve"}


def reason_view(decision: str, reference: str, channel: str, prompt: str) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=REASON_CALLBACK,
        title=PlainTextObject(text=f"{DECISION_TITLES[decision]} {reference}"[:24]),
        submit=PlainTextObject(text=DECISION_TITLES[decision]),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"decision": decision, "reference": reference, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="reason",
                label=PlainTextObject(text=prompt),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            )
        ],
    ).to_dict()


def link_view(reference: str, email: str, organizations: Sequence[str], channel: str) -> dict[str, Any]:
    options = [Option(value=name, text=PlainTextObject(text=name[:75])) for name in organizations[:100]]
    return View(
        type="modal",
        callback_id=LINK_CALLBACK,
        title=PlainTextObject(text=f"Link {reference}"[:24]),
        submit=PlainTextObject(text="Link"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"reference": reference, "email": email, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="organization",
                label=PlainTextObject(text=f"Link {email[:150]} to"),
                element=StaticSelectElement(action_id="value", placeholder="Choose an organization", options=options),
            )
        ],
    ).to_dict()


def submitted_text(view: dict[str, Any], block: str) -> str:
    element = ((view.get("state") or {}).get("values") or {}).get(block, {}).get("value") or {}
    if "selected_option" in element:
        return str((element.get("selected_option") or {}).get("value") or "")
    return str(element.get("value") or "")
