"""The Slack surface in the reader's language, end to end on loopback.

The catalogs are translated later, so every text is checked two ways: it equals `texts(language).gettext(source)`
(what the reader will see once the catalog is filled in), and the language CHOSEN is checked directly, either through
`People.language_for` or with "tagged" texts (`[de]…`) patched in where bot.slack picks the language.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from babel.support import NullTranslations
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.engine.engine import Engine, TurnResult
from bot.slack.egress import notifier as notifier_module
from bot.slack.ingress import conversations as conversations_module
from bot.slack.messages.blocks import ENTRY_TITLE
from bot.slack.messages.support import HELP
from bot.slack.messages.triage import triage_message
from bot.slack.people.registry import People, reader_language
from bot.slack.tables import slack_people
from portal import services
from portal.languages import language_of
from portal.languages.texts import Texts, texts
from portal.services.facts import RequestFacts
from tests.support import payloads
from tests.support.harness import Harness
from tests.support.journeys import Office, support_command

CARLA, BEN = "carla@citycharge.example", "ben@greenfleet.example"


class Tagged(NullTranslations):
    """Translations that say which language they are: "[de]" before every text."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.tag = f"[{language}]"

    def gettext(self, message: str) -> str:
        return self.tag + message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.tag + (singular if n == 1 else plural)


def tagged(language: object = None) -> Texts:
    chosen = language_of(language) or "en"
    return Texts(chosen, Tagged(chosen))


@pytest.fixture
def tag_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where bot.slack picks a reader's language (outside a turn, and in the notifier), texts say which it is."""
    monkeypatch.setattr(conversations_module, "texts", tagged)
    monkeypatch.setattr(notifier_module, "texts", tagged)


def set_locale(h: Harness, user: str, locale: str) -> None:
    """The locale users.info gives for `user` (a new entry: the cast's dicts are shared by every test)."""
    h.fake.users[user] = {**h.fake.users[user], "locale": locale}


def people_of(h: Harness) -> People:
    return People(h.portal.engine, AsyncWebClient(token="xoxb-test", base_url=h.fake.base_url))


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b.get("type") == "section"]


