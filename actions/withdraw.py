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
from actions.requester import Requester, language_in, requester_of
from actions.wording import intent_payload, serial_list
from portal import services
from portal.domain.actors import Customer
from portal.domain.requests import find_reference, kind_of_reference, normalise_reference
from portal.domain.text import REASON_MAX
from portal.errors import InvalidTransition, NotRequester, ReasonRequired, UnknownAccount, UnknownRequest
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts
from portal.status_text import kind_label, status_label
from portal.views import RequestSummary

INTENT = "withdraw_request"
ANSWER = "withdraw_answer"
REASON = "withdraw_reason"  # the reason `/support withdraw REF <reason>` gave, on its confirming button
MAX_CHOICES = 10


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


def what(summary: RequestSummary, language: str = DEFAULT_LANGUAGE) -> str:
    """`service ticket ST-000001 (10001R002)`: the kind's label in `language`, then the reference and chargers."""
    about = f" ({serial_list(summary.serials)})" if summary.serials else ""
    return f"{kind_label(summary.kind, language)} {summary.reference}{about}"


class ActionWithdrawRequest(UsesPortal, Action):
    """Asks which request and whether to withdraw it; withdraws it only on the confirming button."""

    def name(self) -> str:
        return "action_withdraw_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = [SlotSet("reference", None)]
        requester = requester_of(tracker)
        if requester.workspace_unverified:
            dispatcher.utter_message(response="utter_workspace_not_verified")
            return done
        answer = next(tracker.get_latest_entity_values(ANSWER), None)
        if answer == "no":
            dispatcher.utter_message(response="utter_withdraw_kept")
            return done
        reference = reference_named(tracker)
        language = language_in(tracker)
        try:
            if reference is None:
                await self._offer_choices(dispatcher, requester, language)
            elif answer == "yes":
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
        except UnknownRequest:
            # The same answer whether it does not exist or is someone else's; the attempt is remembered.
            await self._audit(requester, reference, "UnknownRequest", "no such request that they may see")
            dispatcher.utter_message(response="utter_status_unknown_reference", reference=reference)
        except NotRequester:
            await self._audit(requester, reference, "NotRequester", "may see it, may not withdraw it")
            dispatcher.utter_message(response="utter_withdraw_not_yours", reference=reference)
        except ReasonRequired:
            # Only a changed button carries a reason longer than /support accepts.
            dispatcher.utter_message(response="utter_withdraw_reason_too_long", reason_max=REASON_MAX)
        except InvalidTransition as decided:
            kind = _kind_of(reference)
            dispatcher.utter_message(
                response="utter_withdraw_decided",
                reference=decided.reference,
                status_text=status_label(kind, decided.status, language) if kind else decided.status,
            )
        return done

    async def _offer_choices(self, dispatcher: CollectingDispatcher, requester: Requester, language: str) -> None:
        open_ones = await services.withdrawable_requests(self.portal.uow(), requester.email)
        if not open_ones:
            dispatcher.utter_message(response="utter_withdraw_nothing_open")
            return
        buttons = [
            {"title": what(r, language), "payload": intent_payload(INTENT, reference=r.reference)} for r in open_ones
        ]
        buttons = buttons[:MAX_CHOICES]
        # Translators: the last button under "Which request would you like to withdraw?".
        keep = texts(language).gettext("Keep them all")
        buttons.append({"title": keep, "payload": intent_payload(INTENT, **{ANSWER: "no"})})
        dispatcher.utter_message(response="utter_withdraw_which", buttons=buttons)

    async def _audit(self, requester: Requester, reference: str | None, outcome: str, detail: str) -> None:
        if requester.slack_user_id:
            actor = f"slack:{requester.slack_user_id}"
        else:
            actor = Customer(requester.email).label if requester.email else "unknown"
        await services.audit_refusal(self.portal.uow(), actor, "withdraw", reference, outcome, detail)


def reference_named(tracker: Tracker) -> str | None:
    """The reference the message names: a button's or the entity extractor's, else one written in the text."""
    for value in tracker.get_latest_entity_values("reference"):
        if isinstance(value, str) and (found := normalise_reference(value)):
            return found
        if isinstance(value, str) and value.strip():
            return value.strip()[:40]  # not a reference: the portal answers "unknown", and the audit keeps it
    text = (tracker.latest_message or {}).get("text")
    if isinstance(text, str) and not text.startswith("/"):
        return find_reference(text)
    return None


def _kind_of(reference: str | None) -> str | None:
    kind = kind_of_reference(reference or "")
    return kind.value if kind else None
