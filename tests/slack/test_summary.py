"""The summary before filing over Slack (issue 13 §5): typed field by field in a DM, then Submit / Change / Cancel.

Pressing *Change something* (a button, so Slack gives a trigger) opens the form as a modal with everything the
customer wrote: the modal is its own summary, has no input for the confirmation, and Send files.
"""

from __future__ import annotations

import json

from bot.slack.messages.modals import FORM_CALLBACK
from portal import services
from tests.support import payloads
from tests.support.harness import Harness, inputs, text_of
from tests.support.journeys import press_button

DM = "D0CARLA"


async def _summary(h: Harness) -> None:
    for count, words in enumerate(("I need a repair on a charger", "10001R002", "Socket 2 will not lock the cable"), 1):
        await h.sender.event(payloads.message_im("U0CARLA", words, DM, payloads.next_ts()))
        await h.fake.wait_for("chat.postMessage", count=count)


async def test_change_on_the_summary_opens_the_form_as_a_modal_and_send_files(slack: Harness) -> None:
    h = slack
    await _summary(h)
    [*_, summary] = h.fake.calls_to("chat.postMessage")
    assert "Socket 2 will not lock the cable" in text_of(summary)
    await press_button(h, "U0CARLA", summary, "Change something", DM)
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    fields = inputs(view)
    assert list(fields) == ["serial", "description"]  # no input for the confirmation: the modal is the summary
    assert fields["description"]["initial_value"] == "Socket 2 will not lock the cable"
    assert await services.list_requests(h.portal.uow(), "carla@citycharge.example") == []
    state = {
        "serial": {"value": payloads.static_select_value("10001R002")},
        "description": {"value": payloads.plain_text_value("Socket 2 will not lock the cable, since Monday")},
    }
    status, body = await h.sender.interaction(
        payloads.view_submission("U0CARLA", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state)
    )
    assert status == 200
    assert "ST-000001" in json.dumps(json.loads(body))
    [ticket] = await services.list_requests(h.portal.uow(), "carla@citycharge.example")
    assert ticket.reference == "ST-000001"


async def test_cancel_on_the_summary_files_nothing(slack: Harness) -> None:
    h = slack
    await _summary(h)
    [*_, summary] = h.fake.calls_to("chat.postMessage")
    await press_button(h, "U0CARLA", summary, "Cancel", DM)
    [*_, cancelled] = await h.fake.wait_for("chat.postMessage", count=4)
    assert "Nothing was filed" in json.dumps(cancelled.args)
    assert h.fake.calls_to("views.open") == []
    assert await services.list_requests(h.portal.uow(), "carla@citycharge.example") == []
