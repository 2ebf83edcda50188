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
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from portal.languages import language_of
from portal.languages.detect import conversation_language

LANGUAGE_SLOT = "language"


class ValidateSlotMappings(ValidationAction):
    """Rasa's global slot validation action, reduced to what chargedesk needs from it: the `language` slot. The
    other slots with custom mappings are set by the actions that decide them, so rasa-sdk's generic pass over every
    slot (which warns for each slot without a `validate_` method) is not run."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        return [
            SlotSet(name, value) for name, value in (await self.extract_language(dispatcher, tracker, domain)).items()
        ]

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
