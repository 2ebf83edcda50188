"""Messages between support and the customer's side of a request (issue 16 §1 and §2): its conversation, kept with it.

A message to the requester is written by an agent (a reply, or a question that waits for the customer's answer);
a message from the requester's side is what they added later, with the Slack files they attached. Notes agents
keep among themselves never become messages: they stay in the triage thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from portal.domain.text import without_control_characters
from portal.errors import InvalidMessage

MESSAGE_MAX = 3000  # what a Slack modal's text input takes
FILES_MAX = 10  # what one Slack message carries
FILE_FIELDS = ("id", "name", "permalink")
FILE_FIELD_MAX = 500


class MessageDirection(StrEnum):
    TO_REQUESTER = "to_requester"
    FROM_REQUESTER = "from_requester"


class RequestMessage:
    """One message of a request's conversation; `number` counts from 1 within the request."""

    id: int | None

    def __init__(
        self,
        number: int,
        direction: MessageDirection,
        author: str,
        text: str,
        at: datetime,
        *,
        files: list[dict[str, str]] | None = None,
        asks: bool = False,
        key: str | None = None,
    ) -> None:
        self.id = None
        self.number = number
        self.direction = direction
        self.author = author  # an actor's label: agent:U…, account:email
        self.text = text
        self.at = at
        self.files: list[dict[str, str]] = files or []
        self.asks = asks  # an agent's question: the request waits for the customer's answer
        self.key = key  # the surface's key of what carried it (a Slack message): carried twice, kept once


def clean_message(text: str | None, *, required: bool = True) -> str:
    """A message as it is kept: trimmed, without control characters, bounded; empty only where files carry it."""
    cleaned = without_control_characters(text or "").strip()
    if not cleaned and required:
        raise InvalidMessage("the message is empty")
    if len(cleaned) > MESSAGE_MAX:
        raise InvalidMessage(f"please keep the message under {MESSAGE_MAX} characters")
    return cleaned


def clean_files(files: Sequence[Mapping[str, object]]) -> list[dict[str, str]]:
    """File references as the surface gave them (Slack: the file's id, name and permalink; never its content):
    the known fields as bounded text, at most FILES_MAX, a file without an id dropped."""
    kept: list[dict[str, str]] = []
    for file in list(files)[:FILES_MAX]:
        entry = {name: without_control_characters(str(file.get(name) or ""))[:FILE_FIELD_MAX] for name in FILE_FIELDS}
        if entry["id"]:
            kept.append(entry)
    return kept
