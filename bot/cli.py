"""The `chargedesk` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from dotenv import load_dotenv

from portal import services
from portal.bootstrap import Portal
from portal.demo import ACCOUNTS, CHARGERS, seed_demo
from portal.errors import ImportFailed
from portal.imports import ImportKind, import_csv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargedesk", description="Slack support assistant for EV chargers")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"], help="apply every migration")

    seed = commands.add_parser("seed", help="load demo data")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo organizations, accounts, chargers")

    imp = commands.add_parser("import", help="import a CSV file (all rows or none)")
    imp.add_argument("kind", choices=[k.value for k in ImportKind])
    imp.add_argument("file", type=Path)

    actions = commands.add_parser("actions", help="run the rasa-sdk action server (after upgrading the database)")
    actions.add_argument("--port", type=int, default=5055)

    commands.add_parser("start", help="what `make run` starts")
    return parser


async def _with_portal(work: Callable[[Portal], Awaitable[int]]) -> int:
    portal = Portal.connect()
    try:
        await portal.upgrade()
        return await work(portal)
    finally:
        await portal.close()


async def _seed(portal: Portal) -> int:
    created = await seed_demo(portal.uow())
    print(f"demo data: {created} rows created")
    return 0


def _import(kind: ImportKind, path: Path) -> Callable[[Portal], Awaitable[int]]:
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


async def _start(portal: Portal) -> int:
    # The conversation (terminal and Slack) is built on this core; until then `make run` shows the core's
    # decisions on the demo data.
    await seed_demo(portal.uow())
    print("chargedesk — who may raise a service ticket on which demo charger:\n")
    serials = [serial for serial, *_ in CHARGERS]
    print(f"{'account':28}" + "".join(f"{s:>26}" for s in serials))
    for demo in ACCOUNTS:
        row = f"{demo.email:28}"
        for serial in serials:
            decision = await services.check_eligibility(portal.uow(), demo.email, serial)
            row += f"{decision.outcome.value:>26}"
        print(row)
    return 0


def _serve_actions(port: int) -> int:
    """Upgrade the schema, then become the standard rasa-sdk action server (same process, same arguments)."""
    from portal.migrations import upgrade
    from portal.settings import database_url

    upgrade(database_url())
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    os.execv(sys.executable, command)


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv()
    args = build_parser().parse_args(argv)
    if args.command == "db":
        from portal.migrations import upgrade
        from portal.settings import database_url

        upgrade(database_url())
        print("database schema is up to date")
        return 0
    if args.command == "actions":
        return _serve_actions(args.port)
    if args.command == "seed":
        return asyncio.run(_with_portal(_seed))
    if args.command == "import":
        return asyncio.run(_with_portal(_import(ImportKind(args.kind), args.file)))
    return asyncio.run(_with_portal(_start))


if __name__ == "__main__":
    raise SystemExit(main())
