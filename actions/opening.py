"""Using what the customer already said: the message that started a form, and the serials they mistyped.

Rasa fills ``description`` from free text only while the form asks for it (domain/slots.yml), because an answer to
another question is not a description. The message that *started* the form is different: "hi, ACE0100002 stopped
charging yesterday, the light is red" is both the serial and the description. The form validators therefore
extract the description themselves (rasa-sdk's ``extract_<slot>``, which Rasa and the embedded engine both run
before validating): from that opening message, once, when it describes a problem beyond naming the charger and
asking for help. Otherwise nothing is filled and the form asks, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker

from portal.domain.requests import REFERENCE_IN_TEXT
from portal.domain.serials import SERIAL_IN_TEXT, find_serials, misread_serials
from portal.domain.text import DESCRIPTION_MAX, DESCRIPTION_MIN, without_control_characters
from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import texts

REQUESTED_SLOT = "requested_slot"

# Words that only ask for help or name the request, the charger or the customer: what is left once they are gone
# must still say something (at least DESCRIPTION_MIN characters) for the message to count as a description.
_FILLER = frozenset(
    """
    a about administrative again an and any are as at be can charger chargers could do for from get go had has
    have hello help hey hi how i i'd i'm id im is it its it's just like me my need needs new number of on one
    open or our please pls plz problem raise report request serial service so some someone support thank thanks
    that the there this ticket to transfer up us want wanna we we'd with would you your management operator
    become take over account company organization organisation link change update details
    """.split()  # noqa: SIM905 (a word list reads better as text)
) | frozenset(
    # The same in Dutch, German and French: "hallo, ik heb een vraag over onze laadpaal" describes nothing either.
    """
    hallo hoi goedemorgen goedemiddag goedenavond ik heb heeft hebben een vraag over onze ons mijn laadpaal laadpalen
    laadpunt laadstation oplader de het is zijn wil willen graag kan kun kunnen je jij u jullie wij met voor van aan op
    in om te en of nog even alstublieft alsjeblieft aub hulp nodig probleem melding servicemelding serienummer nummer
    aanvraag aanvragen overdracht beheeroverdracht bedrijf organisatie koppelen wijzigen wijziging gegevens dank
    bedankt iemand maken indienen openen worden overnemen nieuwe nieuw
    guten tag morgen abend ich habe eine einen ein frage zu zur zum unsere unserer unser meine meiner mein
    ladestation ladestationen ladesäule ladepunkt der die das den dem des ist sind möchte möchten will wollen bitte
    können kann sie du wir uns mit für von auf und oder mal hilfe brauche brauchen problem serviceticket seriennummer
    nummer anfrage beantragen übertragung verwaltungsübertragung konto firma verknüpfen ändern änderung daten danke
    jemand haben hat erstellen eröffnen öffnen werden übernehmen neue
    bonjour salut bonsoir j'ai ai une un question sur notre nos ma mon mes borne bornes chargeur le la les du des est
    sont je voudrais veux voulons plaît svp pouvez peux vous tu nous avec pour au aux en dans et ou encore aide
    besoin problème demande numéro série ouvrir créer transfert gestion compte entreprise société lier modifier
    changer modification coordonnées merci quelqu'un avoir devenir reprendre nouveau nouvelle
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[\w']+")


def describes_problem(text: str) -> str | None:
    """The text as a description when it says more than "here is my charger, please help"; else None.

    "hi, ACE0100002 stopped charging yesterday, the light is red" qualifies; "ACE0100002 broken" and "I need a
    service ticket for ACE0100002" do not (they are asked for a description). The whole text is kept: the agent
    reads the customer's own words, serial included. Payloads ("/request_service_ticket") never qualify.
    """
    cleaned = without_control_characters(text).strip()
    if not cleaned or cleaned.startswith("/") or len(cleaned) > DESCRIPTION_MAX:
        return None
    rest = SERIAL_IN_TEXT.sub(" ", cleaned)
    for typed, _ in misread_serials(rest):
        rest = rest.replace(typed, " ")
    rest = REFERENCE_IN_TEXT.sub(" ", rest)
    content = " ".join(word for word in _WORD.findall(rest.lower()) if word not in _FILLER)
    return cleaned if len(content) >= DESCRIPTION_MIN else None


# What the assistant may have done between a customer's first words and their click on a request category: asking
# which category ("ACE0100002 stopped charging" alone is answered with that question). The form then starts from
# the click, but the customer's words are the ones that describe the problem.
_CATEGORY_QUESTION = frozenset({"utter_ask_category", "action_listen", "action_extract_slots"})


def opening_message(tracker: Tracker, form: str) -> dict[str, Any] | None:
    """The user event whose words started the active `form` (the latest one while the form is starting).

    A click on a category button counts as the customer's preceding message when the assistant did nothing in
    between but ask for the category.
    """
    events: list[dict[str, Any]] = list(tracker.events)
    end = len(events)
    if tracker.get_slot(REQUESTED_SLOT) is not None:
        # The form is running: it started at its latest activation.
        end = next(
            (
                i
                for i in range(len(events) - 1, -1, -1)
                if events[i].get("event") == "active_loop" and events[i].get("name") == form
            ),
            -1,
        )
        if end < 0:
            return None
    users = [i for i in range(end) if events[i].get("event") == "user"]
    if not users:
        return None
    latest = events[users[-1]]
    if not str(latest.get("text") or "").startswith("/") or len(users) < 2:
        return latest
    between = {e.get("name") for e in events[users[-2] + 1 : users[-1]] if e.get("event") == "action"}
    return events[users[-2]] if between <= _CATEGORY_QUESTION else latest


def form_started_this_turn(tracker: Tracker, form: str) -> bool:
    """Whether `form` was activated after the latest user message (the message is the form's opening)."""
    for event in reversed(list(tracker.events)):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == form:
            return True
    return False


def opening_text(tracker: Tracker, form: str) -> str | None:
    """The text of `opening_message`."""
    message = opening_message(tracker, form)
    text = message.get("text") if message else None
    return text if isinstance(text, str) else None


def opening_serials(tracker: Tracker, form: str) -> list[str]:
    """The distinct serials the opening message named (typed or pressed), normalised, in order."""
    message = opening_message(tracker, form) or {}
    entities = (message.get("parse_data") or {}).get("entities") or []
    named: list[str] = []
    for entity in entities:
        value = entity.get("value") if entity.get("entity") == "serial" else None
        for serial in find_serials(value) if isinstance(value, str) else []:
            if serial not in named:
                named.append(serial)
    return named


def description_from_opening(tracker: Tracker, form: str) -> dict[str, Any]:
    """``{"description": text}`` when the opening message describes the problem and nothing is filled yet."""
    if tracker.get_slot("description") is not None or tracker.get_slot(REQUESTED_SLOT) == "description":
        return {}  # already known, or the customer is answering the question itself (the slot mapping's job)
    if _charger_changed_since_opening(tracker, form):
        return {}  # the opening described another charger: its words are not this one's description
    described = describes_problem(opening_text(tracker, form) or "")
    return {"description": described} if described else {}


def _charger_changed_since_opening(tracker: Tracker, form: str) -> bool:
    """Whether the customer, past the form's start, gives a charger that the opening message did not name."""
    if tracker.get_slot(REQUESTED_SLOT) is None:
        return False  # the form is starting: the opening is about the charger it names
    named = opening_serials(tracker, form)
    given = [
        serial
        for value in [*tracker.get_latest_entity_values("serial"), tracker.get_slot("serial")]
        if isinstance(value, str)
        for serial in find_serials(value)
    ]
    # No charger yet (it is being asked again) or another one than the opening named.
    return bool(named) and (not given or any(serial not in named for serial in given))


def misread_in(value: Any, tracker: Tracker) -> list[tuple[str, str]]:
    """Serials typed with look-alike letters, in the slot value (free text) or the latest message."""
    texts = [value] if isinstance(value, str) else []
    latest = tracker.latest_message.get("text")
    if isinstance(latest, str) and not latest.startswith("/"):
        texts.append(latest)
    for text in texts:
        found = misread_serials(text)
        if found:
            return found
    return []


def serial_button(serials: Sequence[str], language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The button that answers with these serials, as Rasa reads a payload: ``/inform{"serial": ...}``; its title
    in `language`."""
    value: str | list[str] = serials[0] if len(serials) == 1 else list(serials)
    # Translators: a button answering "Did you mean …?" with the serial numbers of the chargers meant.
    title = texts(language).gettext("Yes, {serials}").format(serials=", ".join(serials))
    return {"title": title, "payload": "/inform" + json.dumps({"serial": value})}
