"""Adding something to one's own request in words: "I want to add something to ST-000123" (issue 16 §2).

add_to_request_form asks for the reference when the message named none, then "What would you like to add?"; the
next message's text is the addition, as it is. The portal (portal.services.add_from_requester) decides who may and
whether the request still takes additions: a reference that does not exist and someone else's get the same answer
(audited), and a closed one is said so. A resolved ticket still takes it, but support may not look again, so the
answer offers to reopen it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.explanations import say_no_account
from actions.portal_access import UsesPortal
from actions.references import refuse, status_text_of
from actions.reopen import reopen_button
from actions.requester import language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from portal import services
from portal.domain.messages import MESSAGE_MAX
from portal.domain.requests import find_reference, normalise_reference
from portal.errors import InvalidMessage, InvalidTransition, NotRequester, UnknownAccount, UnknownRequest


class ValidateAddToRequestForm(FormValidationAction):
    """The reference as a reference (typed loosely: "st 12" is ST-000012), and the addition as it was written."""

    def name(self) -> str:
        return "validate_add_to_request_form"

    async def validate_addition_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value if isinstance(value, str) else ""
        found = normalise_reference(text) or find_reference(text)
        if found is None:
            dispatcher.utter_message(response="utter_addition_no_reference")
        return {"addition_reference": found}

    async def validate_addition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if len(text) > MESSAGE_MAX:
            # Refused before the portal is asked, so the form asks again and nothing is cut off unsaid.
            dispatcher.utter_message(response="utter_addition_too_long", message_max=MESSAGE_MAX)
            return {"addition": None}
        return {"addition": text or None}


class ActionAddToRequest(UsesPortal, Action):
    """Adds the addition to the request, or says why not; the form's slots are cleared either way."""

    def name(self) -> str:
        return "action_add_to_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done = [*reset_request_slots(), SlotSet("reference", None)]
        requester = requester_of(tracker)
        reference = tracker.get_slot("addition_reference")
        text = tracker.get_slot("addition")
        language = language_in(tracker)
        if requester.workspace_unverified:
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return done
        if not isinstance(reference, str) or not isinstance(text, str) or not text:
            dispatcher.utter_message(response="utter_cancelled")  # the form ended without both: nothing was added
            return done
        origin = origin_of(tracker) or {}
        key = origin.get("key")
        try:
            added = await services.add_from_requester(
                self.portal.uow(),
                requester.email,
                reference,
                text,
                key=f"addition:{key}" if isinstance(key, str) else None,
            )
        except UnknownAccount:
            say_no_account(dispatcher, requester)
        except (UnknownRequest, NotRequester) as refusal:
            await refuse(
                self,
                dispatcher,
                requester,
                "add",
                reference,
                refusal,
                not_yours="utter_addition_not_yours",
                detail="may see it, may not add to it",
            )
        except InvalidMessage:
            dispatcher.utter_message(response="utter_addition_too_long", message_max=MESSAGE_MAX)
        except InvalidTransition as closed:
            dispatcher.utter_message(
                response="utter_addition_closed",
                reference=closed.reference,
                status_text=status_text_of(closed.reference, closed.status, language),
            )
        else:
            if added.status == "resolved":
                dispatcher.utter_message(
                    response="utter_addition_added_resolved",
                    reference=added.reference,
                    buttons=[reopen_button(added.reference, language)],
                )
            else:
                dispatcher.utter_message(response="utter_addition_added", reference=added.reference)
        return done
