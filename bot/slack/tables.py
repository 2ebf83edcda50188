"""bot.slack's tables, on its own `metadata`: the inbox, the request receipts, the people registry and the delivery
queue (messages waiting to be sent, the ts of posted messages, and the send lanes).

One Alembic history (bot/migrations/) creates the whole schema and checks it against portal's, the engine's and these
(bot/migrations/env.py). `bot.slack.egress.delivery` is the only code that writes the delivery queue's tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, text

from portal.schema import UtcDateTime, new_metadata

metadata = new_metadata()

# Conversation turns Slack handed us, stored before Slack is answered, until a consumer has run them (see inbox.py).
# `claimed_by`/`claimed_until` are the lease of the consumer running the turn.
slack_inbox = Table(
    "slack_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery", String(200), nullable=False),  # the request's receipt key: marks the turn in the tracker
    Column("sender_id", String(255), nullable=False),
    Column("order_key", String(64), nullable=False),
    Column("conversation", Text, nullable=False),
    Column("turn", Text, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_slack_inbox_sender_order", "sender_id", "order_key"),
)

# One row per request delivery handled (see receipts.py): Slack's retries of it are answered and dropped.
slack_receipts = Table(
    "slack_receipts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_slack_receipts_received_at", "received_at"),
)

# The Slack users who may be told about a portal account, learned when they talk to the assistant (see people.py).
slack_people = Table(
    "slack_people",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("team_id", String(32), nullable=False),
    Column("email", String(320), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("enterprise_id", String(32), nullable=True),
    # The language of their last conversation turn (en, nl, de, fr): what they are written to in next.
    Column("language", String(8), nullable=True),
    Index("ix_slack_people_email", "email"),
)
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
    # A customer's reply in the thread of one of our DMs names the DM (channel) and the message it answers (ts).
    Index("ix_slack_messages_channel_ts", "channel", "ts"),
)

# The channel threads requests were filed from (written when the notifier announces the request there): a
# customer's later message in such a thread is added to its request. Every message of every channel the assistant
# is in reaches us, so "is this thread a request's?" must be one indexed look-up (the primary key's prefix).
slack_request_threads = Table(
    "slack_request_threads",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("thread_ts", String(32), primary_key=True),
    Column("reference", String(16), primary_key=True),
    Column("filed_at", UtcDateTime(), nullable=False),
)

# One row per lane: when it may send next (Slack allows about one message per second per channel), and which
# sender's round holds it until when. The lease is what keeps two senders from working the same lane, and so from
# sending a message twice or out of order.
slack_channels = Table(
    "slack_channels",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("next_send_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("lease_owner", String(64), nullable=True),
)
