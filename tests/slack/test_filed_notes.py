"""The public note in a channel thread that a request was filed: once per request, however often it is submitted.

A modal submission whose turn failed after the request committed is answered with the request it filed (and the
thread told); the person, or Slack, then sends the same modal again, which finds the same request. The note comes
from the request's `request.opened` event, recorded once with the request, not from each submission's answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.messages.modals import FORM_CALLBACK
from tests.engine.test_filing_keys import tracker_write_fails
from tests.support import payloads
from tests.support.harness import Harness
from tests.support.journeys import Office, press_button

CHANNEL = "C0SHARED"


@pytest.fixture
def office(slack: Harness) -> Office:
    return Office.of(slack)


def filed_notes(h: Harness) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in h.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == CHANNEL and " filed " in str(c.args.get("text"))
    ]


async def submitted_twice(
    office: Office, user: str, category: str, state: dict[str, Any]
) -> tuple[tuple[int, str], tuple[int, str]]:
    """A customer opens `category`'s modal from a channel thread and presses Submit; the request is filed but the
    turn cannot be stored, and they press Submit again on the same modal (each press a new interaction). Both
    answers, after the notifier has run."""
    h = office.h
    await h.sender.event(payloads.app_mention(user, "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await press_button(h, user, categories, category, CHANNEL)
    [opened] = await h.fake.wait_for("views.open")
    view, view_id = opened.args["view"], opened.response["view"]["id"]

    def submission() -> dict[str, Any]:
        return payloads.view_submission(
            user, "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state, view_id=view_id
        )

    with tracker_write_fails(h.portal):
        first = await h.sender.interaction(submission())  # filed, but the turn could not be stored
    again = await h.sender.interaction(submission())  # pressed again: the same modal, the same request
    await office.deliver()
    return first, again


async def test_a_modal_submitted_again_after_a_failure_is_announced_once_in_its_thread(office: Office) -> None:
    state = {
        "serial": {"value": payloads.static_select_value("10001R002")},
        "description": {"value": payloads.plain_text_value("Socket 2 will not lock the cable")},
    }
    (status, first), (status_again, again) = await submitted_twice(
        office, "U0CARLA", "A service request on a charger", state
    )
    assert status == 200 and "ST-000001" in first
    assert status_again == 200 and "ST-000001" in again
    assert filed_notes(office.h) == [
        "<@U0CARLA> filed service ticket ST-000001. Support will follow up in this thread."
    ]


async def test_a_transfer_modal_submitted_again_after_a_failure_names_its_transfer(office: Office) -> None:
    """The transfer it filed is pending on the charger: that must not refuse the very modal that filed it."""
    state = {
        "serials": {"value": payloads.plain_text_value("ACE0100002")},
        "description": {"value": payloads.plain_text_value("Bought from VoltWay with the installation in 2025")},
        "transfer_confirmed": {"value": payloads.checkboxes_value(["true"])},
    }
    (status, first), (status_again, again) = await submitted_twice(office, "U0BEN", "A management transfer", state)
    assert status == 200 and "MT-000001" in first
    assert status_again == 200 and "MT-000001" in again and "already waiting" not in again
    assert filed_notes(office.h) == [
        "<@U0BEN> filed management transfer MT-000001. Support will follow up in this thread."
    ]
