"""The consent DM a transfer asks of the chargers' current Service Operator, and what it says once answered.

Both are written in the language of the person who reads them (a Service Operator's person), not the requester's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import escape
from bot.slack.messages.triage import DESCRIPTION_SHOWN, who
from bot.slack.messages.wording import ENGLISH, status_text
from portal.languages.texts import N_, Texts
from portal.services.facts import RequestFacts

CONSENT, DECLINE = "consent_yes", "consent_no"
ANSWERS = {"consented": N_("consented"), "declined": N_("declined")}


def consent_message(
    facts: RequestFacts, operator: str, t: Texts = ENGLISH, *, reminder: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """The DM that asks one Service Operator's people to consent (only its own chargers are named); as a
    `reminder`, the same request, said to be still waiting for their answer."""
    serials = ", ".join(c.serial for c in facts.chargers if c.operator == operator)
    text = (
        t.gettext(
            "{organization} asks to become the Service Operator of {serials}, which {operator} operates "
            "(request {reference}, by {requester})."
        ).format(
            organization=escape(facts.organization or t.gettext("An organization")),
            serials=escape(serials),
            operator=escape(operator),
            reference=facts.reference,
            requester=escape(facts.requester_email),
        )
        + "\n"
        + t.gettext("*Their reason:* {reason}").format(reason=escape(facts.description[:DESCRIPTION_SHOWN]))
        + "\n"
        + t.gettext("Support decides after your answer. The first answer from your organization counts.")
    )
    actions = ActionsBlock(
        block_id=f"consent|{facts.reference}",
        elements=[
            ButtonElement(text=t.gettext("Consent"), action_id=CONSENT, value=facts.reference, style="primary"),
            ButtonElement(text=t.gettext("Decline"), action_id=DECLINE, value=facts.reference, style="danger"),
        ],
    )
    if reminder:
        waiting = t.gettext(
            "A reminder: management transfer {reference} is still waiting for your organization's answer."
        ).format(reference=facts.reference)
        text = waiting + "\n" + text
        fallback = t.gettext("Reminder: management transfer {reference} still needs your answer").format(
            reference=facts.reference
        )
    else:
        fallback = t.gettext("Management transfer {reference} needs your consent").format(reference=facts.reference)
    blocks: Sequence[Block] = [SectionBlock(text=MarkdownTextObject(text=text)), actions]
    return fallback, [b.to_dict() for b in blocks]


def consent_reminder_message(
    facts: RequestFacts, operator: str, t: Texts = ENGLISH
) -> tuple[str, list[dict[str, Any]]]:
    return consent_message(facts, operator, t, reminder=True)


def consent_answered_message(
    facts: RequestFacts, operator: str, t: Texts = ENGLISH
) -> tuple[str, list[dict[str, Any]]]:
    answered = [c for c in facts.chargers if c.operator == operator and c.answer]
    if answered:
        first = answered[0]
        answer = t.gettext(ANSWERS.get(first.answer or "", first.answer or ""))
        text = t.gettext("Management transfer {reference}: {answer} by {who}.").format(
            reference=facts.reference, answer=answer, who=who(first.answered_by or "")
        )
    else:
        state = status_text(t, facts.kind, facts.status)
        text = t.gettext("Management transfer {reference} is {status}; no answer is needed any more.").format(
            reference=facts.reference, status=state
        )
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
