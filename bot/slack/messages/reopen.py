"""The customer's side of reopening a resolved service ticket: the buttons on the resolution message, and what a
reopen that came too late offers instead (a new ticket that follows the old one)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import MAX_SECTION, escape
from bot.slack.messages.wording import ENGLISH, day_text, status_text
from portal.domain.requests import kind_of_reference
from portal.errors import InvalidTransition, ReopenWindowClosed
from portal.languages.texts import Texts

REOPEN, FOLLOW_UP = "request_reopen", "request_follow_up"
# A reason carried on the follow-up button (its value is capped at 2000 characters by Slack).
FOLLOW_UP_REASON_MAX = 300


def with_reopen_button(text: str, reference: str, t: Texts = ENGLISH) -> list[dict[str, Any]]:
    """The resolution message's blocks: its text, and *Reopen* for when the fix did not hold."""
    return [
        SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION])).to_dict(),
        ActionsBlock(
            block_id=f"reopen|{reference}",
            elements=[
                ButtonElement(
                    text=t.gettext("Reopen {reference}").format(reference=reference), action_id=REOPEN, value=reference
                )
            ],
        ).to_dict(),
    ]


def follow_up_value(reference: str, reason: str | None) -> str:
    return json.dumps({"reference": reference, "reason": (reason or "")[:FOLLOW_UP_REASON_MAX]})


def read_follow_up_value(value: str) -> tuple[str, str] | None:
    """(reference, reason) from a follow-up button's value as this app wrote it, else None."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("reference"), str)
        or not isinstance(data.get("reason", ""), str)
    ):
        return None
    return data["reference"], str(data.get("reason") or "")[:FOLLOW_UP_REASON_MAX]


def too_late(closed: ReopenWindowClosed, reason: str | None, t: Texts = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    """The answer to a reopen after the window: why not, and a button that files a new ticket following the old."""
    text = t.gettext(
        "{reference} was resolved on {day}, more than {days} days ago, so it can't be reopened any more. "
        "I can open a new service ticket for the same charger that refers to {reference}, so support sees its "
        "history. Nothing was changed yet."
    ).format(reference=escape(closed.reference), day=day_text(t, closed.resolved_at.date()), days=closed.days)
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ActionsBlock(
            block_id=f"follow_up|{closed.reference}",
            elements=[
                ButtonElement(
                    text=t.gettext("Open a new ticket"),
                    action_id=FOLLOW_UP,
                    value=follow_up_value(closed.reference, reason),
                    style="primary",
                )
            ],
        ).to_dict(),
    ]
    return text.replace("*", ""), blocks


def follow_up_description(reference: str, reason: str, t: Texts = ENGLISH) -> str:
    """The new ticket's description, in the requester's words when they gave some."""
    lead = t.gettext("Follow-up of {reference}, which was resolved.").format(reference=reference)
    return (
        f"{lead} {reason}".strip()
        if reason
        else t.gettext("Follow-up of {reference}: the problem is back after it was resolved.").format(
            reference=reference
        )
    )


def not_reopenable(t: Texts, error: InvalidTransition) -> str:
    kind = kind_of_reference(error.reference)
    state = status_text(t, kind.value, error.status) if kind else error.status
    return t.gettext("{reference} is {status}, so there is nothing to reopen. Nothing was changed.").format(
        reference=escape(error.reference), status=escape(state)
    )
