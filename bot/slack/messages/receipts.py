"""The requester's own record of a request filed in a channel: there the confirmation is ephemeral (gone on reload),
so a DM keeps what was filed and how to follow it up. Written in the requester's language."""

from __future__ import annotations

from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH, kind_text, status_text
from portal.languages.texts import Texts
from portal.services.facts import RequestFacts

FIRST_LINE_SHOWN = 200  # characters of the description's first line the receipt repeats


def first_line(description: str, limit: int = FIRST_LINE_SHOWN) -> str:
    """The description's first non-empty line, cut at `limit` characters (with an ellipsis when cut)."""
    line = next((part.strip() for part in description.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def filing_receipt(facts: RequestFacts, t: Texts = ENGLISH) -> str:
    """The DM receipt: reference, kind, chargers, the description's first line, status, and how to follow up."""
    lines = [
        t.gettext("For your records: your {kind} {reference} has been filed.").format(
            kind=kind_text(t, facts.kind), reference=facts.reference
        )
    ]
    serials = ", ".join(c.serial for c in facts.chargers)
    if serials:
        lines.append(t.gettext("*Chargers*: {serials}").format(serials=escape(serials)))
    described = first_line(facts.description)
    if described:
        lines.append(t.gettext("*Description*: {description}").format(description=escape(described)))
    lines.append(t.gettext("*Status*: {status}").format(status=status_text(t, facts.kind, facts.status)))
    lines.append(
        t.gettext(
            "To follow it up, type `/support status {reference}` or open my Home tab. "
            "I'll message you here whenever something changes."
        ).format(reference=facts.reference)
    )
    return "\n".join(lines)
