"""The conversation's language, read from every user message (DESIGN.md §3; issue 15).

Rasa runs `action_validate_slot_mappings` after each user message for slots with custom mappings; this global
ValidationAction fills `language` there. The embedded engine runs it at the same point, so the slot means the same
under both. Order of evidence: a language the surface forces (`metadata["language"]`, the shell's --lang), the
language the text is clearly written in, the conversation's so far, the surface's hint (the Slack user's locale),
English.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from portal.languages import language_of
from portal.languages.detect import conversation_language

LANGUAGE_SLOT = "language"


class ValidateSlotMappings(ValidationAction):
    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        message = tracker.latest_message or {}
        metadata = message.get("metadata") or {}
        if not isinstance(metadata, dict):
            metadata = {}
        forced = language_of(metadata.get("language"))
        current = language_of(tracker.get_slot(LANGUAGE_SLOT))
        chosen = forced or conversation_language(
            str(message.get("text") or ""), current, language_of(metadata.get("locale"))
        )
        return {LANGUAGE_SLOT: chosen} if chosen != current else {}

    async def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only our languages: the slot is categorical, and extract_language sets nothing else."""
        return {LANGUAGE_SLOT: language_of(value)}
