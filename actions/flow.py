"""The conversation's safety rails (issue 13, sections 5 to 7): a summary before anything is filed, help at each
prompt, switching to another request, an offer of a person after repeated failures, and the handoff to a person.

Thin, like every action: the rules (what counts as a question about the process, what a handoff files) live in
`portal.domain.conversation` and `portal.services.handoff`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import ActionCheckAccount
from actions.portal_access import UsesPortal
from actions.requester import language_in, latest_intent, origin_of, requester_of, texts_of
from actions.slots import reset_request_slots
from actions.wording import intent_payload, serial_list
from portal import services
from portal.domain.conversation import Line, is_plea_for_help, process_question
from portal.domain.serials import find_serials
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import N_, texts

CHANGE_INTENTS = ("change", "deny")  # at a summary; at the transfer's terms a "no" declines instead
CHANGE_ONLY = ("change",)
# What each form lets the customer change at its summary, with the words the "what to change" buttons use (English
# source texts, translated when the buttons are shown).
CHANGEABLE: dict[str, tuple[tuple[str, str], ...]] = {
    # Translators: buttons answering "What would you like to change?" at the summary of a request.
    "service_ticket_form": (("serial", N_("The charger")), ("description", N_("The description"))),
    "admin_request_form": (("description", N_("The description")),),
    # Translators: buttons answering "What would you like to change?" at the summary of a transfer request.
    "transfer_form": (("serials", N_("The chargers")), ("description", N_("The reason"))),
}
# Slots that only mean something together with the one being changed.
DEPENDENT: dict[str, tuple[str, ...]] = {
    "serial": ("eligibility", "warranty_until"),
    "serials": ("serials_text",),
}
SWITCH_TARGETS = {
    "request_service_ticket": "service_ticket_form",
    "request_admin_change": "admin_request_form",
    "request_transfer": "transfer_form",
}
# At a description prompt a message this long is the description, whatever kind of request it sounds like: "the
# charger in our car park stopped working but I can't read its label" describes the problem of the request being
# filled in; "actually I want a transfer" (short) asks to switch.
SWITCH_MAX_WORDS = 12
# Translators: a button that stops the request being filled in.
CANCEL_BUTTON = {"title": N_("Cancel"), "payload": "/cancel"}
OFFER_EVERY = 2  # refused answers in a row before a person is offered (again)
HANDOFF_EVENTS = 40  # how far back in the tracker a handoff looks for messages


def latest_entity(tracker: Tracker, name: str) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == name and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


def names_the_charger(description: Any, serial: Any) -> bool:
    """Whether a description names `serial` (it came from the opening message that named that charger)."""
    return isinstance(description, str) and isinstance(serial, str) and serial in find_serials(description)


def asks_which(tracker: Tracker, form: str) -> bool:
    """True when the customer said "change" without naming what, and the form has more than one thing to change."""
    return (
        latest_intent(tracker) in CHANGE_INTENTS
        and latest_entity(tracker, "field") is None
        and len(CHANGEABLE.get(form, ())) > 1
    )


def confirmation(confirm_slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """Validates the answer to a summary: Submit keeps it, Change clears what is to be changed (or asks what)."""
    if value is True:
        return {confirm_slot: True}
    form = tracker.active_loop.get("name") or ""
    changeable = CHANGEABLE.get(form, ())
    change_intents = CHANGE_ONLY if confirm_slot == "transfer_confirmed" else CHANGE_INTENTS
    if value is False and latest_intent(tracker) in change_intents and changeable:
        field = latest_entity(tracker, "field")
        names = [name for name, _ in changeable]
        if field is None and len(names) == 1:
            field = names[0]
        if field in names:
            cleared: dict[str, Any] = {confirm_slot: None, field: None}
            cleared.update(dict.fromkeys(DEPENDENT.get(field, ()), None))
            if field == "serial" and names_the_charger(tracker.get_slot("description"), tracker.get_slot("serial")):
                # "hi, 10001R001 stopped charging" describes the charger being replaced: asked again, not kept.
                cleared["description"] = None
            return cleared
        t = texts_of(tracker)
        buttons = [
            {"title": t.gettext(title), "payload": intent_payload("change", field=name)} for name, title in changeable
        ]
        dispatcher.utter_message(
            response="utter_ask_what_to_change", buttons=[*buttons, cancel_button(language_in(tracker))]
        )
        return {confirm_slot: None}
    # A "no" to the transfer's terms files nothing (action_open_transfer_request says so).
    return {confirm_slot: value if isinstance(value, bool) else None}


def cancel_button(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Cancel, in `language` (the payload stays the same)."""
    return {**CANCEL_BUTTON, "title": texts(language).gettext(CANCEL_BUTTON["title"])}


