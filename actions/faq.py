"""Answering questions about Service Operators directly, inside a form or not."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.requester import latest_intent


class ActionAnswerFaq(Action):
    """Utters `utter_<intent>` for the FAQ intent just recognised (one rule then covers every FAQ)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        intent = latest_intent(tracker) or ""
        response = f"utter_{intent}"
        known = intent.startswith("faq_") and response in domain.get("responses", {})
        dispatcher.utter_message(response=response if known else "utter_default")
        return []
