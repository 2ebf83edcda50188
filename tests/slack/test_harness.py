"""The Slack test harness itself: the fake Web API through slack_sdk, Slack's signing, the sender's encodings,
and a throwaway bolt AsyncApp proving the payload builders route and verify as real Slack requests do."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.support import payloads as p
from tests.support.fake_slack import Call, FakeSlack, start_local_server
from tests.support.signing import STALE_SECONDS, SlackSender, signature_headers

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test"
HOME, EXT = "T0HOME", "T0EXT"
ANNA, ZOE, HIDDEN = "U0ANNA", "U0ZOE", "U0HIDDEN"
USERS: dict[str, dict[str, Any]] = {
    ANNA: {"team_id": HOME, "email": "anna@voltway.example", "name": "anna"},
    ZOE: {"team_id": EXT, "email": "zoe@greenfleet.example", "name": "zoe"},
    HIDDEN: {"team_id": EXT, "name": "hidden"},  # an org that hides e-mails from connected workspaces
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS) as server:
        yield server


def client_for(fake: FakeSlack, token: str | None = TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.base_url, **kwargs)


# ---------------------------------------------------------------------- fake Web API through slack_sdk


async def test_auth_test_users_info_and_post_message_through_slack_sdk(fake: FakeSlack) -> None:
    client = client_for(fake)

    auth = await client.auth_test()
    assert auth["user_id"] == "UBOT" and auth["bot_id"] == "B0BOT" and auth["team_id"] == HOME
    assert auth["is_enterprise_install"] is False and auth["url"].startswith("https://")
    assert "chat:write" in auth.headers["x-oauth-scopes"]

    info = await client.users_info(user=ANNA)
    user = info["user"]
    assert (user["id"], user["team_id"], user["name"], user["is_bot"]) == (ANNA, HOME, "anna", False)
    assert user["profile"]["email"] == "anna@voltway.example" and user["real_name"]

    first = await client.chat_postMessage(channel="C0SUPPORT", text="hello", thread_ts="1700000000.000100")
    second = await client.chat_postMessage(channel="C0SUPPORT", text="again", blocks=[{"type": "divider"}])
    assert first["channel"] == "C0SUPPORT" and first["ts"] == "1700000100.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["thread_ts"] == "1700000000.000100" and first["message"]["user"] == "UBOT"
    assert second["message"]["blocks"] == [{"type": "divider"}] and second["message"]["text"] == "again"

    assert [c.method for c in fake.calls] == ["auth.test", "users.info", "chat.postMessage", "chat.postMessage"]
    assert all(c.token == TOKEN and c.ok for c in fake.calls)
    assert fake.calls_to("users.info")[0].args == {"user": ANNA}
    posted = fake.calls_to("chat.postMessage")
    assert posted[0].args == {"channel": "C0SUPPORT", "text": "hello", "thread_ts": "1700000000.000100"}
    assert posted[1].args["blocks"] == [{"type": "divider"}]


async def test_users_info_unknown_user_and_hidden_email(fake: FakeSlack) -> None:
    client = client_for(fake)
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0NOBODY")
    assert raised.value.response["error"] == "user_not_found"

    hidden = (await client.users_info(user=HIDDEN))["user"]
    assert hidden["team_id"] == EXT and "email" not in hidden["profile"]
    assert (await client.users_info(user=ZOE))["user"]["team_id"] == EXT
    assert (await client.users_lookupByEmail(email="zoe@greenfleet.example"))["user"]["id"] == ZOE
    assert [c.ok for c in fake.calls] == [False, True, True, True]


async def test_requests_without_a_bot_token_are_refused_and_recorded(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake, token=None).chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake, token="xoxp-user").chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == "invalid_auth"
    assert [(c.method, c.token, c.ok) for c in fake.calls] == [
        ("chat.postMessage", None, False),
        ("chat.postMessage", "xoxp-user", False),
    ]


async def test_form_encoded_arguments_and_token_field_are_understood(fake: FakeSlack) -> None:
    form = {"token": "xoxb-form", "channel": "C1", "text": '{"not": "decoded"}', "blocks": '[{"type": "divider"}]'}
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.base_url + "chat.postMessage", data=form) as response,
    ):
        answer = await response.json()
    assert answer["ok"] is True
    call = fake.calls_to("chat.postMessage")[0]
    assert call.token == "xoxb-form"
    assert call.args == {"channel": "C1", "text": '{"not": "decoded"}', "blocks": [{"type": "divider"}]}


async def test_conversations_open_and_posting_to_a_user_id(fake: FakeSlack) -> None:
    client = client_for(fake)
    assert (await client.conversations_open(users=ANNA))["channel"]["id"] == "DU0ANNA"
    assert (await client.chat_postMessage(channel=ANNA, text="hi"))["channel"] == "DU0ANNA"
    ephemeral = await client.chat_postEphemeral(channel="C1", user=ANNA, text="psst")
    assert ephemeral["message_ts"]
    updated = await client.chat_update(channel="C1", ts="1700000100.000100", text="edited")
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", "1700000100.000100", "edited")
    assert (await client.usergroups_users_list(usergroup="S0AGENTS"))["users"] == []
    fake.usergroups["S0AGENTS"] = [ANNA]
    assert (await client.usergroups_users_list(usergroup="S0AGENTS"))["users"] == [ANNA]
    assert (await client.reactions_add(channel="C1", name="eyes", timestamp="1.2")).data == {"ok": True}


async def test_views_answer_with_generated_ids_and_echo_the_view(fake: FakeSlack) -> None:
    client = client_for(fake)
    modal = {
        "type": "modal",
        "callback_id": "service_ticket",
        "private_metadata": '{"step": 1}',
        "title": {"type": "plain_text", "text": "Service ticket"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "serial", "label": {"type": "plain_text", "text": "Serial"}}],
    }
    opened = (await client.views_open(trigger_id="1.2.abc", view=modal))["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert opened["callback_id"] == "service_ticket" and opened["private_metadata"] == '{"step": 1}'
    assert opened["blocks"] == modal["blocks"] and opened["state"] == {"values": {}}
    assert fake.calls_to("views.open")[0].args["view"] == modal

    updated = (await client.views_update(view_id=opened["id"], view={**modal, "callback_id": "step2"}))["view"]
    assert updated["id"] == opened["id"] and updated["callback_id"] == "step2"
    pushed = (await client.views_push(trigger_id="1.2.def", view=modal))["view"]
    assert pushed["id"] not in (opened["id"],)

    home = {"type": "home", "blocks": []}
    first = (await client.views_publish(user_id=ANNA, view=home))["view"]
    again = (await client.views_publish(user_id=ANNA, view=home))["view"]
    assert first["type"] == "home" and first["id"] == again["id"]
    assert fake.views[opened["id"]]["callback_id"] == "step2"

    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="", view=modal)
    assert raised.value.response["error"] == "invalid_arguments"


# ---------------------------------------------------------------------- failure injection


async def test_fail_next_429_surfaces_as_slack_api_error_without_retry_handlers(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    client = client_for(fake, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hi")
    response = raised.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "7"

    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True  # only once
    assert [(c.http_status, c.ok) for c in fake.calls_to("chat.postMessage")] == [(429, False), (200, True)]


async def test_fail_next_429_is_retried_by_slack_sdks_rate_limit_handler(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    client = client_for(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True
    assert [c.http_status for c in fake.calls_to("chat.postMessage")] == [429, 200]


async def test_fail_next_500_and_ok_false(fake: FakeSlack) -> None:
    client = client_for(fake, retry_handlers=[])
    fake.fail_next("views.open", status=500)
    fake.fail_next("views.open", status=200, error="expired_trigger_id")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="1.2.3", view=view)
    assert raised.value.response.status_code == 500
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="1.2.3", view=view)
    assert raised.value.response.status_code == 200 and raised.value.response["error"] == "expired_trigger_id"
    assert (await client.views_open(trigger_id="1.2.3", view=view))["ok"] is True

    fake.fail_next("auth.test", status=429, retry_after=None, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.auth_test()
        assert "Retry-After" not in raised.value.response.headers


# ---------------------------------------------------------------------- waiting


async def test_wait_for_returns_late_calls(fake: FakeSlack) -> None:
    client = client_for(fake)

    async def post_later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="one")
        await client.chat_postMessage(channel="C2", text="two")

    task = asyncio.create_task(post_later())
    calls = await fake.wait_for("chat.postMessage", count=2, timeout=2)
    assert [c.args["text"] for c in calls] == ["one", "two"]
    only_c2 = await fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "C2")
    assert len(only_c2) == 1
    await task


async def test_wait_for_times_out_with_a_helpful_assertion(fake: FakeSlack) -> None:
    await client_for(fake).chat_postMessage(channel="C1", text="the only message")
    with pytest.raises(AssertionError) as raised:
        await fake.wait_for("views.open", timeout=0.1)
    message = str(raised.value)
    assert "views.open" in message and "got 0" in message
    assert "chat.postMessage" in message and "the only message" in message

    with pytest.raises(AssertionError, match="matching the filter"):
        await fake.wait_for("chat.postMessage", timeout=0.05, where=lambda c: c.args.get("channel") == "C9")


async def test_assert_no_new_calls(fake: FakeSlack) -> None:
    client = client_for(fake)
    await client.chat_postMessage(channel="C1", text="before")
    await fake.assert_no_new_calls("chat.postMessage", duration=0.05)

    async def post_soon() -> None:
        await asyncio.sleep(0.01)
        await client.chat_postMessage(channel="C1", text="during")

    task = asyncio.create_task(post_soon())
    with pytest.raises(AssertionError, match="no new call"):
        await fake.assert_no_new_calls("chat.postMessage", duration=0.2)
    await task


async def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("r42")
    response = await AsyncWebhookClient(url).send(text="updated", replace_original=True)
    assert response.status_code == 200 and response.body == "ok"
    call = (await fake.wait_for("response_url"))[0]
    assert call.path == "/response/r42" and call.args == {"text": "updated", "replace_original": True}


# ---------------------------------------------------------------------- signing


def test_signature_headers_verify_with_slack_sdk() -> None:
    body = b'{"type":"event_callback"}'
    headers = signature_headers(SECRET, body)
    assert headers["X-Slack-Signature"].startswith("v0=") and len(headers["X-Slack-Signature"]) == 3 + 64
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert (
        verifier.generate_signature(timestamp=headers["X-Slack-Request-Timestamp"], body=body)
        == (headers["X-Slack-Signature"])
    )

    assert not verifier.is_valid_request(body + b" ", headers)  # tampered body
    assert not verifier.is_valid_request(body, signature_headers("not-the-secret", body))
    stale = signature_headers(SECRET, body, timestamp=int(time.time()) - STALE_SECONDS)
    assert not verifier.is_valid_request(body, stale)


# ---------------------------------------------------------------------- the sender, against an echo server


@dataclass
class Echo:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    captured: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        captured.append({"headers": dict(request.headers), "body": raw})
        return web.Response(status=201, text=f"echo {len(raw)}")

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner, port = await start_local_server(app)
    try:
        yield Echo(f"http://127.0.0.1:{port}/slack/events", captured)
    finally:
        await runner.cleanup()


def verified(request: dict[str, Any]) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(request["body"], request["headers"])


async def test_sender_wraps_events_in_slacks_envelope(echo: Echo) -> None:
    sender = SlackSender(echo.url, SECRET)
    event = p.app_mention(ANNA, "<@UBOT> my charger blinks red", "C0SUPPORT", "1700000500.000100")
    status, text = await sender.event(event, event_id="Ev0TEST00001")
    assert (status, text) == (201, f"echo {len(echo.last['body'])}")

    request = echo.last
    assert request["headers"]["Content-Type"] == "application/json" and verified(request)
    assert "X-Slack-Retry-Num" not in request["headers"]
    body = json.loads(request["body"])
    assert body["type"] == "event_callback" and body["event"] == event
    assert body["team_id"] == HOME and body["api_app_id"] == "A0CHARGEDESK" and body["token"]
    assert body["event_id"] == "Ev0TEST00001" and body["event_time"] == 1700000500
    assert body["authorizations"] == [
        {"enterprise_id": None, "team_id": HOME, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
    ]
    assert body["is_ext_shared_channel"] is False and body["event_context"].startswith("4-")
    assert event["blocks"][0]["elements"][0]["elements"][0] == {"type": "user", "user_id": "UBOT"}
    assert sender.last_envelope == body

    await sender.event(event, event_id="Ev0TEST00001", retry_num=1)
    assert echo.last["headers"]["X-Slack-Retry-Num"] == "1"
    assert echo.last["headers"]["X-Slack-Retry-Reason"] == "http_timeout"
    assert json.loads(echo.last["body"])["event_id"] == "Ev0TEST00001"

    await sender.event(p.message_im(ZOE, "hi", "DU0ZOE", "1700000600.000100", user_team=EXT))
    body = json.loads(echo.last["body"])
    assert body["is_ext_shared_channel"] is True and body["authorizations"][0]["team_id"] == HOME
    assert body["event"]["channel_type"] == "im" and body["event"]["user_team"] == EXT
    assert body["event_id"].startswith("Ev")


async def test_sender_form_encodes_interactions_and_commands(echo: Echo) -> None:
    sender = SlackSender(echo.url, SECRET)
    payload = p.block_actions(ANNA, HOME, "C0SUPPORT", "1700000100.000100", "approve", value="MT-000001")
    await sender.interaction(payload)
    request = echo.last
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded" and verified(request)
    form = parse_qs(request["body"].decode(), keep_blank_values=True, strict_parsing=True)
    assert list(form) == ["payload"] and json.loads(form["payload"][0]) == payload

    fields = p.slash_command(ANNA, HOME, "C0SUPPORT", text="status ACE0100002")
    await sender.command(fields)
    form = parse_qs(echo.last["body"].decode(), keep_blank_values=True, strict_parsing=True)
    assert {key: values[0] for key, values in form.items()} == fields and verified(echo.last)
    assert set(fields) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }

    await sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    body = json.loads(echo.last["body"])
    assert body["type"] == "url_verification" and body["challenge"].startswith("3eZ") and verified(echo.last)


async def test_sender_can_send_unsigned_wrongly_signed_stale_and_raw_requests(echo: Echo) -> None:
    sender = SlackSender(echo.url, SECRET)
    event = p.message_im(ANNA, "hi", "DU0ANNA", "1700000100.000100")

    await sender.event(event, signed=False)
    assert "X-Slack-Signature" not in echo.last["headers"]
    assert "X-Slack-Request-Timestamp" not in echo.last["headers"]

    await sender.event(event, secret="wrong")
    assert echo.last["headers"]["X-Slack-Signature"].startswith("v0=") and not verified(echo.last)

    await sender.interaction(p.shortcut(ANNA, HOME, "new_ticket"), timestamp=int(time.time()) - STALE_SECONDS)
    assert not verified(echo.last)
    assert (
        SignatureVerifier(SECRET).generate_signature(
            timestamp=echo.last["headers"]["X-Slack-Request-Timestamp"], body=echo.last["body"]
        )
        == echo.last["headers"]["X-Slack-Signature"]
    )  # correctly signed, only too old

    status, _ = await sender.raw(b"ssl_check=1&token=x", "application/x-www-form-urlencoded", {"X-Custom": "1"})
    assert status == 201 and echo.last["body"] == b"ssl_check=1&token=x" and echo.last["headers"]["X-Custom"] == "1"


# ---------------------------------------------------------------------- payload shapes


def test_payload_builders_follow_slacks_shapes() -> None:
    mention = p.app_mention(
        ZOE, "<@UBOT> hi", "C0SHARED", "1700000100.000100", thread_ts="1700000000.000100", user_team=EXT
    )
    assert (mention["type"], mention["team"], mention["user_team"], mention["thread_ts"]) == (
        "app_mention",
        EXT,
        EXT,
        "1700000000.000100",
    )
    assert "user_team" not in p.app_mention(ANNA, "<@UBOT> hi", "C1", "1.2")

    button = p.block_actions(ZOE, HOME, "C0SHARED", "1.2", "approve", value="yes", user_team=EXT)
    assert button["user"] == {"id": ZOE, "username": "user.u0zoe", "name": "user.u0zoe", "team_id": EXT}
    assert button["container"] == {
        "type": "message",
        "message_ts": "1.2",
        "channel_id": "C0SHARED",
        "is_ephemeral": False,
    }
    assert button["actions"][0]["type"] == "button" and button["actions"][0]["value"] == "yes"
    assert button["message"]["team"] == HOME and button["trigger_id"].count(".") == 2
    select = p.block_actions(ANNA, HOME, "D1", "1.2", "pick", selected_value="ACE1", is_ephemeral=True, thread_ts="1.1")
    assert select["actions"][0]["selected_option"]["value"] == "ACE1" and "message" not in select
    assert select["container"]["thread_ts"] == "1.1"
    with pytest.raises(ValueError, match="not both"):
        p.block_actions(ANNA, HOME, "D1", "1.2", "x", value="a", selected_value="b")

    values = {
        "serial": {"serial_input": p.plain_text_value("ACE0100002")},
        "kind": {"kind_select": p.static_select_value("repair", "Repair")},
        "site": {"site_select": p.external_select_value("S1")},
        "terms": {"terms_box": p.checkboxes_value(["accepted"])},
        "tags": {"tags_select": p.multi_static_select_value({"a": "A", "b": "B"})},
        "note": {"note_input": p.plain_text_value(None)},
    }
    submission = p.view_submission(ZOE, HOME, "service_ticket", '{"v":1}', values, user_team=EXT)
    view = submission["view"]
    assert view["state"]["values"]["serial"]["serial_input"] == {"type": "plain_text_input", "value": "ACE0100002"}
    assert view["state"]["values"]["kind"]["kind_select"]["selected_option"]["text"]["text"] == "Repair"
    assert view["state"]["values"]["tags"]["tags_select"]["selected_options"][1]["value"] == "b"
    assert (view["app_installed_team_id"], view["team_id"], submission["user"]["team_id"]) == (HOME, EXT, EXT)

    fields = p.slash_command(ZOE, HOME, "C0SHARED", user_team=EXT)
    assert fields["team_id"] == EXT and fields["is_enterprise_install"] == "false" and fields["command"] == "/support"
    assert p.message_action(ANNA, HOME, "C1", "to_ticket", "broken", "1.2")["message"]["user"] == "U0OTHER"


# ---------------------------------------------------------------------- a throwaway bolt app on loopback


@dataclass
class BoltRig:
    fake: FakeSlack
    sender: SlackSender
    seen: dict[str, Any]


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[BoltRig]:
    app = AsyncApp(client=client_for(fake), signing_secret=SECRET)
    seen: dict[str, Any] = {}

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: AsyncSay, context: AsyncBoltContext) -> None:
        seen["mention"] = {
            "team_id": context.team_id,
            "user_id": context.user_id,
            "actor_team_id": context.actor_team_id,
            "channel_id": context.channel_id,
        }
        await say(text=f"got {event['text']}", thread_ts=event.get("thread_ts") or event["ts"])

    @app.message("")
    async def direct_message(message: dict[str, Any], say: AsyncSay) -> None:
        await say(text=f"dm from {message['user']}")

    @app.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        seen["approve"] = body["actions"][0]["value"]
        await respond(text="approved", replace_original=True)

    @app.view("service_ticket")
    async def submit(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        seen["view_team"] = context.team_id
        serial = view["state"]["values"]["serial"]["serial_input"]["value"]
        await ack(response_action="errors", errors={"serial": f"unknown serial {serial}"})

    @app.options("site_select")
    async def suggest(ack: AsyncAck, payload: dict[str, Any]) -> None:
        await ack(options=[{"text": {"type": "plain_text", "text": payload["value"].upper()}, "value": "S1"}])

    @app.command("/support")
    async def support(ack: AsyncAck, command: dict[str, str]) -> None:
        await ack(text=f"support for {command['user_id']}: {command['text']}")

    @app.shortcut("new_ticket")
    async def new_ticket(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=shortcut["trigger_id"], view={"type": "modal", "blocks": []})

    @app.message_shortcut("to_ticket")
    async def to_ticket(ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        seen["to_ticket"] = shortcut["message"]["text"]

    runner, port = await start_local_server(app.web_app())
    try:
        yield BoltRig(fake, SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET), seen)
    finally:
        await runner.cleanup()


async def test_bolt_routes_the_builders_events(bolt: BoltRig) -> None:
    fake, sender = bolt.fake, bolt.sender
    status, _ = await sender.event(p.app_mention(ANNA, "<@UBOT> help", "C0SUPPORT", "1700000500.000100"))
    assert status == 200
    posted = (await fake.wait_for("chat.postMessage"))[0]
    # bolt's per-request client adds the workspace as a default `team_id` argument
    assert posted.args == {
        "channel": "C0SUPPORT",
        "text": "got <@UBOT> help",
        "thread_ts": "1700000500.000100",
        "team_id": HOME,
    }
    assert bolt.seen["mention"] == {
        "team_id": HOME,
        "user_id": ANNA,
        "actor_team_id": HOME,
        "channel_id": "C0SUPPORT",
    }

    await sender.event(p.app_mention(ZOE, "<@UBOT> hi", "C0SHARED", "1700000600.000100", user_team=EXT))
    await fake.wait_for("chat.postMessage", count=2)
    assert bolt.seen["mention"]["team_id"] == HOME and bolt.seen["mention"]["actor_team_id"] == EXT

    await sender.event(p.message_im(ANNA, "hello", "DU0ANNA", "1700000700.000100"))
    dm = await fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "DU0ANNA")
    assert dm[0].args["text"] == f"dm from {ANNA}"

    # bolt ignores the echo of the bot's own message (it learns the bot's ids from auth.test)
    await sender.event(p.bot_message("dm from U0ANNA", "DU0ANNA", "1700000800.000100"))
    await fake.assert_no_new_calls("chat.postMessage", duration=0.2)
    assert len(fake.calls_to("auth.test")) >= 1

    status, text = await sender.url_verification("challenge-123")
    assert status == 200 and "challenge-123" in text


async def test_bolt_routes_the_builders_interactions_and_commands(bolt: BoltRig) -> None:
    fake, sender = bolt.fake, bolt.sender
    response_url = fake.response_url("approve")
    action = p.block_actions(ANNA, HOME, "C0SUPPORT", "1.2", "approve", value="MT-1", response_url=response_url)
    assert (await sender.interaction(action))[0] == 200
    answered = (await fake.wait_for("response_url"))[0]
    assert answered.args["text"] == "approved" and bolt.seen["approve"] == "MT-1"

    values = {"serial": {"serial_input": p.plain_text_value("BAD1")}}
    status, text = await sender.interaction(p.view_submission(ZOE, HOME, "service_ticket", "", values, user_team=EXT))
    assert status == 200
    assert json.loads(text) == {"response_action": "errors", "errors": {"serial": "unknown serial BAD1"}}
    assert bolt.seen["view_team"] == HOME  # bolt takes view.app_installed_team_id

    status, text = await sender.interaction(
        p.block_suggestion(ANNA, HOME, "site_select", "site", "ber", "service_ticket")
    )
    assert status == 200 and json.loads(text)["options"][0]["text"]["text"] == "BER"

    status, text = await sender.command(p.slash_command(ANNA, HOME, "C0SUPPORT", text="status"))
    assert (status, text) == (200, f"support for {ANNA}: status")

    assert (await sender.interaction(p.shortcut(ANNA, HOME, "new_ticket")))[0] == 200
    opened: list[Call] = await fake.wait_for("views.open")
    assert opened[0].args["trigger_id"].count(".") == 2

    message = p.message_action(ANNA, HOME, "C0SUPPORT", "to_ticket", "my charger is broken", "1.2")
    assert (await sender.interaction(message))[0] == 200
    assert bolt.seen["to_ticket"] == "my charger is broken"

    assert (await sender.interaction(p.shortcut(ANNA, HOME, "nobody_listens")))[0] == 404


async def test_bolt_rejects_unsigned_wrongly_signed_and_stale_requests(bolt: BoltRig) -> None:
    sender, fake = bolt.sender, bolt.fake
    event = p.app_mention(ANNA, "<@UBOT> help", "C0SUPPORT", "1700000500.000100")
    assert (await sender.event(event, signed=False))[0] == 401
    assert (await sender.event(event, secret="not-the-secret"))[0] == 401
    assert (await sender.event(event, timestamp=int(time.time()) - STALE_SECONDS))[0] == 401
    assert (await sender.command(p.slash_command(ANNA, HOME, "C1"), secret="nope"))[0] == 401
    assert fake.calls_to("chat.postMessage") == []
