"""The service ticket form: which charger, what is wrong, and the ticket itself."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.descriptions import DescribedRequest
from actions.explanations import explain, warranty_text
from actions.flow import confirmation, refused
from actions.opening import misread_in, opening_serials, serial_button
from actions.photos import label_photos
from actions.portal_access import UsesPortal
from actions.requester import language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from actions.withdraw import withdraw_button
from actions.wording import serial_list
from portal import services
from portal.bootstrap import Portal
from portal.domain.conversation import is_plea_for_help
from portal.domain.eligibility import Outcome
from portal.domain.serials import find_serials
from portal.errors import InvalidDescription, NotEligible
from portal.languages import DEFAULT_LANGUAGE

# Once the serial shows that no ticket can be raised, asking for a description would waste the customer's time.
_ASK_AGAIN = {Outcome.SERIAL_MALFORMED, Outcome.CHARGER_UNKNOWN}


def serial_candidate(value: Any) -> str:
    """The serial in what the customer typed: a serial inside a sentence, or the whole text ("ace 010 0002")."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    text = value if isinstance(value, str) else ""
    found = find_serials(text)
    return found[0] if found else text


class ValidateServiceTicketForm(DescribedRequest, UsesPortal, FormValidationAction):
    """Checks the serial against the portal's eligibility rules and the description against its limits."""

    def name(self) -> str:
        return "validate_service_ticket_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        eligibility = tracker.get_slot("eligibility")
        if eligibility is not None and eligibility != Outcome.MAY_RAISE:
            return []  # ends the form; action_open_service_ticket explains why
        return domain_slots

    async def validate_serial(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, str) and is_plea_for_help(value):
            dispatcher.utter_message(response="utter_help_serial")  # not a wrong answer: no try counted
            return {"serial": None}
        named = _serials_named(tracker)
        if len(named) > 1:
            # One ticket is about one charger; taking the last one named would be a silent guess.
            dispatcher.utter_message(
                response="utter_which_serial",
                serials_text=serial_list(named),
                buttons=[serial_button([s]) | {"title": s} for s in named],
            )
            return {"serial": None, "eligibility": None}
        email = requester_of(tracker).email
        decision = await services.check_eligibility(self.portal.uow(), email, serial_candidate(value))
        if decision.outcome is Outcome.SERIAL_MALFORMED and await suggest_serial(
            self.portal, email, misread_in(value, tracker), dispatcher, language_in(tracker)
        ):
            return {"serial": None, "eligibility": None}
        if decision.outcome in _ASK_AGAIN:
            explain(decision, dispatcher, language_in(tracker))
            return refused({"serial": None, "eligibility": None}, "serial", dispatcher, tracker)
        accepted = {
            "serial": decision.serial,
            "eligibility": decision.outcome.value,
            "warranty_until": warranty_text(decision, language_in(tracker)),
        }
        return refused(accepted, "serial", dispatcher, tracker)

    async def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return confirmation("request_confirmed", value, dispatcher, tracker)


async def suggest_serial(
    portal: Portal,
    email: str | None,
    misread: list[tuple[str, str]],
    dispatcher: CollectingDispatcher,
    language: str = DEFAULT_LANGUAGE,
) -> bool:
    """ "Did you mean ACE0100002?" for a label read with look-alike letters, when that charger exists; True if said.

    Existence is what this form already tells a customer about any serial (an unknown one is named as unknown),
    so suggesting only existing chargers reveals nothing new; whose charger it is stays unsaid.
    """
    if not misread:
        return False
    typed, corrected = misread[0]
    decision = await services.check_eligibility(portal.uow(), email, corrected)
    if decision.outcome in _ASK_AGAIN:
        return False  # no such charger either way: the usual "not a serial number" answer is the honest one
    dispatcher.utter_message(
        response="utter_did_you_mean_serial",
        typed=typed,
        serial=corrected,
        buttons=[serial_button([corrected], language)],
    )
    return True


def _serials_named(tracker: Tracker) -> list[str]:
    """The distinct serials the customer named in the message that gave this serial (typed, or pressed)."""
    if tracker.get_slot("requested_slot") is None:
        return opening_serials(tracker, "service_ticket_form")  # the form is starting from the opening message
    named: list[str] = []
    for value in tracker.get_latest_entity_values("serial"):
        for serial in find_serials(value) if isinstance(value, str) else []:
            if serial not in named:
                named.append(serial)
    return named


class ActionOpenServiceTicket(UsesPortal, Action):
    """Opens the ticket, or explains why this customer cannot raise one on this charger."""

    def name(self) -> str:
        return "action_open_service_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        serial = tracker.get_slot("serial") or ""
        description = tracker.get_slot("description") or ""
        email = requester_of(tracker).email
        if tracker.get_slot("eligibility") != Outcome.MAY_RAISE:
            # The form stopped early (no description was asked for): say why from a fresh decision.
            decision = await services.check_eligibility(self.portal.uow(), email, serial)
            if not decision.may_raise_ticket:
                explain(decision, dispatcher, language_in(tracker))
                return reset_request_slots()
        try:
            ticket = await services.open_service_ticket(
                self.portal.uow(),
                email,
                serial,
                description,
                origin=origin_of(tracker),
                files=label_photos(tracker, [serial]),
            )
        except NotEligible as refused:
            explain(refused.decision, dispatcher, language_in(tracker))
            return reset_request_slots()
        except InvalidDescription:
            dispatcher.utter_message(response="utter_description_too_short")
            return reset_request_slots()
        response = "utter_ticket_opened_in_warranty" if ticket.in_warranty else "utter_ticket_opened_out_of_warranty"
        dispatcher.utter_message(
            response=response,
            request_reference=ticket.reference,
            serial=ticket.serials[0],
            warranty_until=tracker.get_slot("warranty_until") or "",
            buttons=[withdraw_button(ticket.reference, language_in(tracker))],
        )
        return [*reset_request_slots(), SlotSet("request_reference", ticket.reference)]
