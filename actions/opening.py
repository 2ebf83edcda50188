"""Using what the customer already said: the message that started a form, and the serials they mistyped.

Rasa fills ``description`` from free text only while the form asks for it (domain/slots.yml), because an answer to
another question is not a description. The message that *started* the form is different: "hi, ACE0100002 stopped
charging yesterday, the light is red" is both the serial and the description. The form validators therefore
extract the description themselves (rasa-sdk's ``extract_<slot>``, which Rasa and the embedded engine both run
before validating): from that opening message, once, when it describes a problem beyond naming the charger and
asking for help. Otherwise nothing is filled and the form asks, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker

from portal.domain.serials import SERIAL_IN_TEXT, misread_serials
from portal.domain.text import DESCRIPTION_MAX, DESCRIPTION_MIN, without_control_characters

REQUESTED_SLOT = "requested_slot"

# Words that only ask for help or name the request, the charger or the customer: what is left once they are gone
# must still say something (at least DESCRIPTION_MIN characters) for the message to count as a description.
_FILLER = frozenset(
    """
    a about administrative again an and any are as at be can charger chargers could do for from get go had has
    have hello help hey hi how i i'd i'm id im is it its it's just like me my need needs new number of on one
    open or our please pls plz problem raise report request serial service so some someone support thank thanks
    that the there this ticket to transfer up us want wanna we we'd with would you your management operator
    become take over
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_WORD = re.compile(r"[\w']+")
_REFERENCE_LIKE = re.compile(r"(?<![A-Za-z0-9])(?:st|ar|mt) ?-? ?\d{1,6}(?![A-Za-z0-9])", re.IGNORECASE)


def describes_problem(text: str) -> str | None:
    """The text as a description when it says more than "here is my charger, please help"; else None.

    "hi, ACE0100002 stopped charging yesterday, the light is red" qualifies; "ACE0100002 broken" and "I need a
    service ticket for ACE0100002" do not (they are asked for a description). The whole text is kept: the agent
    reads the customer's own words, serial included. Payloads ("/request_service_ticket") never qualify.
    """
    cleaned = without_control_characters(text).strip()
    if not cleaned or cleaned.startswith("/") or len(cleaned) > DESCRIPTION_MAX:
        return None
    rest = SERIAL_IN_TEXT.sub(" ", cleaned)
    for typed, _ in misread_serials(rest):
        rest = rest.replace(typed, " ")
    rest = _REFERENCE_LIKE.sub(" ", rest)
    content = " ".join(word for word in _WORD.findall(rest.lower()) if word not in _FILLER)
    return cleaned if len(content) >= DESCRIPTION_MIN else None


def opening_text(tracker: Tracker, form: str) -> str | None:
    """The text of the user message that started the active `form` (the latest message while it starts)."""
    if tracker.get_slot(REQUESTED_SLOT) is None:
        # The form is starting: the message that started it is the latest one.
        text = tracker.latest_message.get("text")
        return text if isinstance(text, str) else None
    events: list[dict[str, Any]] = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "active_loop" and event.get("name") == form:
            user = next((e for e in reversed(events[:index]) if e.get("event") == "user"), None)
            text = user.get("text") if user else None
            return text if isinstance(text, str) else None
    return None


def description_from_opening(tracker: Tracker, form: str) -> dict[str, Any]:
    """``{"description": text}`` when the opening message describes the problem and nothing is filled yet."""
    if tracker.get_slot("description") is not None or tracker.get_slot(REQUESTED_SLOT) == "description":
        return {}  # already known, or the customer is answering the question itself (the slot mapping's job)
    described = describes_problem(opening_text(tracker, form) or "")
    return {"description": described} if described else {}


def misread_in(value: Any, tracker: Tracker) -> list[tuple[str, str]]:
    """Serials typed with look-alike letters, in the slot value (free text) or the latest message."""
    texts = [value] if isinstance(value, str) else []
    latest = tracker.latest_message.get("text")
    if isinstance(latest, str) and not latest.startswith("/"):
        texts.append(latest)
    for text in texts:
        found = misread_serials(text)
        if found:
            return found
    return []


def serial_button(serials: Sequence[str]) -> dict[str, str]:
    """The button that answers with these serials, as Rasa reads a payload: ``/inform{"serial": ...}``."""
    value: str | list[str] = serials[0] if len(serials) == 1 else list(serials)
    return {"title": "Yes, " + ", ".join(serials), "payload": "/inform" + json.dumps({"serial": value})}
