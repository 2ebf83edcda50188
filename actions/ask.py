"""Asking for a charger with the likely answers as buttons, so nobody has to copy a serial from a label."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.opening import description_from_opening, form_started_this_turn, misread_in, opening_serials
from actions.portal_access import UsesPortal
from actions.requester import language_in, requester_of
from actions.service_ticket import suggest_serial
from actions.transfer import suggest_serials
from actions.wording import intent_payload
from portal import services
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import N_, texts

MAX_CHOICES = 10  # beyond this, typing the serial is quicker than scanning a list


# Every prompt shows its way out (issue 13 §6): where the serial is, and stopping.
# Their titles are English source texts, translated when the buttons are shown.
WAYS_OUT = [
    # Translators: a button under the question which charger (serial number) the request is about.
    {"title": N_("I don't know the serial"), "payload": intent_payload("dont_know_serial")},
    # Translators: a button that stops the request being filled in.
    {"title": N_("Cancel"), "payload": intent_payload("cancel")},
]


def serial_buttons(serials: tuple[str, ...], language: str = DEFAULT_LANGUAGE) -> list[dict[str, str]]:
    """The likely chargers, then the ways out (their titles in `language`)."""
    t = texts(language)
    choices = [{"title": s, "payload": intent_payload("inform", serial=s)} for s in serials[:MAX_CHOICES]]
    return [*choices, *({**button, "title": t.gettext(button["title"])} for button in WAYS_OUT)]


def _opening_without_serial(tracker: Tracker, form: str) -> bool:
    """The form started from this message and no serial in it was read (else the validator spoke about it)."""
    return form_started_this_turn(tracker, form) and not list(tracker.get_latest_entity_values("serial"))


class ActionAskSerial(UsesPortal, Action):
    """Asks which charger a service ticket is for, offering the chargers the asker's organization operates."""

    def name(self) -> str:
        return "action_ask_serial"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        email = requester_of(tracker).email
        language = language_in(tracker)
        if _opening_without_serial(tracker, "service_ticket_form"):
            # The opening message had no usable serial: a mistyped one gets its suggestion before the question.
            await suggest_serial(self.portal, email, misread_in(None, tracker), dispatcher, language)
        choices = await services.charger_choices(self.portal.uow(), email)
        dispatcher.utter_message(response="utter_ask_serial", buttons=serial_buttons(choices.operated, language))
        # Whatever the opening message said about the problem is kept, so that the form does not ask for it (and
        # a modal opened now shows it).
        return [SlotSet(k, v) for k, v in description_from_opening(tracker, "service_ticket_form").items()]


class ActionAskSerials(UsesPortal, Action):
    """Asks which chargers to transfer, offering those installed at the asker's site but operated by others."""

    def name(self) -> str:
        return "action_ask_serials"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        email = requester_of(tracker).email
        language = language_in(tracker)
        if _opening_without_serial(tracker, "transfer_form"):
            misread = misread_in(None, tracker)
            if misread:
                read = opening_serials(tracker, "transfer_form")
                await suggest_serials(self.portal, email, read, misread, dispatcher, language)
        choices = await services.charger_choices(self.portal.uow(), email)
        dispatcher.utter_message(
            response="utter_ask_serials", buttons=serial_buttons(choices.at_site_operated_by_others, language)
        )
        return [SlotSet(k, v) for k, v in description_from_opening(tracker, "transfer_form").items()]
