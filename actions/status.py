"""Status of the asker's requests, or of one request by reference."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.explanations import say_no_account
from actions.portal_access import UsesPortal
from actions.requester import language_in, requester_of
from actions.wording import status_line
from portal import services
from portal.domain.actors import Customer
from portal.domain.requests import normalise_reference
from portal.errors import UnknownAccount, UnknownRequest

MAX_LISTED = 10


class ActionShowStatus(UsesPortal, Action):
    """Lists the asker's (and their organization's) latest requests; with a reference, that one request.

    A reference the asker may not see is answered exactly like one that does not exist.
    """

    def name(self) -> str:
        return "action_show_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        requester = requester_of(tracker)
        if requester.workspace_unverified:
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return [SlotSet("reference", None)]
        email = requester.email
        language = language_in(tracker)
        entity = next(tracker.get_latest_entity_values("reference"), None)
        # Rasa's extractor gives the reference as typed ("mt 42"): the portal's canonical form, or as typed (then
        # unknown, like anyone else's).
        reference = (normalise_reference(entity) or entity.strip().upper()) if isinstance(entity, str) else None
        try:
            if reference:
                detail = await services.get_request(self.portal.uow(), Customer(email or ""), reference)
                dispatcher.utter_message(
                    response="utter_status_one", status_lines=status_line(detail.summary, language)
                )
            else:
                account = await services.account_overview(self.portal.uow(), email)
                if account.requests:
                    lines = "\n".join(status_line(r, language) for r in account.requests[:MAX_LISTED])
                    # Someone without an organization has only requests of their own: say so (issue 13 §9).
                    response = "utter_status_list" if account.organization else "utter_status_list_own"
                    dispatcher.utter_message(response=response, status_lines=lines)
                else:
                    dispatcher.utter_message(response="utter_status_none")
        except UnknownAccount:
            say_no_account(dispatcher, requester)
        except UnknownRequest:
            dispatcher.utter_message(response="utter_status_unknown_reference", reference=reference)
        return [SlotSet("reference", None)]
