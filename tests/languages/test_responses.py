"""Every domain response speaks every language, and the engine answers in the conversation's language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.config import DESIGN_ROOT
from bot.engine.design import load_design
from bot.engine.engine import Engine
from bot.engine.responses import render
from portal.languages import LANGUAGES

RESPONSES = load_design(DESIGN_ROOT).domain.responses
PLACEHOLDER = re.compile(r"{([^{}\n]+)}")
CARLA = {"requester": {"email": "carla@citycharge.example"}}


def _variation(name: str, language: str) -> list[dict[str, Any]]:
    return [
        v
        for v in RESPONSES[name]
        if any(c.get("name") == "language" and c.get("value") == language for c in v.get("condition") or [])
    ]


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_each_response_has_one_variation_per_language_saying_the_same_things(name: str) -> None:
    english = [v for v in RESPONSES[name] if not v.get("condition")]
    assert len(english) == 1, "one English default, without a condition"
    source = english[0]
    for language in LANGUAGES[1:]:
        found = _variation(name, language)
        assert len(found) == 1, f"{name} has {len(found)} {language} variations"
        translated = found[0]
        assert set(PLACEHOLDER.findall(translated["text"])) == set(PLACEHOLDER.findall(source["text"])), language
        payloads = [b["payload"] for b in source.get("buttons") or []]
        assert [b["payload"] for b in translated.get("buttons") or []] == payloads, language
        if len(source["text"].split()) >= 3:
            assert translated["text"] != source["text"], f"{name} is not translated into {language}"


def test_a_language_slot_picks_its_variation_and_anything_else_the_english_default() -> None:
    variations = RESPONSES["utter_greet"]
    english = render("utter_greet", variations, {"language": None}, {})
    dutch = render("utter_greet", variations, {"language": "nl"}, {})
    unknown = render("utter_greet", variations, {"language": "es"}, {})
    assert english.text == variations[0]["text"]
    assert dutch.text == _variation("utter_greet", "nl")[0]["text"] != english.text
    assert unknown.text == english.text


async def test_the_conversation_goes_on_in_the_language_it_was_written_in(engine: Engine) -> None:
    await engine.handle("lang-1", "hallo, ik heb een vraag over mijn laadpaal", CARLA)
    assert (await engine.tracker("lang-1")).slots["language"] == "nl"
    # Too short to tell: the conversation keeps Dutch, and the answer is the Dutch variation.
    reply = await engine.handle("lang-1", "/greet", CARLA)
    assert reply[0].text == _variation("utter_greet", "nl")[0]["text"]
    await engine.handle("lang-1", "ok", CARLA)
    assert (await engine.tracker("lang-1")).slots["language"] == "nl"
    # A clear sentence in another language switches.
    await engine.handle("lang-1", "Entschuldigung, können wir bitte Deutsch sprechen?", CARLA)
    assert (await engine.tracker("lang-1")).slots["language"] == "de"


async def test_a_forced_language_wins_and_a_forged_one_changes_nothing(engine: Engine) -> None:
    await engine.handle("lang-2", "hello, I have a question about my charger", {**CARLA, "language": "fr"})
    assert (await engine.tracker("lang-2")).slots["language"] == "fr"
    await engine.handle("lang-3", "hello, I have a question about my charger", {**CARLA, "language": "xx"})
    assert (await engine.tracker("lang-3")).slots["language"] == "en"
    await engine.handle("lang-4", "ACE0100001", {**CARLA, "locale": "de-DE"})
    assert (await engine.tracker("lang-4")).slots["language"] == "de"
