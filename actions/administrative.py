"""The administrative request form: account and organization changes, e.g. "link me to my company"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.descriptions import DescribedRequest, validated_description
from actions.explanations import say_no_account
from actions.flow import confirmation, refused
from actions.portal_access import UsesPortal
from actions.requester import language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from actions.withdraw import withdraw_button
from actions.wording import serial_list
from portal import services
from portal.domain.serials import find_serials
from portal.errors import InvalidDescription, UnknownAccount, UnknownCharger


class ValidateAdminRequestForm(DescribedRequest, UsesPortal, FormValidationAction):
    """The description comes from the opening message when it already says what to change (DescribedRequest), must
    fit the limits, and any serial it mentions must be a charger we know."""

    def name(self) -> str:
        return "validate_admin_request_form"

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # DescribedRequest's validation, and then the chargers the description names.
        result = validated_description(value, dispatcher)
        if result["description"] is None:
            return refused(result, "description", dispatcher, tracker)
        serials = find_serials(result["description"])
        check = await services.check_serials(self.portal.uow(), requester_of(tracker).email, serials)
        if check.unknown:
            dispatcher.utter_message(response="utter_charger_unknown", serial=serial_list(check.unknown))
            return refused({"description": None}, "description", dispatcher, tracker)
        return refused(result, "description", dispatcher, tracker)

    async def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return confirmation("request_confirmed", value, dispatcher, tracker)


class ActionOpenAdminRequest(UsesPortal, Action):
    """Files the administrative request with the serials its description mentions."""

    def name(self) -> str:
        return "action_open_admin_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        description = tracker.get_slot("description") or ""
        requester = requester_of(tracker)
        try:
            request = await services.open_administrative_request(
                self.portal.uow(),
                requester.email,
                description,
                find_serials(description),
                origin=origin_of(tracker),
            )
        except UnknownAccount:
            say_no_account(dispatcher, requester)
            return reset_request_slots()
        except UnknownCharger as unknown:
            dispatcher.utter_message(response="utter_charger_unknown", serial=unknown.serial)
            return reset_request_slots()
        except InvalidDescription:
            dispatcher.utter_message(response="utter_description_too_short")
            return reset_request_slots()
        dispatcher.utter_message(
            response="utter_admin_request_opened",
            request_reference=request.reference,
            buttons=[withdraw_button(request.reference, language_in(tracker))],
        )
        return [*reset_request_slots(), SlotSet("request_reference", request.reference)]
