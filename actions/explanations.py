"""Turning the portal's eligibility decision into what the customer reads (never another organization's data)."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.requester import Requester
from actions.wording import intent_payload
from portal.domain.eligibility import EligibilityDecision, Outcome
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts

# The surface's reason when it has no email for the person: Slack did not share it (users.info without `email`).
NO_EMAIL = "no_email"


def say_no_account(dispatcher: CollectingDispatcher, requester: Requester) -> None:
    """No account found: because Slack keeps the person's email from us, or because none has that email."""
    dispatcher.utter_message(response="utter_no_email" if requester.identity == NO_EMAIL else "utter_no_account")


def explain(decision: EligibilityDecision, dispatcher: CollectingDispatcher, language: str = DEFAULT_LANGUAGE) -> None:
    """Say why no ticket can be raised and what the customer can do instead (the texts built here in `language`)."""
    t = texts(language)
    outcome = decision.outcome
    serial = decision.serial or ""
    if outcome is Outcome.NO_ACCOUNT:
        dispatcher.utter_message(response="utter_no_account")
    elif outcome is Outcome.NOT_LINKED:
        dispatcher.utter_message(response="utter_not_linked")
    elif outcome is Outcome.NOT_YET_SERVICE_CUSTOMER:
        since = decision.service_customer_from
        # Translators: completes "…it may not be linked until {service_customer_from}" when no date is known.
        until = t.moment(since) if since else t.gettext("tomorrow")
        dispatcher.utter_message(response="utter_not_yet_service_customer", service_customer_from=until)
    elif outcome is Outcome.SERIAL_MALFORMED:
        dispatcher.utter_message(response="utter_serial_malformed")
    elif outcome is Outcome.CHARGER_UNKNOWN:
        dispatcher.utter_message(response="utter_charger_unknown", serial=serial)
    elif outcome is Outcome.OTHER_OPERATOR:
        dispatcher.utter_message(
            response="utter_other_operator",
            serial=serial,
            buttons=[
                {
                    # Translators: a button under "another organization is the Service Operator of this charger".
                    "title": t.gettext("Request a management transfer"),
                    "payload": intent_payload("request_transfer", serial=serial),
                },
                {
                    # Translators: a button under "another organization is the Service Operator of this charger".
                    "title": t.gettext("Tell the charger's Service Operator"),
                    "payload": intent_payload("inform", fault_serial=serial),
                },
            ],
        )
    elif outcome is Outcome.TRANSFER_PENDING and decision.own_pending_reference:
        dispatcher.utter_message(
            response="utter_transfer_pending_own", serial=serial, request_reference=decision.own_pending_reference
        )
    elif outcome is Outcome.TRANSFER_PENDING:
        dispatcher.utter_message(response="utter_transfer_pending", serial=serial)
    else:  # MAY_RAISE needs no explanation; reaching here means a caller bug, so say something safe.
        dispatcher.utter_message(response="utter_error_try_again")


def warranty_text(decision: EligibilityDecision, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The warranty's end as the ticket's confirmation shows it (`warranty_until`), in `language`."""
    return texts(language).day(decision.warranty_until) if decision.warranty_until else None
