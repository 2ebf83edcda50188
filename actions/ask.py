"""Asking for a charger with the likely answers as buttons, so nobody has to copy a serial from a label."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.portal_access import UsesPortal
from actions.requester import requester_of
from actions.wording import intent_payload
from portal import services

MAX_CHOICES = 10  # beyond this, typing the serial is quicker than scanning a list


# Every prompt shows its way out (issue 13 §6): where the serial is, and stopping.
WAYS_OUT = [
    {"title": "I don't know the serial", "payload": intent_payload("dont_know_serial")},
    {"title": "Cancel", "payload": intent_payload("cancel")},
]


def serial_buttons(serials: tuple[str, ...]) -> list[dict[str, str]]:
    """The likely chargers, then the ways out."""
    choices = [{"title": s, "payload": intent_payload("inform", serial=s)} for s in serials[:MAX_CHOICES]]
    return [*choices, *WAYS_OUT]


class ActionAskSerial(UsesPortal, Action):
    """Asks which charger a service ticket is for, offering the chargers the asker's organization operates."""

    def name(self) -> str:
        return "action_ask_serial"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        choices = await services.charger_choices(self.portal.uow(), requester_of(tracker).email)
        dispatcher.utter_message(response="utter_ask_serial", buttons=serial_buttons(choices.operated))
        return []


class ActionAskSerials(UsesPortal, Action):
    """Asks which chargers to transfer, offering those installed at the asker's site but operated by others."""

    def name(self) -> str:
        return "action_ask_serials"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        choices = await services.charger_choices(self.portal.uow(), requester_of(tracker).email)
        dispatcher.utter_message(
            response="utter_ask_serials", buttons=serial_buttons(choices.at_site_operated_by_others)
        )
        return []
