"""The `chargedesk` command.

A person waits for every start (issue 18), so this module imports little more than the standard library: `main`
imports what the chosen command runs, with the garbage collector paused meanwhile (see `_starting`). Neither
`shell` nor `run` loads rasa-sdk's action server (bot/rasa_sdk_without_server.py), nor Alembic while the schema is
at the newest migration (portal/migrations.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot import rasa_sdk_without_server

if TYPE_CHECKING:
    from bot.config import Settings
    from portal.bootstrap import Portal
    from portal.imports import ImportKind
    from portal.languages import Language


def build_parser() -> argparse.ArgumentParser:
    from bot.nlu_report import add_arguments as add_nlu_report_arguments
    from portal.imports import ImportKind
    from portal.languages import LANGUAGES

    parser = argparse.ArgumentParser(prog="chargedesk", description="Slack support assistant for EV chargers")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"], help="apply every migration")

    seed = commands.add_parser("seed", help="load demo data")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo organizations, accounts, chargers")

    imp = commands.add_parser("import", help="import a CSV file (all rows or none)")
    imp.add_argument("kind", choices=[k.value for k in ImportKind])
    imp.add_argument("file", type=Path)

    link = commands.add_parser(
        "link-workspace", help="link a Slack workspace (team or Enterprise Grid id) to an organization"
    )
    link.add_argument("team_id", help="the workspace's id, e.g. T0123ABCD (a team) or E0123ABCD (an Enterprise Grid)")
    link.add_argument("organization", help="the organization's name, exactly as in the portal")

    actions = commands.add_parser("actions", help="run the rasa-sdk action server (after upgrading the database)")
    actions.add_argument("--port", type=int, default=5055)

    shell = commands.add_parser("shell", help="talk to the assistant in the terminal, on the demo data")
    shell.add_argument("--as", dest="email", help="the portal account to talk as (default: choose a demo account)")
    shell.add_argument(
        "--lang", choices=LANGUAGES, help="answer in this language whatever is typed (default: detect each message)"
    )

    commands.add_parser(
        "run", help="the Slack app (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; Socket Mode with SLACK_APP_TOKEN)"
    )
    entry = commands.add_parser("post-entry", help="post the 'I have a question' entry message in a channel")
    entry.add_argument("--channel", required=True, help="channel id, e.g. C0123456789")

    commands.add_parser("start", help="what `make run` starts: Slack when configured, else the shell")
    report = commands.add_parser(
        "nlu-report", help="how well the intent classifier understands (cross-validation, held-out, like rasa test nlu)"
    )
    add_nlu_report_arguments(report)
    work = commands.add_parser("work", help="run conversation turns from the inbox (`run` starts these itself)")
    work.add_argument("--doorbell-fd", type=int, default=None, help=argparse.SUPPRESS)
    work.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    return parser


Work = Callable[["Portal"], Awaitable[int]]


def _in_portal(settings: Settings, work: Work) -> Callable[[], int]:
    """`work` on a portal whose schema is brought up to date first."""
    from portal.bootstrap import Portal

    async def run() -> int:
        portal = Portal.connect(settings=settings)
        try:
            await portal.upgrade()
            return await work(portal)
        finally:
            await portal.close()

    return lambda: asyncio.run(run())


def _upgrade_database() -> int:
    from portal.migrations import upgrade
    from portal.settings import database_url

    upgrade(database_url())
    print("database schema is up to date")
    return 0


def _seed() -> Work:
    from portal.demo import seed_demo

    async def run(portal: Portal) -> int:
        created = await seed_demo(portal.uow())
        print(f"demo data: {created} rows created")
        return 0

    return run


def _import(kind: ImportKind, path: Path) -> Work:
    from portal.errors import ImportFailed
    from portal.imports import import_csv

    async def run(portal: Portal) -> int:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                count = await import_csv(portal.uow(), kind, handle)
        except ImportFailed as error:
            print(f"{path}: {error}; nothing was imported", file=sys.stderr)
            return 1
        print(f"{path}: {count} {kind.value} imported")
        return 0

    return run


def _link_workspace(team_id: str, organization: str) -> Work:
    import getpass

    from portal.domain.actors import Agent
    from portal.errors import PortalError
    from portal.services import link_workspace

    async def run(portal: Portal) -> int:
        # Whoever runs the command is support (they hold the database); the event records them as the agent.
        agent = Agent(f"cli:{getpass.getuser()}")
        try:
            link = await link_workspace(portal.uow(), agent, team_id, organization)
        except PortalError as error:
            print(f"{team_id}: {error}; nothing was changed", file=sys.stderr)
            return 1
        print(f"workspace {link.team_id} is linked to {link.organization}")
        return 0

    return run


def _shell(settings: Settings, email: str | None, language: Language | None = None) -> Work:
    from bot.assistant import open_assistant
    from bot.shell import Shell, stdin_reader
    from portal.demo import seed_demo

    async def run(portal: Portal) -> int:
        if not await portal_has_organizations(portal):
            await seed_demo(portal.uow())  # first use: the shell runs on the demo data
        assistant = open_assistant(settings, portal)
        shell = Shell(assistant, stdin_reader(), sys.stdout, language)
        try:
            who = email or await shell.choose_identity()
            if who:
                await shell.run(who)
        finally:
            await assistant.close()
        return 0

    return run


async def portal_has_organizations(portal: Portal) -> bool:
    async with portal.uow() as uow:
        return bool(await uow.organizations.all())


def _run_slack(settings: Settings) -> Work:
    from bot.slack.serve import serve

    async def run(portal: Portal) -> int:
        if not settings.slack_bot_token or not settings.slack_signing_secret:
            print("Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README, 'Slack').", file=sys.stderr)
            return 2
        await serve(settings, portal)
        return 0

    return run


def _work(settings: Settings, doorbell_fd: int | None, ready_fd: int | None) -> Work:
    from bot.slack.work import work

    async def run(portal: Portal) -> int:
        if not settings.slack_bot_token:
            print("Set SLACK_BOT_TOKEN (see README, 'Slack').", file=sys.stderr)
            return 2
        await work(settings, portal, doorbell_fd, ready_fd)
        return 0

    return run


async def _post_entry(settings: Settings, channel: str) -> int:
    from bot.slack.egress.retries import reply_client
    from bot.slack.messages.blocks import entry_message

    if not settings.slack_bot_token:
        print("Set SLACK_BOT_TOKEN first.", file=sys.stderr)
        return 2
    client = reply_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    text, blocks = entry_message()
    await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    print(f"entry message posted in {channel}")
    return 0


def _serve_actions(port: int) -> int:
    """Upgrade the schema, then become the standard rasa-sdk action server (same process, same arguments)."""
    from portal.migrations import upgrade
    from portal.settings import database_url

    upgrade(database_url())
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    os.execv(sys.executable, command)


def main(argv: Sequence[str] | None = None) -> int:
    # Before anything imports rasa-sdk: the embedded engine needs its classes, not its HTTP server.
    rasa_sdk_without_server.install()
    with _starting():
        from bot.config import Settings
        from bot.logs import configure_logging
        from portal.settings import SettingsError

        args = build_parser().parse_args(argv)
        try:
            settings = Settings.from_env()  # the environment, then .env in the working directory
        except SettingsError as error:
            print(f"Please fix these settings (environment or .env):\n{error}", file=sys.stderr)
            return 2
        configure_logging(settings.log_level, settings.log_format)
        command = _command(args, list(argv) if argv is not None else sys.argv[1:], settings)
    return command()


def _command(args: argparse.Namespace, argv: list[str], settings: Settings) -> Callable[[], int]:
    """The chosen command, its modules imported (by the factories below, while `_starting`)."""
    if args.command == "db":
        return _upgrade_database
    if args.command == "actions":
        return lambda: _serve_actions(args.port)
    if args.command == "nlu-report":
        from bot.config import DESIGN_ROOT
        from bot.nlu_report import main as nlu_report

        return lambda: nlu_report(args, argv[argv.index("nlu-report") + 1 :], DESIGN_ROOT)
    if args.command == "seed":
        return _in_portal(settings, _seed())
    if args.command == "import":
        from portal.imports import ImportKind

        return _in_portal(settings, _import(ImportKind(args.kind), args.file))
    if args.command == "link-workspace":
        return _in_portal(settings, _link_workspace(args.team_id, args.organization))
    if args.command == "shell":
        from portal.languages import language_of

        return _in_portal(settings, _shell(settings, args.email, language_of(args.lang)))
    if args.command == "work":
        return _in_portal(settings, _work(settings, args.doorbell_fd, args.ready_fd))
    if args.command == "post-entry":
        return lambda: asyncio.run(_post_entry(settings, args.channel))
    if args.command == "run" or settings.slack_bot_token:
        return _in_portal(settings, _run_slack(settings))
    return _in_portal(settings, _shell(settings, None))


@contextmanager
def _starting() -> Iterator[None]:
    """The garbage collector paused while a command imports its modules, then blind to what they made.

    Imports make a few hundred thousand objects that live as long as the process (modules, classes, functions):
    the collector's passes over them free nothing. Paused, it makes none while they are made; frozen after
    (gc.freeze: moved to a generation it never scans), its later passes skip them. Together about a quarter of the
    CPU time of `chargedesk shell`'s start. The price, in a process that calls `main` more than once (the tests):
    cycles already unreachable at a freeze are never collected; reference counting frees everything else as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())