def button_titles(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# ------------------------------------------------------------------------------------------------ the choice


def test_the_reader_language_is_stored_then_locale_then_english() -> None:
    assert reader_language("nl", "de-DE") == "nl"
    assert reader_language(None, "de-DE") == "de"
    assert reader_language(None, "fr-CA") == "fr"
    # Forged or unknown values are passed over, never used as a catalog name.
    assert reader_language("../../etc", "xx-FORGED") == "en"
    assert reader_language("ja", "ja-JP") == "en"
    assert reader_language(None, None) == "en"


# ------------------------------------------------------------------------------------------------ /support


async def test_support_is_answered_in_the_slack_locale_language(slack: Harness, tag_languages: None) -> None:
    set_locale(slack, "U0CARLA", "de-DE")
    assert await people_of(slack).language_for("U0CARLA") == "de"

    answer = await support_command(slack, "U0CARLA", "help")

    [help_text] = section_texts(answer["blocks"])
    assert help_text == tagged("de").gettext(HELP)
    assert button_titles(answer["blocks"]) == [tagged("de").gettext(ENTRY_TITLE)]


async def test_support_text_is_the_german_catalogs(slack: Harness) -> None:
    """Without tags: the very text the German catalog gives (English until the catalog is translated)."""
    set_locale(slack, "U0CARLA", "de-DE")
    answer = await support_command(slack, "U0CARLA", "help")
    assert section_texts(answer["blocks"]) == [texts("de").gettext(HELP)]
    assert button_titles(answer["blocks"]) == [texts("de").gettext(ENTRY_TITLE)]


async def test_support_status_writes_days_in_the_readers_language(slack: Harness) -> None:
    """Dates need no catalog: the German reader's request list is dated the German way already."""
    set_locale(slack, "U0CARLA", "de-DE")
    ticket = await services.open_service_ticket(slack.portal.uow(), CARLA, "10001R001", "The display stays dark")
    answer = await support_command(slack, "U0CARLA", "status")
    text = "\n".join(section_texts(answer["blocks"]))
    assert ticket.reference in text
    assert texts("de").day(ticket.created_at.date()) in text
    assert texts("en").day(ticket.created_at.date()) not in text


async def test_a_forged_locale_falls_back_to_english(slack: Harness, tag_languages: None) -> None:
    set_locale(slack, "U0CARLA", "xx-FORGED<script>")
    assert await people_of(slack).language_for("U0CARLA") == "en"
    answer = await support_command(slack, "U0CARLA", "help")
    assert section_texts(answer["blocks"]) == [tagged("en").gettext(HELP)]


# ------------------------------------------------------------------------------------------------ after a turn


async def test_the_last_turns_language_is_stored_and_used(
    slack: Harness, tag_languages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carla's Slack is in German, but she writes in Dutch: the engine gets her locale as a hint, her turn's
    language is kept, and /support answers her in Dutch from then on."""
    set_locale(slack, "U0CARLA", "de-DE")
    seen: list[dict[str, Any]] = []
    turn = Engine.turn

    async def turn_in_dutch(self: Engine, sender_id: str, text: str, metadata: Any = None, **kw: Any) -> TurnResult:
        # The integrator's engine sets the `language` slot at every user turn; this stands in for its detection.
        seen.append(dict(metadata or {}))
        result = await turn(self, sender_id, text, metadata, **kw)
        return dataclasses.replace(result, slots={**result.slots, "language": "nl"})

    monkeypatch.setattr(Engine, "turn", turn_in_dutch)

    status, _ = await slack.sender.event(
        payloads.message_im("U0CARLA", "hallo, mijn laadpaal doet het niet", "D0CARLA", payloads.next_ts())
    )
    assert status == 200
    await slack.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0CARLA")

    assert seen and seen[0]["locale"] == "de-DE"  # the engine's hint
    async with slack.portal.engine.connect() as conn:
        stored = (
            await conn.execute(select(slack_people.c.language).where(slack_people.c.user_id == "U0CARLA"))
        ).scalar()
    assert stored == "nl"
    assert await people_of(slack).language_for("U0CARLA") == "nl"

    answer = await support_command(slack, "U0CARLA", "help")
    assert section_texts(answer["blocks"]) == [tagged("nl").gettext(HELP)]


# ------------------------------------------------------------------------------------------------ consent DMs


async def test_the_consent_dm_is_in_the_operators_language_not_the_requesters(
    slack: Harness, tag_languages: None
) -> None:
    set_locale(slack, "U0BEN", "de-DE")  # the requester
    set_locale(slack, "U0ANNA", "fr-FR")  # the current Service Operator's person
    origin = {"slack_user_id": "U0BEN", "slack_team_id": "T0HOME", "language": "de"}
    transfer = await services.request_transfer(
        slack.portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March", terms_accepted=True, origin=origin
    )
    await Office.of(slack).deliver()

    [ask] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "U0ANNA"]
    expected = tagged("fr").gettext("Management transfer {reference} needs your consent")
    assert ask.args["text"] == expected.format(reference=transfer.reference)
    assert button_titles(ask.args["blocks"]) == [tagged("fr").gettext("Consent"), tagged("fr").gettext("Decline")]
    assert "[de]" not in str(ask.args)
    assert await people_of(slack).language_for("U0ANNA") == "fr"


# ------------------------------------------------------------------------------------------------ agents


async def test_the_triage_card_names_the_customers_language(slack: Harness) -> None:
    words = "Mijn laadpaal geeft geen stroom meer"
    origin = {"slack_user_id": "U0CARLA", "slack_team_id": "T0HOME", "language": "nl"}
    ticket = await services.open_service_ticket(slack.portal.uow(), CARLA, "10001R001", words, origin=origin)
    await Office.of(slack).deliver()

    [card] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "C0TRIAGE"]
    shown = "\n".join(section_texts(card.args["blocks"]))
    assert "*Language:* Dutch" in shown  # agents read English by default
    assert words in shown  # the customer's words as written
    assert ticket.reference in shown


async def test_the_triage_card_is_in_the_agents_language() -> None:
    """CHARGEDESK_AGENT_LANGUAGE: the card's own words come from that language's catalog."""
    facts = await _facts_stub()
    text, _ = triage_message(facts, tagged("fr"))
    assert text.startswith("[fr]")
    _, blocks = triage_message(dataclasses.replace(facts, origin=None))
    assert "Language" not in str(blocks)


async def _facts_stub() -> RequestFacts:
    return RequestFacts(
        reference="ST-000001",
        kind="service_ticket",
        status="open",
        topic=None,
        description="kapot",
        requester_email=CARLA,
        organization=None,
        assignee=None,
        resolution=None,
        origin={"language": "nl"},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        chargers=(),
        history=(),
        operator_accounts=(),
        is_closed=False,
    )


def test_the_agent_language_setting_defaults_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    assert Settings().agent_language == "en"
    monkeypatch.setenv("CHARGEDESK_AGENT_LANGUAGE", "nl")
    assert Settings.from_env().agent_language == "nl"
