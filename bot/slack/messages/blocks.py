"""Block Kit for what the assistant says: escaped text, buttons, and a select when there are many choices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.engine.responses import BotMessage, Button
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import N_, Texts

PRESS = "chargedesk_press"  # action ids of buttons: chargedesk_press_0, _1, …
CHOOSE = "chargedesk_choose"  # the select that replaces more than MAX_BUTTONS buttons
OPEN_FORM = "chargedesk_open_form"  # opens the active form as a modal
MAX_BUTTONS = 5
MAX_SECTION = 3000  # Slack's limit for a section's text
BLOCK_PREFIX = "cd"

ENTRY_TEXT = N_("Need help with a charger or your support account? Press the button and I'll guide you.")
ENTRY_TITLE = N_("I have a question")
ENTRY_PAYLOAD = "/have_question"
ENTRY_BUTTON = Button(ENTRY_TITLE, ENTRY_PAYLOAD)  # in English; `entry_button(t)` in the reader's language


def entry_button(t: Texts = ENGLISH) -> Button:
    """The button that starts a conversation, titled in `t`'s language."""
    return Button(t.gettext(ENTRY_TITLE), ENTRY_PAYLOAD)


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: user-supplied `<!channel>` or `<@U…>` is shown, never acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> SectionBlock:
    """A section with `text` cut to Slack's limit."""
    return SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION]))


def sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into as few sections as Slack's 3000-character limit allows (a list of requests can be long)."""
    packed: list[Block] = []
    current = ""
    for line in lines:
        line = line[: MAX_SECTION - 1]
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            packed.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        packed.append(section(current))
    return packed


def thread_block_id(index: int, thread_ts: str | None) -> str:
    """Block ids carry the conversation's thread, so that a click on an ephemeral message finds its thread."""
    return f"{BLOCK_PREFIX}{index}|{thread_ts or '-'}"


def thread_of_block(block_id: str | None) -> str | None:
    if not block_id or not block_id.startswith(BLOCK_PREFIX) or "|" not in block_id:
        return None
    thread = block_id.split("|", 1)[1]
    return None if thread == "-" else thread


def render(
    messages: Sequence[BotMessage], thread_ts: str | None, t: Texts = ENGLISH
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text (for notifications) and blocks for a list of messages (already in the conversation's language;
    `t` words what Slack adds around them, such as a select's placeholder)."""
    blocks: list[Block] = []
    for index, message in enumerate(messages):
        if message.text:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=escape(message.text)[:MAX_SECTION])))
        if message.buttons:
            blocks.append(choices(message.buttons, thread_block_id(index, thread_ts), t))
    text = " ".join(escape(m.text) for m in messages if m.text)[:MAX_SECTION] or "…"
    return text, [b.to_dict() for b in blocks]


def choices(buttons: Sequence[Button], block_id: str, t: Texts = ENGLISH) -> ActionsBlock:
    if len(buttons) <= MAX_BUTTONS:
        elements: list[Any] = [
            ButtonElement(text=b.title[:75], action_id=f"{PRESS}_{i}", value=b.payload) for i, b in enumerate(buttons)
        ]
    else:
        options = [Option(text=PlainTextObject(text=b.title[:75]), value=b.payload) for b in buttons[:100]]
        elements = [StaticSelectElement(placeholder=t.gettext("Choose…"), action_id=CHOOSE, options=options)]
    return ActionsBlock(block_id=block_id, elements=elements)


def open_form_button(form: str, title: str, thread_ts: str | None, t: Texts = ENGLISH) -> dict[str, Any]:
    text = t.gettext("Open the form: {title}").format(title=title)[:75]
    return ActionsBlock(
        block_id=thread_block_id(99, thread_ts),
        elements=[ButtonElement(text=text, action_id=OPEN_FORM, value=form, style="primary")],
    ).to_dict()


def entry_message(t: Texts = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    return render([BotMessage(t.gettext(ENTRY_TEXT), (entry_button(t),))], None, t)
