"""The Slack delivery queue's tables: messages waiting to be sent, the ts of posted messages, and the send lanes.

They live on portal's `metadata` so that one Alembic history (migrations/) creates and checks the whole schema;
migration 0004 creates them. `bot.slack.egress.delivery` is the only code that writes them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, text

from portal.adapters.tables import metadata
from portal.adapters.types import UtcDateTime

# One row per Slack Web API call to make. Rows are written by `enqueue` in the transaction that decided to notify
# (so a rolled-back change notifies nobody) and only ever move on to sent or failed; they are never deleted here.
slack_deliveries = Table(
    "slack_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    # The idempotency key: a notifier that handles the same event twice enqueues it once. NULLs never collide.
    Column("key", String(200), nullable=True, unique=True),
    # The rate-limit lane: a channel id, a user id for DMs, or "home:<user id>" for App Home.
    Column("channel", String(64), nullable=False),
    Column("method", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("message_key", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True),
    Column("last_error", String(200), nullable=True),
    # "The oldest unsent delivery of this lane" is the sender's hot query; partial, so it stays as small as the
    # backlog however many sent rows accumulate.
    Index(
        "ix_slack_deliveries_pending",
        "channel",
        "id",
        sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
        postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
    ),
)

# The ts of every message posted with a message_key, so that later chat.update deliveries can address it.
# `channel` is the one Slack answered (a "D…" id for a post to a user id), which is what chat.update needs.
slack_messages = Table(
    "slack_messages",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per lane: when it may send next (Slack allows about one message per second per channel), and until when
# a sender holds it. The lease is what keeps two senders from working the same lane, and so from sending a
# message twice or out of order.
slack_channels = Table(
    "slack_channels",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("next_send_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=True),
)
