"""A fault report to the charger's Service Operator, from the button under "another organization operates it".

The form asks for the symptom (held to the limits every description is) and whether the operator may learn who
reports it; then the portal files it, once per form (the origin's key). Every answer here says that the Service
Operator was informed, never who it is.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.descriptions import validated_description
from actions.explanations import explain, say_no_account
from actions.flow import refused
from actions.portal_access import UsesPortal
from actions.requester import language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from portal import services
from portal.domain.serials import find_serials, is_valid_serial, normalise_serial
from portal.errors import (
    FaultReportedRecently,
    InvalidDescription,
    MalformedSerial,
    NotEligible,
    OwnCharger,
    UnknownAccount,
    UnknownCharger,
)
from portal.languages.texts import texts

FAULT_SLOTS = ("fault_serial", "fault_share")


class ValidateFaultReportForm(FormValidationAction):
    """The symptom, held to the limits every description is; the consent is a Yes or a No (buttons)."""

    def name(self) -> str:
        return "validate_fault_report_form"

    async def validate_fault_serial(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = find_serials(value) if isinstance(value, str) else []
        if len(found) == 1:
            return {"fault_serial": found[0]}
        if isinstance(value, str) and is_valid_serial(value):
            return {"fault_serial": normalise_serial(value)}
        dispatcher.utter_message(response="utter_serial_malformed")
        return refused({"fault_serial": None}, "fault_serial", dispatcher, tracker)

    async def validate_fault_share(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Only a Yes shares the reporter's identity; anything else than the buttons' answers asks again.
        return {"fault_share": value if isinstance(value, bool) else None}

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return refused(validated_description(value, dispatcher), "description", dispatcher, tracker)


class ActionReportFault(UsesPortal, Action):
    """Files the report; the notifier tells the operator's people (or support, when none can be reached)."""

    def name(self) -> str:
        return "action_report_fault"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done = reset_request_slots() + [SlotSet(name, None) for name in FAULT_SLOTS]
        requester = requester_of(tracker)
        language = language_in(tracker)
        serial = tracker.get_slot("fault_serial")
        if requester.workspace_unverified:
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return done
        if not isinstance(serial, str) or not serial.strip():
            dispatcher.utter_message(response="utter_serial_malformed")  # the form never ends without one
            return done
        try:
            report = await services.report_fault(
                self.portal.uow(),
                requester.email,
                serial,
                tracker.get_slot("description") or "",
                share_identity=tracker.get_slot("fault_share") is True,
                origin=origin_of(tracker),
            )
        except UnknownAccount:
            say_no_account(dispatcher, requester)
            return done
        except NotEligible as refusal:
            explain(refusal.decision, dispatcher, language)
            return done
        except MalformedSerial:
            dispatcher.utter_message(response="utter_serial_malformed")
            return done
        except UnknownCharger as unknown:
            dispatcher.utter_message(response="utter_charger_unknown", serial=unknown.serial)
            return done
        except OwnCharger as own:
            dispatcher.utter_message(response="utter_fault_own_charger", fault_serial=own.serial)
            return done
        except FaultReportedRecently as recent:
            day = texts(language).moment(recent.again_at)
            dispatcher.utter_message(response="utter_fault_reported_recently", fault_serial=recent.serial, day=day)
            return done
        except InvalidDescription:
            dispatcher.utter_message(response="utter_description_too_short")
            return done
        dispatcher.utter_message(
            response="utter_fault_reported", fault_serial=report.serial, request_reference=report.reference
        )
        return done
