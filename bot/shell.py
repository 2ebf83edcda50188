"""`chargedesk shell`: the conversation in a terminal, like `rasa shell`, on the demo data.

Buttons are shown numbered; typing a number presses the button. Lines are read until end of input, so the
shell works interactively and with piped input. `--lang nl` answers in that language whatever is typed; without it
the language is detected from each message, as in Slack.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.engine.engine import Assistant
from bot.engine.responses import BotMessage, Button
from portal.demo import ACCOUNTS
from portal.languages import Language
from portal.languages.texts import N_, texts

ReadLine = Callable[[], Awaitable[str]]
ENTRY_TEXT = N_("Need help with a charger or your support account? Press the button, or just type.")
ENTRY_BUTTON = N_("I have a question")


def stdin_reader() -> ReadLine:
    async def read() -> str:
        # input() would block the event loop; readline in a thread keeps it free, and returns "" at the end.
        return await asyncio.to_thread(sys.stdin.readline)

    return read


class Shell:
    def __init__(self, assistant: Assistant, read: ReadLine, out: TextIO, language: Language | None = None) -> None:
        self.assistant = assistant
        self.language = language  # forced for the whole conversation; None: detected from each message
        self.read = read
        self.out = out
        self.buttons: tuple[Button, ...] = ()

    async def choose_identity(self) -> str | None:
        self.say("Who are you? Type a number, or a portal account's email address.")
        for number, account in enumerate(ACCOUNTS, start=1):
            self.say(f"  [{number}] {account.email} ({account.organization or 'no organization'})")
        while True:
            line = (await self.read_line("you> ")).strip()
            if line == "":
                return None
            if line.isdigit() and 1 <= int(line) <= len(ACCOUNTS):
                return ACCOUNTS[int(line) - 1].email
            if "@" in line:
                return line
            self.say("Please type one of the numbers, or an email address.")

    async def run(self, email: str) -> None:
        self.say(f"You are {email}. Type a message or a button's number; end with Ctrl-D.")
        t = texts(self.language)
        self.show([BotMessage(t.gettext(ENTRY_TEXT), (Button(t.gettext(ENTRY_BUTTON), "/have_question"),))])
        metadata: dict[str, object] = {
            "requester": {"email": email, "slack_user_id": None, "slack_team_id": None},
            "conversation": {"surface": "shell", "channel_id": None, "thread_ts": None},
        }
        if self.language:
            metadata["language"] = self.language
        while True:
            line = await self.read_line("you> ")
            if line == "":
                self.say("Bye.")
                return
            text = self.pressed(line.strip())
            if not text:
                continue
            self.show(await self.assistant.handle(f"shell:{email}", text, metadata))

    def pressed(self, line: str) -> str:
        """A button's payload when the line is its number, else the line itself."""
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return self.buttons[int(line) - 1].payload
        return line

    def show(self, messages: list[BotMessage]) -> None:
        buttons: list[Button] = []
        for message in messages:
            if message.text:
                self.say(f"chargedesk: {message.text}")
            for button in message.buttons:
                buttons.append(button)
                self.say(f"  [{len(buttons)}] {button.title}")
        if messages:
            self.buttons = tuple(buttons)

    async def read_line(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        line = await self.read()
        if line and not line.endswith("\n"):
            self.out.write("\n")
        return line

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
