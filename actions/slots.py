"""Slot names the actions read and reset."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

# What one request collects; cleared once it is filed or cancelled, so the next request starts afresh.
REQUEST_SLOTS = (
    "serial",
    "serials",
    "description",
    "transfer_confirmed",
    "request_confirmed",
    "failed_tries",
    "eligibility",
    "serials_text",
    "follow_up_of",
    "addition_reference",
    "addition",
    "label_photo",
)


def reset_request_slots() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in REQUEST_SLOTS]
