"""Small formatting helpers shared by the actions' responses."""

from __future__ import annotations

import json
from collections.abc import Sequence

from portal.dates import day
from portal.status_text import kind_label, status_label
from portal.views import RequestSummary


def serial_list(serials: Sequence[str]) -> str:
    return ", ".join(serials)


def status_line(summary: RequestSummary) -> str:
    about = f" ({serial_list(summary.serials)})" if summary.serials else ""
    return (
        f"• {summary.reference}: {kind_label(summary.kind)}{about}, "
        f"{status_label(summary.kind, summary.status)}; opened {day(summary.created_at.date())}"
    )


def intent_payload(intent: str, **entities: str) -> str:
    """A button payload in Rasa's `/intent{"entity": "value"}` format."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"
