"""Stopping whatever request was being collected."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.slots import reset_request_slots


class ActionCancelRequest(Action):
    """Confirms that nothing was filed and forgets what the request had collected."""

    def name(self) -> str:
        return "action_cancel_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_cancelled")
        return reset_request_slots()
