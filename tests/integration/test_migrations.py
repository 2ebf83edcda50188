"""The migrations produce exactly the schema the code describes, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.engine import leases as _engine_leases  # noqa: F401  (registers the conversation leases)
from bot.engine import tables as _engine_tables  # noqa: F401  (registers the dialogue engine's tables)
from bot.slack import tables as _slack_tables  # noqa: F401  (registers the Slack delivery queue's tables)
from bot.slack.ingress import inbox as _slack_inbox  # noqa: F401  (registers the Slack inbox)
from bot.slack.ingress import receipts as _slack_receipts  # noqa: F401  (registers the Slack request receipts)
from bot.slack.people import registry as _slack_people  # noqa: F401  (registers the Slack people registry)
from portal.adapters.tables import metadata
from portal.bootstrap import Portal


async def test_migrated_schema_matches_the_tables_module(empty_portal: Portal) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with empty_portal.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_upgrade_is_idempotent(empty_portal: Portal) -> None:
    await empty_portal.upgrade()
    await empty_portal.upgrade()
