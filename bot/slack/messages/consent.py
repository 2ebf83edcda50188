"""The consent DM a transfer asks of the chargers' current Service Operator, and what it says once answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import escape
from bot.slack.messages.triage import DESCRIPTION_SHOWN, who
from portal.services.facts import RequestFacts
from portal.status_text import status_label

CONSENT, DECLINE = "consent_yes", "consent_no"


def consent_message(facts: RequestFacts, operator: str) -> tuple[str, list[dict[str, Any]]]:
    """The DM that asks one Service Operator's people to consent (only its own chargers are named)."""
    serials = ", ".join(c.serial for c in facts.chargers if c.operator == operator)
    text = (
        f"{escape(facts.organization or 'An organization')} asks to become the Service Operator of {escape(serials)}, "
        f"which {escape(operator)} operates (request {facts.reference}, by {escape(facts.requester_email)}).\n"
        f"*Their reason:* {escape(facts.description[:DESCRIPTION_SHOWN])}\n"
        "Support decides after your answer. The first answer from your organization counts."
    )
    actions = ActionsBlock(
        block_id=f"consent|{facts.reference}",
        elements=[
            ButtonElement(text="Consent", action_id=CONSENT, value=facts.reference, style="primary"),
            ButtonElement(text="Decline", action_id=DECLINE, value=facts.reference, style="danger"),
        ],
    )
    blocks: Sequence[Block] = [SectionBlock(text=MarkdownTextObject(text=text)), actions]
    return f"Management transfer {facts.reference} needs your consent", [b.to_dict() for b in blocks]


def consent_answered_message(facts: RequestFacts, operator: str) -> tuple[str, list[dict[str, Any]]]:
    answered = [c for c in facts.chargers if c.operator == operator and c.answer]
    if answered:
        first = answered[0]
        text = f"Management transfer {facts.reference}: {first.answer} by {who(first.answered_by or '')}."
    else:
        state = status_label(facts.kind, facts.status)
        text = f"Management transfer {facts.reference} is {state}; no answer is needed any more."
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
