"""Any text, from anyone: every signed request is acknowledged, reaches its handler, and breaks nothing.

Property-based: hypothesis generates slash-command texts, message texts and modal values (any Unicode, control
and zero-width characters, right-to-left scripts, Slack markup, SQL fragments) and sends them through the real
HTTP endpoint with valid signatures.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.slack.messages.modals import FORM_CALLBACK
from portal.domain.conversation import is_plea_for_help, process_question
from portal.domain.text import without_control_characters
from tests.slack.conftest import slack  # noqa: F401  (the `slack` fixture)
from tests.support import payloads
from tests.support.harness import (
    Harness,
    button,
    text_of,
)

NASTY = [
    "<!channel> <!here> <@U0AGENT> please look",
    "<https://evil.example|click here> *bold* _it_ ~x~ `code` > quote",
    "'; DROP TABLE requests; -- ACE0100002",
    "\u202eRTL override ACE0100002\u202c and \u200bzero\u200dwidth\ufeff",
    "\x00\x01\x07 control characters \x1b[31m",
    "مرحبا، شاحني لا يعمل",  # Arabic
    "我的充电桩坏了 10001R002",
    "x" * 10_000,
]
TEXTS = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=300))
_responses = itertools.count(1)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=TEXTS)
async def test_any_direct_message_gets_an_answer(slack: Harness, text: str) -> None:  # noqa: F811
    h = slack
    channel = f"D{abs(hash(text)) % 10**8:08d}"
    before = len([c for c in h.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel])
    status, _ = await h.sender.event(payloads.message_im("U0CARLA", text, channel, payloads.next_ts()))
    assert status == 200
    replies = await h.fake.wait_for(
        "chat.postMessage", count=before + 1, timeout=10, where=lambda c: c.args.get("channel") == channel
    )
    shown = json.dumps(replies[-1].args)
    assert "<!channel>" not in shown and "<!here>" not in shown  # never acted on when shown back


@SETTINGS
@given(text=TEXTS)
async def test_any_slash_command_gets_an_ephemeral_answer(slack: Harness, text: str) -> None:  # noqa: F811
    # Acknowledged at once with nothing; the answer comes through the command's response_url.
    name = f"bad{next(_responses)}"
    status, body = await slack.sender.command(
        payloads.slash_command("U0CARLA", "T0HOME", "C0SHARED", text=text, response_url=slack.fake.response_url(name))
    )
    assert (status, body) == (200, "")
    [posted] = await slack.fake.wait_for("response_url", timeout=10, where=lambda c: c.path == f"/response/{name}")
    answer = posted.args
    assert answer.get("response_type") == "ephemeral"
    assert answer.get("text") or answer.get("blocks")
    assert "<!channel>" not in json.dumps(answer)


@SETTINGS
@given(description=TEXTS)
@example(description="WHAT")  # found by this test in CI: a plea for help, not a too-short description
@example(description="how long will this take?")
async def test_any_modal_description_is_accepted_or_refused_on_its_field(slack: Harness, description: str) -> None:  # noqa: F811
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> I have a question", "C0SHARED", ts))
    categories = (await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("thread_ts") == ts))[-1]
    block_id, action_id, value = button(categories, "A service request on a charger")
    trigger = payloads.new_trigger_id()
    await h.sender.interaction(
        payloads.block_actions(
            "U0CARLA",
            "T0HOME",
            "C0SHARED",
            payloads.next_ts(),
            action_id,
            value=value,
            block_id=block_id,
            trigger_id=trigger,
            is_ephemeral=True,
        )
    )
    [opened] = await h.fake.wait_for("views.open", where=lambda c: c.args.get("trigger_id") == trigger)
    state = {
        "serial": {"value": payloads.static_select_value("10001R002")},
        "description": {"value": payloads.plain_text_value(description)},
    }
    status, body = await h.sender.interaction(
        payloads.view_submission(
            "U0CARLA", "T0HOME", FORM_CALLBACK, str(opened.args["view"]["private_metadata"]), state
        )
    )
    assert status == 200
    answer = json.loads(body)
    cleaned = without_control_characters(description).strip()  # the rule unit-tested in test_lifecycles
    if is_plea_for_help(description) or process_question(description) is not None:
        # "WHAT", "help", "how long will this take?": answered on the field (help, or the answer), never filed.
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"description"}
    elif 10 <= len(cleaned) <= 3000:
        assert answer["response_action"] == "update"
        assert "ST-" in json.dumps(answer["view"])
    else:  # limits enforced with a clear message on the field
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"description"}
        assert "characters" in answer["errors"]["description"]


async def test_mentions_and_markup_are_never_acted_on_when_echoed(slack: Harness) -> None:  # noqa: F811
    h = slack
    await h.sender.event(
        payloads.app_mention(
            "U0CARLA", "<@UBOT> status <!channel> <@U0AGENT> <https://x|y>", "C0SHARED", payloads.next_ts()
        )
    )
    [reply] = await h.fake.wait_for("chat.postEphemeral")
    shown = text_of(reply) + reply.args.get("text", "")
    for raw in ("<!channel>", "<@U0AGENT>", "<https://x|y>"):
        assert raw not in shown