def refused(result: dict[str, Any], slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """Counts refused answers at a prompt: after two in a row, a person is offered (and again after two more)."""
    if "failed_tries" in result:
        return result  # answered rather than refused (help, a question about the process)
    if result.get(slot) is not None:
        return {**result, "failed_tries": None} if tracker.get_slot("failed_tries") else result
    tries = int(tracker.get_slot("failed_tries") or 0) + 1
    if tries % OFFER_EVERY == 0:
        dispatcher.utter_message(response="utter_offer_person")
    return {**result, "failed_tries": float(tries)}


class ActionAskRequestConfirmed(UsesPortal, Action):
    """Shows what is about to be filed, with Submit / Change / Cancel."""

    def name(self) -> str:
        return "action_ask_request_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        form = tracker.active_loop.get("name") or ""
        if asks_which(tracker, form):
            return []  # the validator just asked what to change
        description = tracker.get_slot("description") or ""
        t = texts_of(tracker)
        if form == "service_ticket_form":
            serial = tracker.get_slot("serial") or ""
            decision = await services.check_eligibility(self.portal.uow(), requester_of(tracker).email, serial)
            if decision.warranty_until is None:
                # Translators: ends the summary's "Service ticket on charger ACE0100001, …", like "under warranty…".
                warranty = t.gettext("warranty unknown")
            elif decision.in_warranty:
                warranty = t.gettext("under warranty until {day}").format(day=t.day(decision.warranty_until))
            else:
                warranty = t.gettext("out of warranty since {day}").format(day=t.day(decision.warranty_until))
            dispatcher.utter_message(
                response="utter_summary_service_ticket", serial=serial, warranty_text=warranty, description=description
            )
        else:
            serials = find_serials(description)
            # Translators: follows "Administrative request" in the summary: "Administrative request about ACE0100001".
            about = t.gettext("about {serials}").format(serials=serial_list(serials))
            chargers = f" {about}" if serials else ""
            dispatcher.utter_message(
                response="utter_summary_admin_request", chargers_text=chargers, description=description
            )
        dispatcher.utter_message(response="utter_ask_submit")
        return []


class ActionAskTransferConfirmed(Action):
    """The transfer's summary, then its terms with Yes / No, plus Change and Cancel."""

    def name(self) -> str:
        return "action_ask_transfer_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if asks_which(tracker, "transfer_form"):
            return []
        serials_text = tracker.get_slot("serials_text") or serial_list(tracker.get_slot("serials") or [])
        t = texts_of(tracker)
        dispatcher.utter_message(
            response="utter_summary_transfer",
            serials_text=serials_text,
            description=tracker.get_slot("description") or "",
        )
        dispatcher.utter_message(
            response="utter_ask_transfer_confirmed",
            serials_text=serials_text,
            buttons=[
                # Translators: a button under the transfer's terms, next to Cancel.
                {"title": t.gettext("Change something"), "payload": "/change"},
                cancel_button(t.language),
            ],
        )
        return []


class ActionHelp(Action):
    """Help that fits the prompt: where the serial is (and another way forward), what to write, or what I do."""

    def name(self) -> str:
        return "action_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        asked = tracker.get_slot("requested_slot") if tracker.active_loop.get("name") else None
        question = process_question(str((tracker.latest_message or {}).get("text") or ""))
        if question is not None:
            # "How long will this take?" reads as a plea for help; it is a question with a short answer.
            dispatcher.utter_message(response=f"utter_process_{question.value}")
        elif latest_intent(tracker) == "dont_know_serial" or asked in ("serial", "serials"):
            dispatcher.utter_message(response="utter_help_serial")
        elif asked == "description":
            dispatcher.utter_message(response="utter_help_description")
        else:
            dispatcher.utter_message(response="utter_help_general")
        return []


class ActionMisunderstood(Action):
    """Says it did not understand; the second time in a row it also offers a person."""

    def name(self) -> str:
        return "action_misunderstood"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        users = [e for e in tracker.events if e.get("event") == "user"]
        before = users[-2] if len(users) >= 2 else {}
        again = ((before.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback"
        if is_plea_for_help(str((tracker.latest_message or {}).get("text") or "")):
            # A lone "help" is hard for the classifier to place; it is never a misunderstanding.
            dispatcher.utter_message(response="utter_help_general")
            return []
        dispatcher.utter_message(response="utter_default")
        if again:
            dispatcher.utter_message(response="utter_offer_person")
        return []


class ActionRequestHuman(UsesPortal, Action):
    """Passes the conversation so far to support and says who answers, where and when."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        lines = []
        for event in tracker.events[-HANDOFF_EVENTS:]:
            kind, text = event.get("event"), event.get("text")
            if kind in ("user", "bot") and isinstance(text, str) and not text.startswith("/"):
                lines.append(Line("customer" if kind == "user" else "assistant", text))
        requester = requester_of(tracker)
        origin = dict(origin_of(tracker) or {})
        origin.setdefault("slack_user_id", requester.slack_user_id)
        origin.setdefault("slack_team_id", requester.slack_team_id)
        handoff = await services.ask_for_person(self.portal.uow(), requester.email, lines, origin)
        events = reset_request_slots()
        if handoff.reference is None:
            dispatcher.utter_message(response="utter_handoff_asked")
            return events
        dispatcher.utter_message(response="utter_handoff_filed", request_reference=handoff.reference)
        return [*events, SlotSet("request_reference", handoff.reference)]


class ActionSwitchRequest(UsesPortal, Action):
    """The customer asked for another kind of request inside a form: forget this one and start that one."""

    def name(self) -> str:
        return "action_switch_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        form, asked = _interrupted(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        if form and asked == "description" and len(text.split()) > SWITCH_MAX_WORDS:
            # Not a switch: the answer to the question asked. Back into the same form, with it as the description.
            return [SlotSet("description", text), FollowupAction(form)]
        target = SWITCH_TARGETS.get(latest_intent(tracker) or "")
        events = reset_request_slots()
        if target is None:
            return events
        checked = await ActionCheckAccount(self._portal).run(dispatcher, tracker, domain)
        events.extend(checked)
        status = next((e.get("value") for e in checked if e.get("name") == "account_status"), None)
        if status == "ok" or (target == "admin_request_form" and status != "no_account"):
            events.append(FollowupAction(target))
        return events


def _interrupted(tracker: Tracker) -> tuple[str | None, str | None]:
    """The form the switching rule just deactivated, and the slot it was asking for (from the tracker's events)."""
    form: str | None = None
    asked: str | None = None
    for event in reversed(tracker.events):
        if form is None and event.get("event") == "active_loop" and event.get("name"):
            form = str(event["name"])
        is_asking = event.get("event") == "slot" and event.get("name") == "requested_slot"
        if asked is None and is_asking and event.get("value"):
            asked = str(event["value"])
        if form is not None and asked is not None:
            break
    return form, asked
