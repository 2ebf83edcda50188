"""`make run` without Slack configuration opens the shell; a newcomer completes ben's transfer by numbers."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.engine.responses import BotMessage, Button
from bot.shell import Shell

ROOT = Path(__file__).resolve().parents[2]


def test_start_without_slack_opens_the_shell_and_ben_files_a_transfer_by_numbers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RASA_URL", "ACTION_ENDPOINT"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    typed = "2\n1\n3\n1\nWe bought it from VoltWay together with the installation\n1\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "start"],
        input=typed,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # a fresh working directory: nothing but the package and the database URL
        env=env,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "You are ben@greenfleet.example" in out
    assert "[1] ACE0100002" in out  # offered as a button: installed at GreenFleet, operated by someone else
    assert "I've filed management transfer request MT-000001 for ACE0100002" in out
    assert "VoltWay Resellers BV" not in out.split("You are ben")[1]  # ben is never told who operates it
    assert result.stderr == ""


async def test_numbers_press_the_buttons_of_the_last_messages() -> None:
    shell = Shell(assistant=None, read=None, out=io.StringIO())  # type: ignore[arg-type]
    shell.show([BotMessage("Pick", (Button("One", "/one"), Button("Two", "/two")))])
    assert shell.pressed("2") == "/two"
    assert shell.pressed("3") == "3"  # no third button: the text goes as typed
    assert shell.pressed("hello") == "hello"
    shell.show([])  # a turn without messages keeps the buttons on screen
    assert shell.pressed("1") == "/one"


def test_shell_lang_answers_in_that_language_whatever_is_typed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RASA_URL", "ACTION_ENDPOINT"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--as", "carla@citycharge.example", "--lang", "fr"],
        input="hi there\n1\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "[1] J'ai une question" in out  # the entry message too, before anything is typed
    assert "Un ticket de service pour une borne" in out  # the categories, although "hi there" is English
    assert "I have a question" not in out
    assert result.stderr == ""
