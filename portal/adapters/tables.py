"""The schema. Alembic migrations in migrations/ create it; this module is its single description in code."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from portal.schema import UtcDateTime, new_metadata

metadata = new_metadata()  # portal's tables only; bot.engine and bot.slack have their own

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    CheckConstraint("kind IN ('reseller', 'installer', 'cpo', 'end_customer')", name="kind"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=True, index=True),
    Column("registered_at", UtcDateTime(), nullable=False),
)

chargers = Table(
    "chargers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("serial", String(20), nullable=False, unique=True),
    Column("model", String(100), nullable=False),
    Column("shipped_at", Date, nullable=False),
    Column("warranty_until", Date, nullable=False),
    Column("purchaser_id", ForeignKey("organizations.id"), nullable=False),
    Column("service_operator_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("site_organization_id", ForeignKey("organizations.id"), nullable=True, index=True),
    Column("version", Integer, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("requester_account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    # The requester's organization when the request was opened; for a transfer, the organization to become SO.
    Column("organization_id", ForeignKey("organizations.id"), nullable=True, index=True),
    Column("description", Text, nullable=False),
    Column("topic", String(30), nullable=True),
    Column("in_warranty", Boolean, nullable=True),
    Column("assignee", String(64), nullable=True),
    Column("resolution", Text, nullable=True),
    # Where the request was asked (surface, channel, thread, user), opaque to the portal: notifications go back there.
    Column("origin", JSON, nullable=True),
    Column("origin_key", String(200), nullable=True, unique=True),
    # Links between requests, by reference: the resolved ticket a new one follows up, the ticket one duplicates.
    Column("follows", String(16), nullable=True),
    Column("duplicate_of", String(16), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("kind IN ('service_ticket', 'administrative', 'transfer')", name="kind"),
)

request_chargers = Table(
    "request_chargers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
    Column("charger_id", ForeignKey("chargers.id"), nullable=False, index=True),
    Column("serial", String(20), nullable=False),
    Column("operator_id", ForeignKey("organizations.id"), nullable=False),
    Column("holds_transfer", Boolean, nullable=False, server_default=text("false")),
    Column("answer", String(20), nullable=True),
    Column("answered_by", String(400), nullable=True),
    Column("answered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("request_id", "charger_id", name="uq_request_chargers_request_charger"),
    # At most one pending transfer per charger, whatever happens concurrently.
    Index(
        "uq_request_chargers_pending_transfer",
        "charger_id",
        unique=True,
        sqlite_where=text("holds_transfer"),
        postgresql_where=text("holds_transfer"),
    ),
)

request_transitions = Table(
    "request_transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_status", String(30), nullable=True),
    Column("to_status", String(30), nullable=False),
    Column("actor", String(400), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=True),
)

# The conversation of a request between support and the customer's side (portal/domain/messages.py). `key` is the
# surface's key of what carried a message (a Slack message, a modal): carried twice, it is kept once.
request_messages = Table(
    "request_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("direction", String(20), nullable=False),
    Column("author", String(400), nullable=False),
    Column("text", Text, nullable=False),
    Column("files", JSON, nullable=False),
    Column("asks", Boolean, nullable=False, server_default=text("false")),
    Column("key", String(200), nullable=True, unique=True),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("request_id", "number", name="uq_request_messages_request_number"),
    CheckConstraint("direction IN ('to_requester', 'from_requester')", name="direction"),
)

# Fault reports to a charger's Service Operator from a customer who does not operate it (portal/domain/faults.py).
# `operator_id` is the Service Operator when it was reported: only its people may answer. `origin_key` makes one
# intent (a form instance in a conversation) report once, as for requests.
fault_reports = Table(
    "fault_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("charger_id", ForeignKey("chargers.id"), nullable=False),
    Column("serial", String(20), nullable=False),
    Column("operator_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("reporter_account_id", ForeignKey("accounts.id"), nullable=False),
    Column("reporter_organization_id", ForeignKey("organizations.id"), nullable=True),
    Column("symptom", Text, nullable=False),
    Column("share_identity", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ticket_reference", String(16), nullable=True),
    Column("answered_by", String(400), nullable=True),
    Column("origin", JSON, nullable=True),
    Column("origin_key", String(200), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_fault_reports_charger_reporter", "charger_id", "reporter_account_id", "created_at"),
    CheckConstraint("status IN ('sent', 'ticket_opened', 'not_ours', 'to_support')", name="status"),
)

# Refused attempts (a non-agent pressing Approve, a forged consent): who tried what, when, and why it was refused.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(400), nullable=False),
    Column("action", String(60), nullable=False),
    Column("reference", String(16), nullable=True, index=True),
    Column("outcome", String(60), nullable=False),
    Column("detail", String(400), nullable=True),
    # What a refused attempt carried when it was not a well-formed reference: escaped and cut (see audit.py).
    Column("raw_value", String(200), nullable=True),
)

# Slack workspaces (a team id "T…" or an Enterprise Grid id "E…") and the organization support linked each to.
# A row without an organization is a workspace whose people asked and that support has not verified yet: it is
# asked about once, not once per message. An email seen in Slack names an account only in the home workspace or
# in a workspace linked to that account's organization.
slack_workspaces = Table(
    "slack_workspaces",
    metadata,
    Column("team_id", String(32), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=True, index=True),
    Column("name", String(200), nullable=True),  # the team's name or domain when Slack told us, for agents
    Column("asked_at", UtcDateTime(), nullable=True),
    Column("asked_by", String(64), nullable=True),  # the Slack user id who asked (never an email)
    Column("linked_at", UtcDateTime(), nullable=True),
    Column("linked_by", String(400), nullable=True),
)

# One row per reference prefix; incremented under a row lock, so references never repeat.
reference_counters = Table(
    "reference_counters",
    metadata,
    Column("prefix", String(4), primary_key=True),
    Column("last_value", Integer, nullable=False),
)

# Domain events, written in the transaction that caused them; notifiers read them from here.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False),
    Column("reference", String(16), nullable=True, index=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # The intent that recorded an event belonging to no request (a handoff without an account): recorded once.
    Column("origin_key", String(200), nullable=True, unique=True),
    Index("ix_outbox_unsent", "id", sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL")),
)
