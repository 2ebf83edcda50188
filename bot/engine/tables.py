"""The dialogue engine's tables: every conversation's tracker, one row per Rasa event, and the conversation leases.

They live on the engine's own `metadata`; one Alembic history (migrations/) creates the whole schema and checks it
against portal's, the engine's and bot.slack's metadata (migrations/env.py).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, UniqueConstraint, text

from portal.schema import UtcDateTime, new_metadata

metadata = new_metadata()

# One row per conversation (Rasa's sender_id). `event_count` is the conversation's version: an append succeeds
# only if it still equals what the appender last loaded, so two processes cannot both extend the same turn.
# A turn loads the conversation from `window_start` on, starting from `snapshot`, the state of the tracker after
# the events before it (NULL while `window_start` is 0; see bot.engine.window). Both change only with an append.
conversations = Table(
    "conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("event_count", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("window_start", Integer, nullable=False, server_default=text("0")),
    Column("snapshot", JSON(none_as_null=True), nullable=True),
)

# The events themselves, append-only. `seq` is the event's 0-based position in its conversation; the unique
# (sender_id, seq) constraint both orders a tracker cheaply and refuses a second writer of the same position.
conversation_events = Table(
    "conversation_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", ForeignKey("conversations.sender_id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event", JSON, nullable=False),
    UniqueConstraint("sender_id", "seq", name="uq_conversation_events_sender_seq"),
)

# One row per conversation while a turn runs in it (see `bot.engine.leases.Leases`): who runs it, and until when.
conversation_leases = Table(
    "conversation_leases",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until", UtcDateTime(), nullable=False),
)
