"""What customers already said, in Slack: modals prefilled from their words, and "Did you mean …?" inline."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.adapters import tables
from tests.slack.test_customer_journeys import CHANNEL, click, raise_from_message, submit
from tests.support import payloads
from tests.support.harness import Harness, inputs, text_of


async def requests_in(h: Harness) -> list[tuple[str, str, str]]:
    rq = tables.requests
    async with h.portal.engine.connect() as conn:
        rows = await conn.execute(select(rq.c.reference, rq.c.status, rq.c.description).order_by(rq.c.id))
        return [(r.reference, r.status, r.description) for r in rows]


async def test_a_mention_that_describes_the_problem_prefills_the_modal(slack: Harness) -> None:
    h = slack
    said = "my charger is broken, it stopped charging and the display shows error 42"
    await h.sender.event(payloads.app_mention("U0CARLA", f"<@UBOT> {said}", CHANNEL, payloads.next_ts()))
    [asked] = await h.fake.wait_for("chat.postEphemeral")
    assert "serial number" in text_of(asked)
    await click(h, "U0CARLA", asked, "Open the form: Service request")
    [opened] = await h.fake.wait_for("views.open")
    fields = inputs(opened.args["view"])
    assert fields["description"]["initial_value"] == said  # not asked twice
    done = await submit(
        h,
        "U0CARLA",
        opened.args["view"],
        {"serial": payloads.static_select_value("10001R002"), "description": payloads.plain_text_value(said)},
    )
    assert "ST-000001" in json.dumps(done["view"])
    assert await requests_in(h) == [("ST-000001", "open", said)]


async def test_a_mistyped_serial_in_the_transfer_modal_gets_did_you_mean_inline(slack: Harness) -> None:
    h = slack
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await click(h, "U0BEN", categories, "A management transfer")
    [opened] = await h.fake.wait_for("views.open")
    values = {
        "serials": payloads.plain_text_value("ACEO1OOOO2"),
        "description": payloads.plain_text_value("We bought the site and its charger from VoltWay"),
        "transfer_confirmed": payloads.checkboxes_value(["true"]),
    }
    answer = await submit(h, "U0BEN", opened.args["view"], values)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"serials"}
    assert "Did you mean ACE0100002?" in answer["errors"]["serials"]
    assert await requests_in(h) == []  # never a silent guess

    values["serials"] = payloads.plain_text_value("ACE0100002")
    done = await submit(h, "U0BEN", opened.args["view"], values)
    assert "MT-000001" in json.dumps(done["view"])


async def test_a_message_shortcut_prefills_the_serial_it_names(slack: Harness) -> None:
    h = slack
    text = "10001 r 002 at gate 3 shows error 42 since this morning"
    _, answer = await raise_from_message(h, "U0CARLA", text, payloads.next_ts())
    form = inputs(answer["view"])
    assert form["serial"]["initial_option"]["value"] == "10001R002"
    assert form["description"]["initial_value"] == text
