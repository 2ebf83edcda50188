"""Who is asking, from the metadata the surfaces attach to every user message (DESIGN.md §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from portal.languages import DEFAULT_LANGUAGE, Language, language_of
from portal.languages.texts import Texts, texts

# The Slack layer's verdict when the asker's workspace is neither the home one nor linked to an organization.
WORKSPACE_NOT_VERIFIED = "workspace_not_verified"
# The metadata entry naming the intent a message files under (set by the surface or the engine).
FILING_KEY = "filing_key"


@dataclass(frozen=True)
class Requester:
    """Who asks. `email` is present only when the surface verified it; `identity` says why not otherwise
    (absent for surfaces that know their user, such as the shell)."""

    email: str | None
    slack_user_id: str | None = None
    slack_team_id: str | None = None
    identity: str | None = None

    @property
    def workspace_unverified(self) -> bool:
        return self.identity == WORKSPACE_NOT_VERIFIED


def requester_of(tracker: Tracker) -> Requester:
    """The requester of the latest user message; missing or malformed metadata means nobody is known."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    who: Any = metadata.get("requester") if isinstance(metadata, dict) else None
    if not isinstance(who, dict):
        return Requester(None)
    identity = _text(who.get("identity"))
    # An email the surface did not verify names nobody (a forged or older metadata shape must not count).
    email = _text(who.get("email")) if who.get("verified", True) is True else None
    return Requester(email, _text(who.get("slack_user_id")), _text(who.get("slack_team_id")), identity)


def language_in(tracker: Tracker) -> Language:
    """The conversation's language (the `language` slot the engine sets at every turn); English when unset."""
    return language_of(tracker.get_slot("language")) or DEFAULT_LANGUAGE


def texts_of(tracker: Tracker) -> Texts:
    """The Python-side texts, dates and labels in the conversation's language."""
    return texts(language_in(tracker))


def origin_of(tracker: Tracker) -> dict[str, Any] | None:
    """Where the latest message came from (surface, channel, thread, Slack user, the conversation's language), for
    notifications about the request it files (in the requester's language), and the key it files under; None when
    the surface said nothing and there is no key."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if not isinstance(metadata, dict):
        return None
    conversation = metadata.get("conversation")
    if not isinstance(conversation, dict) or not conversation.get("channel_id"):
        # No surface to notify (the shell, say), but the intent's key still keeps a retry from filing twice.
        key = _text(metadata.get(FILING_KEY))
        return {"key": key} if key else None
    who = requester_of(tracker)
    return {
        "surface": _text(conversation.get("surface")),
        "channel_id": _text(conversation.get("channel_id")),
        "thread_ts": _text(conversation.get("thread_ts")),
        "slack_user_id": who.slack_user_id,
        "slack_team_id": who.slack_team_id,
        # The intent the message belongs to (a modal, a form instance) and its Slack delivery: if either is run
        # again (its process died, or the person retried what looked like a failure), it files no second request.
        "key": _text(metadata.get(FILING_KEY)),
        "delivery": _text(metadata.get("delivery")),
        "language": language_in(tracker),
    }


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
