"""What the exchanges about one of the person's own requests share (withdrawing, reopening, adding to it): who asks
and which request the message names, the person's requests offered as buttons when it names none, and how a refusal
is answered and remembered.

Who may (the requester or their organization) comes before the request's state: a reference that does not exist
and someone else's get the same answer, and every refusal is audited with who tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.portal_access import UsesPortal
from actions.requester import Requester, language_in, requester_of
from actions.wording import intent_payload, serial_list
from portal import services
from portal.domain.actors import Customer
from portal.domain.requests import find_reference, kind_of_reference, normalise_reference
from portal.errors import NotRequester, UnknownRequest
from portal.languages import DEFAULT_LANGUAGE
from portal.status_text import kind_label, status_label
from portal.views import RequestSummary

MAX_CHOICES = 10  # requests offered as buttons; the last button (which changes nothing) comes after them


@dataclass(frozen=True)
class Asked:
    """Who asks, about which request (None: the message named none), in which language, and the answer a button
    carried (its `answer` entity: "yes", or None)."""

    requester: Requester
    reference: str | None
    language: str
    answer: str | None


def asked(tracker: Tracker, dispatcher: CollectingDispatcher, answer_entity: str, kept_response: str) -> Asked | None:
    """What the message asks; None when that is answered already: a person of a workspace not linked yet is told
    so, and the "no" button (`answer_entity` "no") gets `kept_response`, changing nothing."""
    requester = requester_of(tracker)
    if requester.workspace_unverified:
        dispatcher.utter_message(response="utter_workspace_not_verified")
        return None
    answer = next(tracker.get_latest_entity_values(answer_entity), None)
    if answer == "no":
        dispatcher.utter_message(response=kept_response)
        return None
    return Asked(requester, reference_named(tracker), language_in(tracker), answer if isinstance(answer, str) else None)


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


def what(summary: RequestSummary, language: str = DEFAULT_LANGUAGE) -> str:
    """`service ticket ST-000001 (10001R002)`: the kind's label in `language`, then the reference and chargers."""
    about = f" ({serial_list(summary.serials)})" if summary.serials else ""
    return f"{kind_label(summary.kind, language)} {summary.reference}{about}"


@dataclass(frozen=True)
class Choices:
    """How an exchange offers the person's requests: the intent each button names one to, the entity its last
    button answers "no" in, and the responses that offer them (`which`) or say there are none (`none`)."""

    intent: str
    answer_entity: str
    which: str
    none: str


def offer(
    dispatcher: CollectingDispatcher,
    requests: Sequence[RequestSummary],
    choices: Choices,
    language: str,
    last_title: str,
) -> None:
    """`requests` (the first MAX_CHOICES) as buttons that name each, then `last_title`'s button that changes
    nothing; or `choices.none` when there are none."""
    if not requests:
        dispatcher.utter_message(response=choices.none)
        return
    buttons = [
        {"title": what(r, language), "payload": intent_payload(choices.intent, reference=r.reference)}
        for r in requests[:MAX_CHOICES]
    ]
    buttons.append({"title": last_title, "payload": intent_payload(choices.intent, **{choices.answer_entity: "no"})})
    dispatcher.utter_message(response=choices.which, buttons=buttons)


async def refuse(
    action: UsesPortal,
    dispatcher: CollectingDispatcher,
    requester: Requester,
    verb: str,
    reference: str | None,
    refusal: UnknownRequest | NotRequester,
    *,
    not_yours: str,
    detail: str,
) -> None:
    """Answer and audit a refusal: an unknown reference (or one they may not see) gets the status answer's "unknown";
    one they may see but not act on gets `not_yours`, audited with `detail` ("may see it, may not reopen it")."""
    if isinstance(refusal, UnknownRequest):
        # The same answer whether it does not exist or is someone else's; the attempt is remembered.
        await audit(action, requester, verb, reference, "UnknownRequest", "no such request that they may see")
        dispatcher.utter_message(response="utter_status_unknown_reference", reference=reference)
    else:
        await audit(action, requester, verb, reference, "NotRequester", detail)
        dispatcher.utter_message(response=not_yours, reference=reference)


async def audit(
    action: UsesPortal, requester: Requester, verb: str, reference: str | None, outcome: str, detail: str
) -> None:
    """A refused attempt, remembered with who tried (their Slack user, else their account)."""
    if requester.slack_user_id:
        actor = f"slack:{requester.slack_user_id}"
    else:
        actor = Customer(requester.email).label if requester.email else "unknown"
    await services.audit_refusal(action.portal.uow(), actor, verb, reference, outcome, detail)


def status_text_of(reference: str | None, status: str, language: str) -> str:
    """A request's status in words, its kind read from the reference (the status as it is when that says none)."""
    kind = kind_of_reference(reference or "")
    return status_label(kind.value, status, language) if kind else status
