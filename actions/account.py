"""Checking the asker's account before a request flow starts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.explanations import explain, say_no_account
from actions.opening import description_from_opening
from actions.portal_access import UsesPortal
from actions.requester import language_in, latest_intent, requester_of, texts_of
from portal import services
from portal.domain.eligibility import Outcome

ADMIN_FORM = "admin_request_form"
ACCOUNT_OUTCOMES = {Outcome.NO_ACCOUNT, Outcome.NOT_LINKED, Outcome.NOT_YET_SERVICE_CUSTOMER}


class ActionCheckAccount(UsesPortal, Action):
    """Sets `account_status` (ok / no_account / not_linked / not_yet_service_customer) for the rules to branch on.

    It explains a problem only when it stops the flow the customer asked for: an account that is not (yet)
    linked can still file an administrative request, so that flow goes on silently.
    """

    def name(self) -> str:
        return "action_check_account"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        requester = requester_of(tracker)
        if requester.workspace_unverified:
            # Nothing about any organization until support links the workspace (the Slack layer asked them).
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return [SlotSet("account_status", "no_account"), SlotSet("eligibility", None)]
        decision = await services.check_eligibility(self.portal.uow(), requester.email, None)
        status = decision.outcome.value if decision.outcome in ACCOUNT_OUTCOMES else "ok"
        if status == "ok":
            if intent == "faq_not_linked":
                dispatcher.utter_message(response="utter_account_linked")
        elif status == Outcome.NO_ACCOUNT:
            say_no_account(dispatcher, requester)
        elif intent != "request_admin_change":
            explain(decision, dispatcher, language_in(tracker))
        since = decision.service_customer_from
        events = [
            SlotSet("account_status", status),
            SlotSet("eligibility", None),
            SlotSet("service_customer_from", texts_of(tracker).moment(since) if since else None),
        ]
        if intent == "request_admin_change" and status != Outcome.NO_ACCOUNT:
            # The administrative form starts next (data/rules.yml) and asks for its description first, so no
            # validator runs before that question: the opening message's description is set here instead, and the
            # form validates it as it starts (prefilled slots are, in Rasa and in the engine alike). Service
            # tickets and transfers get theirs from their first question (actions/ask.py).
            events += [SlotSet(k, v) for k, v in description_from_opening(tracker, ADMIN_FORM).items()]
        return events
