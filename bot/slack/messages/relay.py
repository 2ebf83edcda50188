"""Agent → customer (issue 16 §1): the modal an agent writes in, and how the message reads on either side.

The requester reads the agent's words with the agent's name and the reference, in the language of their request
for the fixed parts; agents read, in the triage thread, what was sent, by whom and where. The agent's words are
escaped: a `<!channel>` typed in the modal is shown, never acted on.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH
from portal.domain.messages import MESSAGE_MAX
from portal.languages.texts import N_, Texts

RELAY_CALLBACK = "relay_to_requester"
SEND_TO_REQUESTER = "chargedesk_send_to_requester"  # the message shortcut (manifest.yml)
MESSAGE_BLOCK, KIND_BLOCK = "message", "kind"
REPLY, ASK = "reply", "ask"

# Where the requester got an agent's message, as agents read it in the triage thread.
IN_THREAD, IN_DM, NOWHERE = "thread", "dm", "nowhere"
WHERE = {
    IN_THREAD: N_("in the thread where they asked"),
    IN_DM: N_("in their direct message"),
    NOWHERE: N_("not delivered in Slack: the requester has no Slack conversation with us; it is on the request"),
}
NOTICE_TITLE = N_("Send to requester")


def relay_view(
    reference: str,
    t: Texts = ENGLISH,
    *,
    ask: bool = False,
    text: str = "",
    message: tuple[str, str] | None = None,
    may_ask: bool = False,
) -> dict[str, Any]:
    """The modal an agent writes to the requester of `reference` in (`t`: the agents' language).

    From a triage card's button: `ask` says which button. From the *Send to requester* shortcut: `message` is the
    (channel, ts) of the thread message it was used on, `text` that message's words to edit, and the agent chooses
    between a reply and a question (a question only when `may_ask`: the request's status allows waiting).
    """
    if message is not None:
        title = t.gettext("Send to requester")
        meta: dict[str, Any] = {"reference": reference, "channel": message[0], "ts": message[1]}
    else:
        title = t.gettext("Ask for information") if ask else t.gettext("Reply to requester")
        meta = {"reference": reference, "ask": ask}
    hint = (
        t.gettext("They read it with your name. {reference} then waits for their answer, and its support clock stops.")
        if ask
        else t.gettext("They read it with your name. Plain replies in the triage thread stay internal notes.")
    ).format(reference=reference)
    blocks: list[Any] = [
        InputBlock(
            block_id=MESSAGE_BLOCK,
            label=PlainTextObject(
                text=t.gettext("Message to the requester of {reference}").format(reference=reference)
            ),
            hint=PlainTextObject(text=hint),
            element=PlainTextInputElement(
                action_id="value", multiline=True, max_length=MESSAGE_MAX, initial_value=text[:MESSAGE_MAX] or None
            ),
        )
    ]
    if message is not None:
        reply = Option(value=REPLY, label=t.gettext("Reply: the request keeps its status"))
        choices = [reply]
        if may_ask:
            choices.append(Option(value=ASK, label=t.gettext("Ask for information: the request waits for the answer")))
        blocks.append(
            InputBlock(
                block_id=KIND_BLOCK,
                label=PlainTextObject(text=t.gettext("Send it as")),
                element=RadioButtonsElement(action_id="value", options=choices, initial_option=reply),
            )
        )
    return View(
        type="modal",
        callback_id=RELAY_CALLBACK,
        title=PlainTextObject(text=title[:24]),
        submit=PlainTextObject(text=t.gettext("Send")[:24]),
        close=PlainTextObject(text=t.gettext("Cancel")[:24]),
        private_metadata=json.dumps(meta),
        blocks=blocks,
    ).to_dict()


def notice_view(text: str, t: Texts = ENGLISH) -> dict[str, Any]:
    """A modal that only explains (the shortcut used where it cannot send anything)."""
    return View(
        type="modal",
        title=PlainTextObject(text=t.gettext(NOTICE_TITLE)[:24]),
        close=PlainTextObject(text=t.gettext("Close")[:24]),
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    ).to_dict()


def quoted(text: str) -> str:
    """The words as a Slack quote, escaped."""
    return "\n".join(f">{escape(line)}" for line in text.splitlines() or [""])


def to_requester(
    reference: str, agent_name: str | None, text: str, asks: bool, t: Texts = ENGLISH, *, mention: str | None = None
) -> str:
    """What the requester reads: who of support wrote about which request (`agent_name`: the agent's Slack name;
    None when Slack could not say it), the words, and for a question how to answer. `mention` (a user id) heads a
    message posted in a channel thread, so that the requester is notified."""
    if agent_name:
        header = (
            t.gettext("{agent} of support asks about {reference}:")
            if asks
            else t.gettext("{agent} of support wrote about {reference}:")
        ).format(agent=escape(agent_name), reference=escape(reference))
    else:
        header = (
            t.gettext("Support asks about {reference}:") if asks else t.gettext("Support wrote about {reference}:")
        ).format(reference=escape(reference))
    lines = [f"<@{mention}> {header}" if mention else header, quoted(text)]
    if asks:
        lines.append(t.gettext("Reply in this thread to answer."))
    return "\n".join(lines)


def triage_note(agent: str, text: str, asks: bool, where: str, t: Texts = ENGLISH) -> str:
    """What agents read in the request's triage thread: who sent what to the requester, and where it went."""
    who = f"<@{escape(agent)}>"
    header = (
        t.gettext("{agent} asked the requester ({where}):")
        if asks
        else t.gettext("Sent to the requester by {agent} ({where}):")
    ).format(agent=who, where=t.gettext(WHERE.get(where, WHERE[NOWHERE])))
    return f"{header}\n{quoted(text)}"
