"""Issue 13 §9 in the transfer modal: the terms are shown, and no `{serials_text}` is shown literally."""

from __future__ import annotations

from typing import Any

from bot.engine.design import ConversationDesign
from bot.engine.understanding import Interpreter
from bot.slack.ingress.context import Conversation
from bot.slack.messages.modals import form_view

CONVERSATION = Conversation("T0HOME", "U0BEN", "C0SHARED", "1700000000.000100", "channel")


def texts(value: Any) -> list[str]:
    """Every `text` a person reads in a Block Kit structure."""
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    if not isinstance(value, dict):
        return []
    own = [value["text"]] if isinstance(value.get("text"), str) else []
    return own + [t for v in value.values() for t in texts(v)]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_transfer_modal_shows_the_terms_and_no_placeholder(trained: tuple[ConversationDesign, Interpreter]) -> None:
    domain = trained[0].domain
    for slots in ({}, {"serials": ["ACE0100002"], "serials_text": "ACE0100002"}):
        view = form_view(domain, "transfer_form", slots, CONVERSATION)
        assert not [t for t in texts(view["blocks"]) if "{" in t]  # no template braces, whatever the form knows yet
        terms = block(view, "transfer_confirmed")
        hint = terms["hint"]["text"]
        assert "current Service Operator is asked for permission first" in hint
        assert "Support then checks the request and decides" in hint
        assert "the chargers move to your organization" in hint
        [option] = terms["element"]["options"]
        # The checkbox's own text is whole (Slack shows at most 75 characters of it), not a cut sentence.
        assert option["text"]["text"] == "I accept the terms of the management transfer"


def test_other_hints_are_the_questions_filled_with_what_is_known(
    trained: tuple[ConversationDesign, Interpreter],
) -> None:
    domain = trained[0].domain
    view = form_view(domain, "service_ticket_form", {}, CONVERSATION)
    assert "label on the bottom" in block(view, "serial")["hint"]["text"]
