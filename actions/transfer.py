"""The management transfer form: which chargers, why, and the customer's acceptance of the terms."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.descriptions import DescribedRequest
from actions.explanations import explain
from actions.flow import confirmation, refused
from actions.opening import misread_in, serial_button
from actions.photos import label_photos
from actions.portal_access import UsesPortal
from actions.requester import language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from actions.withdraw import withdraw_button
from actions.wording import serial_list
from portal import services
from portal.bootstrap import Portal
from portal.domain.conversation import is_plea_for_help
from portal.domain.serials import find_serials, is_valid_serial, normalise_serial
from portal.domain.transfers import MAX_CHARGERS_PER_TRANSFER
from portal.errors import (
    AlreadyServiceOperator,
    InvalidInput,
    NotEligible,
    TransferAlreadyPending,
    UnknownCharger,
)
from portal.languages import DEFAULT_LANGUAGE


def serials_in(value: Any) -> list[str] | None:
    """Every serial in the slot value (entities give a list, free text a string); None if any part is not one."""
    parts = value if isinstance(value, list) else [value]
    found: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            return None
        in_text = find_serials(part)
        if not in_text:
            if not is_valid_serial(part):
                return None
            in_text = [normalise_serial(part)]
        found.extend(s for s in in_text if s not in found)
    return found or None


class ValidateTransferForm(DescribedRequest, UsesPortal, FormValidationAction):
    """Serials must be well-formed, known, not ours already and not in another pending transfer (max 50)."""

    def name(self) -> str:
        return "validate_transfer_form"

    async def validate_serials(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, str) and is_plea_for_help(value):
            dispatcher.utter_message(response="utter_help_serial")  # not a wrong answer: no try counted
            return {"serials": None}
        serials = serials_in(value)
        misread = misread_in(value, tracker)
        if misread:
            # Never a silent guess, and never silently fewer chargers than the customer named.
            await suggest_serials(
                self.portal, requester_of(tracker).email, serials or [], misread, dispatcher, language_in(tracker)
            )
            return {"serials": None}
        if serials is None:
            dispatcher.utter_message(response="utter_serial_malformed")
            return refused({"serials": None}, "serials", dispatcher, tracker)
        if len(serials) > MAX_CHARGERS_PER_TRANSFER:
            dispatcher.utter_message(response="utter_too_many_serials")
            return refused({"serials": None}, "serials", dispatcher, tracker)
        check = await services.check_serials(
            self.portal.uow(), requester_of(tracker).email, serials, origin_of(tracker)
        )
        if check.unknown:
            dispatcher.utter_message(response="utter_charger_unknown", serial=serial_list(check.unknown))
        elif check.operated_by_asker:
            dispatcher.utter_message(
                response="utter_already_operator", serials_text=serial_list(check.operated_by_asker)
            )
        elif check.pending_transfer:
            dispatcher.utter_message(response="utter_transfer_pending", serial=serial_list(check.pending_transfer))
        if not check.all_clear:
            return refused({"serials": None}, "serials", dispatcher, tracker)
        return refused({"serials": serials, "serials_text": serial_list(serials)}, "serials", dispatcher, tracker)

    async def validate_transfer_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Yes files (the submit action files on a yes alone), No files nothing, Change asks what to change.
        return confirmation("transfer_confirmed", value, dispatcher, tracker)


async def suggest_serials(
    portal: Portal,
    email: str | None,
    read: list[str],
    misread: list[tuple[str, str]],
    dispatcher: CollectingDispatcher,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """ "Did you mean …?" with every serial named, the look-alike letters corrected, when all those chargers exist
    (existence is what this form tells anyone about a serial anyway); else "not a serial number"."""
    proposal = list(read)
    proposal.extend(fixed for _, fixed in misread if fixed not in proposal)
    if len(proposal) <= MAX_CHARGERS_PER_TRANSFER:
        check = await services.check_serials(portal.uow(), email, proposal)
        if not check.unknown:
            dispatcher.utter_message(
                response="utter_did_you_mean_serials",
                typed=", ".join(typed for typed, _ in misread),
                serials_text=serial_list(proposal),
                buttons=[serial_button(proposal, language)],
            )
            return
    dispatcher.utter_message(response="utter_serial_malformed")


class ActionOpenTransferRequest(UsesPortal, Action):
    """Files the transfer once the customer accepted the terms; a "no" files nothing."""

    def name(self) -> str:
        return "action_open_transfer_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if tracker.get_slot("transfer_confirmed") is not True:
            dispatcher.utter_message(response="utter_transfer_not_confirmed")
            return reset_request_slots()
        serials = list(tracker.get_slot("serials") or [])
        try:
            transfer = await services.request_transfer(
                self.portal.uow(),
                requester_of(tracker).email,
                serials,
                tracker.get_slot("description") or "",
                terms_accepted=True,
                origin=origin_of(tracker),
                files=label_photos(tracker, serials),
            )
        except NotEligible as refused:
            explain(refused.decision, dispatcher, language_in(tracker))
            return reset_request_slots()
        except UnknownCharger as unknown:
            dispatcher.utter_message(response="utter_charger_unknown", serial=unknown.serial)
            return reset_request_slots()
        except AlreadyServiceOperator as ours:
            dispatcher.utter_message(response="utter_already_operator", serials_text=serial_list(ours.serials))
            return reset_request_slots()
        except TransferAlreadyPending as pending:
            dispatcher.utter_message(response="utter_transfer_pending", serial=serial_list(pending.serials))
            return reset_request_slots()
        except InvalidInput:
            dispatcher.utter_message(response="utter_error_try_again")
            return reset_request_slots()
        dispatcher.utter_message(
            response="utter_transfer_requested",
            request_reference=transfer.reference,
            serials_text=serial_list(transfer.serials),
            buttons=[withdraw_button(transfer.reference, language_in(tracker))],
        )
        return [*reset_request_slots(), SlotSet("request_reference", transfer.reference)]
