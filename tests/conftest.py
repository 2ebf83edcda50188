"""Real databases for the tests: SQLite always, PostgreSQL when CHARGEDESK_TEST_POSTGRES_URL is set.

Both get their schema from the Alembic migrations, so the tests also prove the migrations.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portal.adapters.database import create_engine
from portal.bootstrap import Portal
from portal.demo import seed_demo
from portal.migrations import upgrade_engine

POSTGRES_ENV = "CHARGEDESK_TEST_POSTGRES_URL"
# Demo "today": late 2026, so 10001R001 (shipped 2022) is out of warranty and the others are in.
DEMO_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = DEMO_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass(frozen=True)
class Database:
    name: str  # "sqlite" / "postgres"
    url: str
    engine_options: dict[str, Any]


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(scope="session")
def trained() -> tuple[Any, Any]:
    """The checked design and its trained classifier, shared by every test (training takes ~0.3 s)."""
    from bot.config import DESIGN_ROOT
    from bot.engine.engine import prepare

    return prepare(DESIGN_ROOT)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test would be slower)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade_engine(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A schema of our own in the test database, migrated once, dropped at the end.

    A separate schema keeps concurrent runs (CI and a developer, say) from touching each other's rows.
    """
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    schema = f"chargedesk_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await engine.dispose()
        engine = create_engine(url, **postgres_options(schema))
        await upgrade_engine(engine)
        await engine.dispose()

    async def drop() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(create())
    yield url, schema
    asyncio.run(drop())


def postgres_options(schema: str) -> dict[str, Any]:
    return {"connect_args": {"server_settings": {"search_path": schema}}}


DATA_TABLES = (
    "slack_deliveries",
    "slack_messages",
    "slack_channels",
    "slack_receipts",
    "slack_inbox",
    "conversation_leases",
    "audit_log",
    "slack_people",
    "slack_workspaces",
    "conversation_events",
    "conversations",
    "outbox",
    "fault_reports",
    "request_transitions",
    "request_chargers",
    "requests",
    "chargers",
    "accounts",
    "organizations",
)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        path = tmp_path / "chargedesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database("sqlite", f"sqlite+aiosqlite:///{path}", {})
    url, schema = request.getfixturevalue("postgres_schema")
    return Database("postgres", url, postgres_options(schema))


async def empty_postgres(portal: Portal) -> None:
    async with portal.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE reference_counters SET last_value = 0"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def empty_portal(database: Database, clock: FrozenClock) -> AsyncIterator[Portal]:
    """A portal on an empty, migrated database."""
    portal = Portal(create_engine(database.url, **database.engine_options), clock)
    if database.name == "postgres":
        await empty_postgres(portal)
    try:
        yield portal
    finally:
        await portal.close()


@pytest.fixture
async def portal(empty_portal: Portal) -> Portal:
    """A portal with the demo data."""
    await seed_demo(empty_portal.uow())
    return empty_portal
