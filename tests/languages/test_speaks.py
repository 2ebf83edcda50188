"""The leak check of the language transcripts finds what it must (so a passing transcript means something)."""

from __future__ import annotations

from bot.engine.responses import BotMessage, Button
from tests.languages.speaks import leaks


def test_an_english_sentence_or_an_untranslated_button_in_a_dutch_answer_is_a_leak() -> None:
    english = "Please describe the problem: what happens and since when."
    dutch = "Beschrijf het probleem: wat gebeurt er en sinds wanneer?"
    mixed = BotMessage(f"{dutch} {english}", (Button("Cancel", "/cancel"), Button("Annuleren", "/cancel")))
    assert leaks([mixed], "nl") == [english, "Cancel"]
    assert leaks([BotMessage(dutch, (Button("Annuleren", "/cancel"),))], "nl") == []


def test_codes_and_borrowed_product_words_are_not_leaks() -> None:
    message = BotMessage("Servicemelding ST-000001 op ACE0100003 (Service Operator: CityCharge).")
    assert leaks([message], "de") == []
