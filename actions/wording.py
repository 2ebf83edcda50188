"""Small formatting helpers shared by the actions' responses."""

from __future__ import annotations

import json
from collections.abc import Sequence

from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts
from portal.status_text import kind_label, status_label
from portal.views import RequestSummary


def serial_list(serials: Sequence[str]) -> str:
    return ", ".join(serials)


def status_line(summary: RequestSummary, language: str = DEFAULT_LANGUAGE) -> str:
    """`• ST-000001: service ticket (ACE0100001), open, waiting for support to pick it up; opened 1 February 2027`"""
    t = texts(language)
    facts = {
        "reference": summary.reference,
        "kind": kind_label(summary.kind, language),
        "status": status_label(summary.kind, summary.status, language),
        "day": t.day(summary.created_at.date()),
    }
    if summary.serials:
        # Translators: one line of the customer's status list; {kind} and {status} are labels translated apart.
        line = t.gettext("{reference}: {kind} ({serials}), {status}; opened {day}")
        return "• " + line.format(serials=serial_list(summary.serials), **facts)
    # Translators: one line of the customer's status list, for a request about no particular charger.
    return "• " + t.gettext("{reference}: {kind}, {status}; opened {day}").format(**facts)


def intent_payload(intent: str, **entities: str) -> str:
    """A button payload in Rasa's `/intent{"entity": "value"}` format."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"
