"""The texts the actions build in Python speak the conversation's language (the tracker's `language` slot).

A small Dutch catalog stands in for the real one (whose translations are filled in later): the actions must pass
its texts, Dutch dates and Dutch labels, and keep every button's payload as it is in English.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from actions.ask import ActionAskSerial
from actions.flow import ActionAskRequestConfirmed, ActionAskTransferConfirmed
from actions.requester import origin_of
from actions.service_ticket import ValidateServiceTicketForm
from actions.status import ActionShowStatus
from actions.withdraw import ActionWithdrawRequest
from portal import services
from portal.bootstrap import Portal
from portal.languages import texts as texts_module
from portal.languages.texts import DOMAIN, catalog_path, texts
from tests.actions.support import run, tracker

CARLA = "carla@citycharge.example"
DUTCH = {
    "Cancel": "Annuleren",
    "I don't know the serial": "Ik weet het serienummer niet",
    "Change something": "Iets wijzigen",
    "service ticket": "servicemelding",
    "open, waiting for support to pick it up": "open, wacht tot support het oppakt",
    "{reference}: {kind} ({serials}), {status}; opened {day}": (
        "{reference}: {kind} ({serials}), {status}; geopend op {day}"
    ),
    "under warranty until {day}": "onder garantie tot {day}",
    "out of warranty since {day}": "buiten garantie sinds {day}",
    "Yes, withdraw {reference}": "Ja, {reference} intrekken",
    "No, keep it": "Nee, laat maar staan",
}


@pytest.fixture
def dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`texts("nl")` reads a small Dutch catalog for the test's length."""
    catalog = Catalog(locale="nl_NL", domain=DOMAIN)
    for source, translation in DUTCH.items():
        catalog.add(source, translation)
    path = catalog_path("nl", tmp_path)
    path.parent.mkdir(parents=True)
    with path.open("wb") as target:
        write_po(target, catalog)
    monkeypatch.setattr(texts_module, "LOCALE_DIR", tmp_path)
    texts.cache_clear()
    yield
    texts.cache_clear()


@pytest.mark.usefixtures("dutch")
async def test_the_status_line_reads_in_dutch(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    _, messages = await run(ActionShowStatus(portal), tracker(CARLA, "ask_status", slots={"language": "nl"}))
    opened = texts("nl").day(date(2026, 11, 24))  # the demo clock's day
    assert opened == "24 november 2026"
    assert messages[0]["status_lines"] == (
        f"• {ticket.reference}: servicemelding (10001R002), open, wacht tot support het oppakt; geopend op {opened}"
    )
    # Without a language, or with one we do not speak, the same line is English.
    for slots in ({}, {"language": "xx"}):
        _, english = await run(ActionShowStatus(portal), tracker(CARLA, "ask_status", slots=slots))
        assert english[0]["status_lines"] == (
            f"• {ticket.reference}: service ticket (10001R002), open, waiting for support to pick it up; "
            "opened 24 November 2026"
        )


@pytest.mark.usefixtures("dutch")
async def test_button_titles_are_dutch_and_payloads_unchanged(portal: Portal) -> None:
    _, dutch = await run(ActionAskSerial(portal), tracker(CARLA, "request_service_ticket", slots={"language": "nl"}))
    _, english = await run(ActionAskSerial(portal), tracker(CARLA, "request_service_ticket"))
    titles = [b["title"] for b in dutch[0]["buttons"]]
    assert titles == ["10001R001", "10001R002", "Ik weet het serienummer niet", "Annuleren"]
    assert [b["payload"] for b in dutch[0]["buttons"]] == [b["payload"] for b in english[0]["buttons"]]

    terms = tracker(CARLA, "inform", slots={"language": "nl", "serials": ["ACE0100002"]}, active_loop="transfer_form")
    _, asked = await run(ActionAskTransferConfirmed(), terms)
    assert [b["title"] for b in asked[1]["buttons"]] == ["Iets wijzigen", "Annuleren"]
    assert [b["payload"] for b in asked[1]["buttons"]] == ["/change", "/cancel"]


@pytest.mark.usefixtures("dutch")
async def test_the_summary_and_the_warranty_date_are_dutch(portal: Portal) -> None:
    decision = await services.check_eligibility(portal.uow(), CARLA, "10001R001")
    assert decision.warranty_until is not None
    until = texts("nl").day(decision.warranty_until)
    assert until != texts("en").day(decision.warranty_until)  # a Dutch month name
    wording = "onder garantie tot" if decision.in_warranty else "buiten garantie sinds"

    summary = tracker(
        CARLA,
        "inform",
        slots={"language": "nl", "serial": "10001R001", "description": "Socket 2 stops after a minute"},
        active_loop="service_ticket_form",
    )
    _, messages = await run(ActionAskRequestConfirmed(portal), summary)
    assert messages[0]["warranty_text"] == f"{wording} {until}"

    validated = tracker(
        CARLA,
        text="10001R001",
        slots={"language": "nl", "requested_slot": "serial"},
        set_this_turn={"serial": "10001R001"},
        active_loop="service_ticket_form",
    )
    slots, _ = await run(ValidateServiceTicketForm(portal), validated)
    assert slots["warranty_until"] == until  # handed to utter_ticket_opened_* as is


@pytest.mark.usefixtures("dutch")
async def test_withdrawing_asks_in_dutch(portal: Portal) -> None:
    await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    asked = tracker(
        CARLA,
        "withdraw_request",
        entities=[{"entity": "reference", "value": "ST-000001"}],
        slots={"language": "nl"},
    )
    _, messages = await run(ActionWithdrawRequest(portal), asked)
    assert messages[0]["what"] == "servicemelding ST-000001 (10001R002)"
    assert [b["title"] for b in messages[0]["buttons"]] == ["Ja, ST-000001 intrekken", "Nee, laat maar staan"]
    assert messages[0]["buttons"][0]["payload"] == (
        '/withdraw_request{"reference": "ST-000001", "withdraw_answer": "yes"}'
    )


def test_babels_month_names_are_dutch_before_any_translation() -> None:
    assert texts("nl").day(date(2027, 2, 1)) == "1 februari 2027"
    assert "februari" in texts("nl").day(date(2027, 2, 14))


@pytest.mark.parametrize(("slots", "language"), [({"language": "de"}, "de"), ({}, "en"), ({"language": None}, "en")])
def test_the_origin_carries_the_requesters_language(slots: dict[str, object], language: str) -> None:
    origin = origin_of(tracker(CARLA, slots=slots))
    assert origin is not None
    assert origin["language"] == language
