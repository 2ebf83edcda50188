"""Steps several Slack tests share."""

from __future__ import annotations

from typing import Any

from tests.slack import payloads
from tests.slack.conftest import Harness, button

TRANSFER_REASON = "Bought from VoltWay with the installation in 2025"


async def open_transfer_modal(h: Harness, channel: str = "C0SHARED") -> dict[str, Any]:
    """ben mentions his broken charger, is told why, presses "Request a management transfer": the modal's view."""
    await h.sender.event(
        payloads.app_mention("U0BEN", "<@UBOT> our charger ACE0100002 is broken", channel, payloads.next_ts())
    )
    [why] = await h.fake.wait_for("chat.postEphemeral")
    block_id, action_id, value = button(why, "Request a management transfer")
    await h.sender.interaction(
        payloads.block_actions(
            "U0BEN",
            "T0HOME",
            channel,
            payloads.next_ts(),
            action_id,
            value=value,
            block_id=block_id,
            trigger_id=payloads.new_trigger_id(),
            is_ephemeral=True,
        )
    )
    [opened] = await h.fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


def transfer_state(description: str = TRANSFER_REASON) -> dict[str, Any]:
    """The transfer modal filled in: ACE0100002, a reason, the terms accepted."""
    return {
        "serials": {"value": payloads.plain_text_value("ACE0100002")},
        "description": {"value": payloads.plain_text_value(description)},
        "transfer_confirmed": {"value": payloads.checkboxes_value(["true"])},
    }
