"""Reopening a resolved service ticket in words ("the problem is back on ST-000123"), and the follow-up ticket
offered when it was resolved too long ago (issue 16 §2). The buttons on the resolution message do the same in Slack
(bot/slack/listeners/reopen.py); both go through portal.services.reopen, which decides.

One intent, `reopen_request`, carries the exchange in its entities, so that each button works on its own:

    /reopen_request                                  which one? (the person's resolved tickets, as buttons)
    /reopen_request{"reference": "ST-000001"}        reopens it, within CHARGEDESK_REOPEN_DAYS of its resolution
    /reopen_request{"follow_up": "ST-000001"}        follow_up_form: what is wrong now? then a new ticket follows it
    /reopen_request{"reopen_answer": "no"}           changes nothing

Reopening needs no confirmation, unlike withdrawing: it only puts the person's own ticket back in support's queue,
and support can resolve it again. Who may (the requester or their organization) comes before the ticket's state: a
reference that does not exist and someone else's get the same answer, and every refusal is audited.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.descriptions import validated_description
from actions.explanations import say_no_account
from actions.flow import refused
from actions.portal_access import UsesPortal
from actions.references import Choices, asked, offer, refuse, status_text_of
from actions.requester import Requester, language_in, origin_of, requester_of
from actions.slots import reset_request_slots
from actions.withdraw import withdraw_button
from actions.wording import intent_payload
from portal import services
from portal.errors import (
    InvalidDescription,
    InvalidTransition,
    NotEligible,
    NotRequester,
    ReopenWindowClosed,
    UnknownAccount,
    UnknownRequest,
)
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts

INTENT = "reopen_request"
ANSWER = "reopen_answer"
FOLLOW_UP = "follow_up"  # the entity of the follow-up button: the resolved ticket the new one follows
CHOICES = Choices(INTENT, ANSWER, which="utter_reopen_which", none="utter_reopen_nothing_resolved")
# Not resolved, but support still has it: there is nothing to reopen, and nothing to worry about either.
STILL_OPEN = frozenset({"open", "in_progress"})


def follow_up_buttons(reference: str, language: str = DEFAULT_LANGUAGE) -> list[dict[str, str]]:
    """Under "it can't be reopened any more": a new ticket that follows `reference`, or nothing."""
    t = texts(language)
    return [
        {"title": t.gettext("Open a new ticket"), "payload": intent_payload(INTENT, **{FOLLOW_UP: reference})},
        # Translators: the button that declines the new ticket offered after the reopen window.
        {"title": t.gettext("No, thanks"), "payload": intent_payload(INTENT, **{ANSWER: "no"})},
    ]


def reopen_button(reference: str, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """A button that reopens `reference` (the portal still decides whether it may)."""
    title = texts(language).gettext("Reopen {reference}").format(reference=reference)
    return {"title": title, "payload": intent_payload(INTENT, reference=reference)}


class ActionReopenRequest(UsesPortal, Action):
    """Reopens the named resolved ticket, lists the resolved ones when none is named, or says why not."""

    def name(self) -> str:
        return "action_reopen_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = [SlotSet("reference", None)]
        question = asked(tracker, dispatcher, ANSWER, "utter_reopen_kept")
        if question is None:
            return done
        requester, reference, language = question.requester, question.reference, question.language
        try:
            if reference is None:
                await offer_resolved(self, dispatcher, requester, language)
                return done
            summary = await services.reopen_ticket(
                self.portal.uow(), requester.email, reference, days=self.portal.reopen_days
            )
            dispatcher.utter_message(response="utter_ticket_reopened", reference=summary.reference)
        except UnknownAccount:
            say_no_account(dispatcher, requester)
        except (UnknownRequest, NotRequester) as refusal:
            await refuse(
                self,
                dispatcher,
                requester,
                "reopen",
                reference,
                refusal,
                not_yours="utter_reopen_not_yours",
                detail="may see it, may not reopen it",
            )
        except ReopenWindowClosed as closed:
            dispatcher.utter_message(
                response="utter_reopen_too_late",
                reference=closed.reference,
                day=texts(language).day(closed.resolved_at),
                days=closed.days,
                buttons=follow_up_buttons(closed.reference, language),
            )
        except InvalidTransition as error:
            say_not_reopenable(dispatcher, error, language)
        return done


class ValidateFollowUpForm(FormValidationAction):
    """The follow-up's description, held to the limits every description is."""

    def name(self) -> str:
        return "validate_follow_up_form"

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return refused(validated_description(value, dispatcher), "description", dispatcher, tracker)


class ActionOpenFollowUpTicket(UsesPortal, Action):
    """Files the new ticket on the old one's charger, following it; filed once per form (the origin's key)."""

    def name(self) -> str:
        return "action_open_follow_up_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done = reset_request_slots()
        requester = requester_of(tracker)
        language = language_in(tracker)
        old = tracker.get_slot("follow_up_of")
        if requester.workspace_unverified:
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return done
        if not isinstance(old, str) or not old.strip():
            dispatcher.utter_message(response="utter_reopen_kept")  # no button named a ticket: nothing to follow
            return done
        description = tracker.get_slot("description") or ""
        try:
            ticket = await services.open_follow_up_ticket(
                self.portal.uow(), requester.email, old, description, origin_of(tracker)
            )
        except UnknownAccount:
            say_no_account(dispatcher, requester)
            return done
        except (UnknownRequest, NotRequester) as refusal:
            await refuse(
                self,
                dispatcher,
                requester,
                "follow_up",
                old,
                refusal,
                not_yours="utter_reopen_not_yours",
                detail="may see it, may not follow it up",
            )
            return done
        except NotEligible:
            dispatcher.utter_message(response="utter_follow_up_not_eligible", reference=old)
            return done
        except InvalidDescription:
            dispatcher.utter_message(response="utter_description_too_short")
            return done
        except InvalidTransition as error:
            say_not_reopenable(dispatcher, error, language)
            return done
        dispatcher.utter_message(
            response="utter_follow_up_opened",
            request_reference=ticket.reference,
            reference=old,
            buttons=[withdraw_button(ticket.reference, language)],
        )
        return [*done, SlotSet("request_reference", ticket.reference)]


async def offer_resolved(
    action: UsesPortal, dispatcher: CollectingDispatcher, requester: Requester, language: str
) -> None:
    """The person's resolved service tickets as buttons that reopen them (the portal still decides each)."""
    mine = await services.list_requests(action.portal.uow(), requester.email)
    resolved = [r for r in mine if r.kind == "service_ticket" and r.status == "resolved"]
    # Translators: the last button under "Which ticket would you like to reopen?".
    offer(dispatcher, resolved, CHOICES, language, texts(language).gettext("Never mind"))


def say_not_reopenable(dispatcher: CollectingDispatcher, error: InvalidTransition, language: str) -> None:
    """Still being worked on, or decided otherwise (withdrawn, rejected, closed; or not a service ticket)."""
    status_text = status_text_of(error.reference, error.status, language)
    response = "utter_reopen_still_open" if error.status in STILL_OPEN else "utter_reopen_not_possible"
    dispatcher.utter_message(response=response, reference=error.reference, status_text=status_text)
