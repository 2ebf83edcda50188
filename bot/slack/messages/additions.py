"""What support sees in a request's triage thread when the customer adds to it (issue 16 §2): marked as the
customer's, with who wrote it (their Slack user and email), the text, and the files as links to Slack's own copies
(agents open them with their own Slack access: nothing is downloaded or posted again)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import Texts
from portal.views import MessageView

# What a Slack permalink looks like; anything else is shown as text, never as a link that could say something else.
_PERMALINK = re.compile(r"https://[^\s<>|]+")


def customer_message_in_triage(message: MessageView, users: Sequence[str], t: Texts = ENGLISH) -> str:
    """The triage thread's post of a message from the requester's side."""
    email = message.author.partition(":")[2] or message.author
    who = " ".join(f"<@{u}>" for u in users)
    author = f"{who} ({escape(email)})" if who else escape(email)
    lines = [t.gettext("*From the customer* {author}:").format(author=author)]
    if message.text:
        lines += [f"> {escape(line)}" if line.strip() else ">" for line in message.text.splitlines()]
    if message.files:
        lines.append(t.gettext("*Files*: {files}").format(files=", ".join(_file_link(f) for f in message.files)))
    return "\n".join(lines)


def _file_link(file: tuple[str, str, str]) -> str:
    file_id, name, permalink = file
    label = escape(name or file_id)
    return f"<{permalink}|{label}>" if _PERMALINK.fullmatch(permalink) else label
