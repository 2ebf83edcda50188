"""Block Kit rendering, modal building and the email cache, without a server."""

from __future__ import annotations

from typing import Any

from bot.engine.design import ConversationDesign
from bot.engine.responses import BotMessage, Button
from bot.engine.understanding import Interpreter
from bot.slack.ingress.context import Conversation
from bot.slack.messages.blocks import render, thread_of_block
from bot.slack.messages.modals import CHARGER_SEARCH, form_view, read_values
from bot.slack.people.identity import CACHE_SECONDS, Directory
from bot.slack.people.registry import LOOKUP_CACHE_SECONDS, People

CONVERSATION = Conversation("T0HOME", "U0CARLA", "C0SHARED", "1700000000.000100", "channel")


def test_user_text_is_escaped_so_mentions_are_shown_not_sent() -> None:
    text, blocks = render([BotMessage("hi <!channel> & <@U123> <https://evil|click>")], None)
    assert blocks[0]["text"]["text"] == "hi &lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"
    assert "<" not in text


def test_up_to_five_buttons_then_a_select() -> None:
    five = tuple(Button(f"Option {i}", f"/intent_{i}") for i in range(5))
    _, blocks = render([BotMessage("Pick", five)], "1700000000.000100")
    assert [e["type"] for e in blocks[1]["elements"]] == ["button"] * 5
    assert thread_of_block(blocks[1]["block_id"]) == "1700000000.000100"
    _, blocks = render([BotMessage("Pick", (*five, Button("Option 5", "/intent_5")))], None)
    [select] = blocks[1]["elements"]
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == [f"/intent_{i}" for i in range(6)]
    assert thread_of_block(blocks[1]["block_id"]) is None


def test_the_charger_choice_becomes_a_search_beyond_100(trained: tuple[ConversationDesign, Interpreter]) -> None:
    domain = trained[0].domain
    few = form_view(domain, "service_ticket_form", {"serial": "ACE0000002"}, CONVERSATION, ["ACE0000001", "ACE0000002"])
    serial = few["blocks"][0]["element"]
    assert serial["type"] == "static_select"
    assert serial["initial_option"]["value"] == "ACE0000002"
    many = [f"ACE{i:07d}" for i in range(101)]
    search = form_view(domain, "service_ticket_form", {}, CONVERSATION, many)["blocks"][0]["element"]
    assert (search["type"], search["action_id"]) == ("external_select", CHARGER_SEARCH)
    none = form_view(domain, "service_ticket_form", {}, CONVERSATION, [])["blocks"][0]["element"]
    assert none["type"] == "plain_text_input"  # nothing to choose from: type the serial


def test_submitted_values_are_typed_for_their_slots(trained: tuple[ConversationDesign, Interpreter]) -> None:
    domain = trained[0].domain
    state: dict[str, Any] = {
        "serials": {"value": {"type": "plain_text_input", "value": "ACE0100002, ACE0100001"}},
        "description": {"value": {"type": "plain_text_input", "value": "   "}},
        "transfer_confirmed": {"value": {"type": "checkboxes", "selected_options": [{"value": "true"}]}},
    }
    assert read_values(domain, "transfer_form", state) == {
        "serials": "ACE0100002, ACE0100001",
        "description": None,
        "transfer_confirmed": True,
    }
    state["transfer_confirmed"]["value"]["selected_options"] = []
    assert read_values(domain, "transfer_form", state)["transfer_confirmed"] is False


class CountingClient:
    def __init__(self) -> None:
        self.calls = 0

    async def users_info(self, user: str, include_locale: bool = False) -> dict[str, Any]:
        self.calls += 1
        return {"ok": True, "user": {"id": user, "profile": {"email": f"{user.lower()}@example.com"}}}


async def test_emails_are_cached_for_a_while() -> None:
    now = [0.0]
    client = CountingClient()
    directory = Directory(client, None, clock=lambda: now[0])  # type: ignore[arg-type]
    assert (await directory.profile("U1")).email == "u1@example.com"
    now[0] = CACHE_SECONDS - 1
    assert (await directory.profile("U1")).email == "u1@example.com"
    assert client.calls == 1
    now[0] = CACHE_SECONDS + 1
    await directory.profile("U1")
    assert client.calls == 2


async def test_the_profile_cache_is_bounded_least_recently_used_first() -> None:
    client = CountingClient()
    directory = Directory(client, None, cache_size=2)  # type: ignore[arg-type]
    for user in ("U1", "U2", "U1", "U3"):  # U2 is the least recently used when U3 comes
        await directory.profile(user)
    assert client.calls == 3
    await directory.profile("U1")
    assert client.calls == 3
    await directory.profile("U2")  # forgotten: asked again
    assert client.calls == 4


class LookupClient:
    def __init__(self) -> None:
        self.calls = 0

    async def users_lookupByEmail(self, email: str) -> dict[str, Any]:
        self.calls += 1
        return {"ok": True, "user": {"id": f"U{self.calls}", "team_id": "T0HOME", "profile": {"email": email}}}


async def test_email_look_ups_are_cached_for_a_while_and_bounded() -> None:
    now = [0.0]
    client = LookupClient()
    people = People(None, client, directory=object(), monotonic=lambda: now[0], cache_size=2)  # type: ignore[arg-type]
    assert await people._lookup("a@example.com") == ("U1", "T0HOME", None)
    now[0] = LOOKUP_CACHE_SECONDS - 1
    assert await people._lookup("a@example.com") == ("U1", "T0HOME", None)
    assert client.calls == 1
    now[0] = LOOKUP_CACHE_SECONDS + 1
    assert await people._lookup("a@example.com") == ("U2", "T0HOME", None)
    for email in ("b@example.com", "c@example.com"):
        await people._lookup(email)
    assert client.calls == 4
    await people._lookup("a@example.com")  # pushed out by b and c
    assert client.calls == 5
