"""Which language a message is in: clear sentences switch the conversation, short or mixed ones keep it."""

from __future__ import annotations

import pytest

from portal.languages import language_of
from portal.languages.detect import conversation_language, detect, evidence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mijn laadpaal ACE0100003 doet het niet meer", "nl"),
        ("Meine Ladestation lädt seit gestern nicht mehr", "de"),
        ("ma borne ne charge plus depuis hier", "fr"),
        ("my charger stopped charging yesterday", "en"),
        ("wat is een service operator?", "nl"),
        ("ik wil de status van mijn ticket weten", "nl"),
        ("je veux transférer mes bornes à notre société", "fr"),
    ],
)
def test_a_clear_sentence_names_its_language(text: str, expected: str) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize("text", ["ok", "ACE0100001", "10001R002 ST-000001", "ja", "👍", ":wave:", "", "<@U123> hi"])
def test_a_message_too_short_to_tell_names_none(text: str) -> None:
    assert detect(text) is None


def test_short_messages_keep_the_conversations_language_and_the_hint_comes_last() -> None:
    assert conversation_language("ok", "nl", "de") == "nl"
    assert conversation_language("ACE0100001", None, "de") == "de"
    assert conversation_language("ok", None, None) == "en"
    assert conversation_language("Meine Ladestation lädt nicht mehr", "nl", None) == "de"


def test_borrowed_product_words_and_codes_are_not_evidence() -> None:
    assert evidence("Service Operator ACE0100003 ticket ST-000001 https://x.example/a <@U1> :zap:") == ""


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("nl", "nl"), ("nl-BE", "nl"), ("de_AT", "de"), ("fr-FR", "fr"), ("en-US", "en"), ("es-ES", None), (None, None)],
)
def test_tags_and_slack_locales_map_to_our_languages(tag: object, expected: str | None) -> None:
    assert language_of(tag) == expected


def test_a_conversation_changes_language_only_on_strong_evidence() -> None:
    # Lingua alone puts short English replies in other languages ("talk soon" reads Dutch to it): they keep the
    # conversation's language; function words or a long sentence switch it.
    assert conversation_language("talk soon", "de") == "de"
    assert conversation_language("oops wrong charger, change it", "fr") == "fr"
    assert conversation_language("Entschuldigung, können wir bitte Deutsch sprechen?", "nl") == "de"
    assert conversation_language("sorry, can we please continue in English?", "fr") == "en"


def test_function_words_decide_where_trigrams_alone_would_not() -> None:
    # Lingua's trigram mode gives this German line to English with 0.81.
    assert detect("*Serviceticket* für Ladestation 10001R002, Garantie bis 20. August 2027") == "de"
