"""Validation of the free-text description every form asks for."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

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
