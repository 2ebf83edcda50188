"""Withdrawing one's own request, asked in words or with a button: confirm first, then withdraw.

One intent, `withdraw_request`, carries the whole exchange in its entities, so that every button works on its own
(on an old message, on the App Home, under a `/support withdraw` answer) and with a Rasa server as it is:

    /withdraw_request                                              which one? (the open ones, as buttons)
    /withdraw_request{"reference": "ST-000001"}                    withdraw ST-000001? Yes / No
    /withdraw_request{"reference": "ST-000001", "withdraw_answer": "yes"}   withdraws it
    /withdraw_request{"withdraw_answer": "no"}                     keeps everything as it is

Typed words ("please cancel my ticket ST-000001") never withdraw: they get the question with its buttons, so a typo
in a reference cannot withdraw the wrong request. The portal decides who may (the requester or their
organization) before it says anything about the request's state; refusals are audited.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.explanations import say_no_account
from actions.portal_access import UsesPortal
from actions.references import Choices, asked, offer, refuse, status_text_of, what
from actions.wording import intent_payload
from portal import services
from portal.domain.text import REASON_MAX
from portal.errors import InvalidTransition, NotRequester, ReasonRequired, UnknownAccount, UnknownRequest
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts

INTENT = "withdraw_request"
ANSWER = "withdraw_answer"
CHOICES = Choices(INTENT, ANSWER, which="utter_withdraw_which", none="utter_withdraw_nothing_open")
REASON = "withdraw_reason"  # the reason `/support withdraw REF <reason>` gave, on its confirming button


def confirm_buttons(
    reference: str, reason: str | None = None, language: str = DEFAULT_LANGUAGE
) -> list[dict[str, str]]:
    """The question's two ways: withdraw this very request (with the reason given, if any), or keep it."""
    t = texts(language)
    yes = intent_payload(INTENT, reference=reference, **{ANSWER: "yes"}, **({REASON: reason} if reason else {}))
    return [
        # Translators: the two buttons under "Withdraw your service ticket ST-000001? …".
        {"title": t.gettext("Yes, withdraw {reference}").format(reference=reference), "payload": yes},
        {"title": t.gettext("No, keep it"), "payload": intent_payload(INTENT, **{ANSWER: "no"})},
    ]


def withdraw_button(reference: str, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The button under a confirmation or on the App Home: it asks before anything is withdrawn."""
    # Translators: a button under a request just filed, e.g. "Withdraw ST-000001".
    title = texts(language).gettext("Withdraw {reference}").format(reference=reference)
    return {"title": title, "payload": intent_payload(INTENT, reference=reference)}


class ActionWithdrawRequest(UsesPortal, Action):
    """Asks which request and whether to withdraw it; withdraws it only on the confirming button."""

    def name(self) -> str:
        return "action_withdraw_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = [SlotSet("reference", None)]
        question = asked(tracker, dispatcher, ANSWER, "utter_withdraw_kept")
        if question is None:
            return done
        requester, reference, language = question.requester, question.reference, question.language
        try:
            if reference is None:
                open_ones = await services.withdrawable_requests(self.portal.uow(), requester.email)
                # Translators: the last button under "Which request would you like to withdraw?".
                offer(dispatcher, open_ones, CHOICES, language, texts(language).gettext("Keep them all"))
            elif question.answer == "yes":
                reason = next(tracker.get_latest_entity_values(REASON), None)
                withdrawn = await services.withdraw_request(
                    self.portal.uow(), requester.email, reference, reason if isinstance(reason, str) else None
                )
                response = "utter_transfer_withdrawn" if withdrawn.kind == "transfer" else "utter_request_withdrawn"
                dispatcher.utter_message(
                    response=response, request_reference=withdrawn.reference, what=what(withdrawn, language)
                )
            else:
                summary = await services.check_withdrawal(self.portal.uow(), requester.email, reference)
                dispatcher.utter_message(
                    response="utter_confirm_withdraw",
                    what=what(summary, language),
                    buttons=confirm_buttons(summary.reference, language=language),
                )
        except UnknownAccount:
            say_no_account(dispatcher, requester)
        except (UnknownRequest, NotRequester) as refusal:
            await refuse(
                self,
                dispatcher,
                requester,
                "withdraw",
                reference,
                refusal,
                not_yours="utter_withdraw_not_yours",
                detail="may see it, may not withdraw it",
            )
        except ReasonRequired:
            # Only a changed button carries a reason longer than /support accepts.
            dispatcher.utter_message(response="utter_withdraw_reason_too_long", reason_max=REASON_MAX)
        except InvalidTransition as decided:
            dispatcher.utter_message(
                response="utter_withdraw_decided",
                reference=decided.reference,
                status_text=status_text_of(reference, decided.status, language),
            )
        return done
