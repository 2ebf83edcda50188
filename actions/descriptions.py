"""Validation of the free-text description every form asks for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.flow import refused
from actions.opening import description_from_opening
from portal.domain.conversation import is_plea_for_help, process_question
from portal.domain.text import DESCRIPTION_MIN, clean_description
from portal.errors import InvalidDescription


def validated_description(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """{"description": cleaned} or, with a message saying which limit it misses, {"description": None}.

    A short question about the request itself ("how long will this take?") is answered instead of being filed as
    the description; the form then asks for the description again.
    """
    text = value if isinstance(value, str) else ""
    # Help and questions are answered, not refused: they start the count of wrong answers afresh.
    if is_plea_for_help(text):
        dispatcher.utter_message(response="utter_help_description")
        return {"description": None, "failed_tries": None}
    question = process_question(text)
    if question is not None:
        dispatcher.utter_message(response=f"utter_process_{question.value}")
        return {"description": None, "failed_tries": None}
    try:
        return {"description": clean_description(text)}
    except InvalidDescription:
        too_short = len(text.strip()) < DESCRIPTION_MIN
        dispatcher.utter_message(response="utter_description_too_short" if too_short else "utter_description_too_long")
        return {"description": None}


class DescribedRequest:
    """The description of a form that files a request (a FormValidationAction's mixin: rasa-sdk finds `extract_` and
    `validate_<slot>` by name): taken from the opening message when it already describes the problem
    (actions/opening.py), validated against the limits, and a refused answer counted towards offering a person."""

    if TYPE_CHECKING:

        def name(self) -> str: ...

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return description_from_opening(tracker, self.name().removeprefix("validate_"))

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return refused(validated_description(value, dispatcher), "description", dispatcher, tracker)
