"""A Dutch customer in a shared channel, end to end over loopback: every text Slack shows them is Dutch.

The categories (ephemeral), the modal (title, labels, hints, options, buttons), the outcome in the modal and the
public "filed" note in the thread are searched for English: a sentence detected as another language, or a text that
is one of the English source texts (tests/languages/speaks.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.engine.responses import BotMessage
from portal.languages import Language
from portal.languages.detect import detect
from tests.languages.speaks import english_titles, leaks
from tests.slack.test_customer_journeys import CHANNEL, click, submit, thread_notes
from tests.support import payloads
from tests.support.harness import Harness, inputs


def texts_in(value: Any) -> list[str]:
    """Every Block Kit `text` string in a payload (plain_text and mrkdwn objects, wherever they are nested)."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for key, item in value.items() if key != "text" for t in texts_in(item)]
    if isinstance(value, list):
        return [t for item in value for t in texts_in(item)]
    return []


def not_in(language: Language, value: Any) -> list[str]:
    """The texts of a payload that are not in `language` (leaks, as the language transcripts check them)."""
    shown = texts_in(value)
    return leaks([BotMessage(text) for text in shown], language) + [
        text for text in shown if text in english_titles() and len(text) > 3
    ]


async def test_a_dutch_customer_sees_only_dutch_from_mention_to_filed_note(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(
        payloads.app_mention("U0CARLA", "<@UBOT> hallo, ik heb een vraag over onze laadpaal", CHANNEL, ts)
    )
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    assert not_in("nl", categories.args["blocks"]) == []
    await click(h, "U0CARLA", categories, "Een servicemelding voor een laadpaal")

    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    assert list(inputs(view)) == ["serial", "description"]
    assert not_in("nl", view) == [], json.dumps(view, ensure_ascii=False)

    answer = await submit(
        h,
        "U0CARLA",
        view,
        {
            "serial": payloads.static_select_value("10001R001"),
            "description": payloads.plain_text_value("Het scherm blijft zwart sinds maandag"),
        },
    )
    outcome = answer["view"]
    assert "ST-000001" in json.dumps(outcome)
    assert not_in("nl", outcome) == [], json.dumps(outcome, ensure_ascii=False)
    [note] = await thread_notes(h)
    assert "ST-000001" in note.args["text"]
    assert not_in("nl", note.args) == [], json.dumps(note.args, ensure_ascii=False)


@pytest.mark.parametrize(
    ("locale", "writes_first"),
    [("de-DE", None), ("en-GB", "<@UBOT> Hallo, die Ladestation 10001R001 lädt seit gestern nicht mehr")],
    ids=["from-slack-locale", "from-the-language-they-wrote-in"],
)
async def test_a_german_customers_app_home_is_german(slack: Harness, locale: str, writes_first: str | None) -> None:
    h = slack
    h.fake.users["U0CARLA"] = {**h.fake.users["U0CARLA"], "locale": locale}
    if writes_first:
        await h.sender.event(payloads.app_mention("U0CARLA", writes_first, CHANNEL, payloads.next_ts()))
        await h.fake.wait_for("chat.postEphemeral")
    status, _ = await h.sender.event(payloads.app_home_opened("U0CARLA"))
    assert status == 200
    [published] = await h.fake.wait_for("views.publish")
    view = published.args["view"]
    assert any(detect(text) == "de" for text in texts_in(view)), "the home tab speaks German"
    assert not_in("de", view) == [], json.dumps(view, ensure_ascii=False)
