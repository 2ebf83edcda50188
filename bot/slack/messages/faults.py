"""A fault report as the charger's Service Operator reads it (DM, ticket modal) and as support reads it (triage).

The reporter reads only `reporter_told_text` here (built from their own view of the report, which has no field
naming the operator); the rest of what they see is in messages/support.py (`fault_lines`, `describe_fault`) and
the conversation's answers, none of which name the operator. The operator's DM names the reporter only when the
report says they agreed (`FaultNotice.reporter` is None otherwise: the portal decides, not this module).
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.messages.blocks import escape
from bot.slack.messages.modals import DESCRIPTION_LIMITS, VALUE
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import Texts
from portal.services.faults import FaultNotice, FaultReportSummary

FAULT_OPEN_TICKET, FAULT_NOT_OURS = "fault_open_ticket", "fault_not_ours"
FAULT_TICKET_CALLBACK = "chargedesk_fault_ticket"


def fault_dm(notice: FaultNotice, t: Texts = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    """The DM to one person of the charger's Service Operator, with its two answers as buttons."""
    if notice.reporter:
        who = t.gettext("{reporter} of {organization}").format(
            reporter=escape(notice.reporter),
            organization=escape(notice.reporter_organization or t.gettext("no organization")),
        )
        lead = t.gettext("{who} reports a fault on your charger {serial} (report {reference}).").format(
            who=who, serial=escape(notice.serial), reference=notice.reference
        )
    else:
        lead = t.gettext(
            "A customer who does not operate it reports a fault on your charger {serial} (report {reference}). "
            "They did not agree to share their name."
        ).format(serial=escape(notice.serial), reference=notice.reference)
    text = (
        lead
        + "\n"
        + t.gettext("*Reported symptom:* {symptom}").format(symptom=escape(notice.symptom[:2000]))
        + "\n"
        + t.gettext("Open a service ticket to have support look at it, or tell us the charger is not yours any more.")
    )
    actions = ActionsBlock(
        block_id=f"fault|{notice.reference}",
        elements=[
            ButtonElement(
                text=t.gettext("Open a service ticket"),
                action_id=FAULT_OPEN_TICKET,
                value=notice.reference,
                style="primary",
            ),
            ButtonElement(text=t.gettext("Not ours any more"), action_id=FAULT_NOT_OURS, value=notice.reference),
        ],
    )
    fallback = t.gettext("A fault was reported on your charger {serial}").format(serial=notice.serial)
    return fallback, [SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict(), actions.to_dict()]


def fault_ticket_view(notice: FaultNotice, user_id: str, t: Texts = ENGLISH) -> dict[str, Any]:
    """The service-ticket modal, prefilled from the report: the serial (fixed: the report's) and the symptom."""
    return View(
        type="modal",
        callback_id=FAULT_TICKET_CALLBACK,
        title=PlainTextObject(text=t.gettext("Service ticket")[:24]),
        submit=PlainTextObject(text=t.gettext("Send")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        # Whose modal it is and which report: the submission is checked against both (and the portal decides).
        private_metadata=json.dumps({"fault": notice.reference, "user_id": user_id, "language": t.language}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=t.gettext("Charger *{serial}*, from fault report {reference}.").format(
                        serial=escape(notice.serial), reference=notice.reference
                    )
                )
            ),
            InputBlock(
                block_id="description",
                label=PlainTextObject(text=t.gettext("Description")),
                element=PlainTextInputElement(
                    action_id=VALUE,
                    multiline=True,
                    min_length=DESCRIPTION_LIMITS[0],
                    max_length=DESCRIPTION_LIMITS[1],
                    initial_value=notice.symptom[: DESCRIPTION_LIMITS[1]],
                ),
            ),
        ],
    ).to_dict()


def fault_answered_text(notice: FaultNotice, t: Texts = ENGLISH) -> str:
    """What the operator's DM says once one of its people answered (the buttons are gone)."""
    if notice.ticket_reference:
        return t.gettext("Fault report {reference} on {serial}: service ticket {ticket} was opened.").format(
            reference=notice.reference, serial=escape(notice.serial), ticket=escape(notice.ticket_reference)
        )
    return t.gettext(
        "Fault report {reference} on {serial}: you said the charger is not yours any more; support checks its records."
    ).format(reference=notice.reference, serial=escape(notice.serial))


def fault_triage_card(notice: FaultNotice, reason: str, t: Texts = ENGLISH) -> str:
    """The triage channel's card for a report that came to support, in the agents' language."""
    why = (
        t.gettext("{operator} says the charger is not theirs any more: please check the charger's records.")
        if reason == "not_ours"
        else t.gettext("Nobody of {operator} can be reached in Slack: please tell them, or look at it.")
    ).format(operator=escape(notice.operator))
    return (
        t.gettext("Fault report {reference} on {serial} needs support.").format(
            reference=notice.reference, serial=escape(notice.serial)
        )
        + "\n"
        + why
        + "\n"
        + t.gettext("*Reported symptom:* {symptom}").format(symptom=escape(notice.symptom[:2000]))
    )


def reporter_told_text(report: FaultReportSummary, reason: str, t: Texts = ENGLISH) -> str:
    """The reporter's DM when their report went to support. Why, in words that fit any operator: the operator's
    name, people and answer's author are not the reporter's to know."""
    why = (
        t.gettext("The charger's Service Operator told us it does not look after this charger any more.")
        if reason == "not_ours"
        else t.gettext("We could not reach the charger's Service Operator in Slack.")
    )
    return (
        t.gettext("Your fault report {reference} on {serial} is now with our support team.").format(
            reference=escape(report.reference), serial=escape(report.serial)
        )
        + " "
        + why
        + " "
        + t.gettext("Support looks at it; `/support status {reference}` shows where it stands.").format(
            reference=escape(report.reference)
        )
    )
