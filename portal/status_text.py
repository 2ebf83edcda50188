"""How request kinds and statuses read to customers and agents, in one place for every surface."""

from __future__ import annotations

KIND_LABELS = {
    "service_ticket": "service ticket",
    "administrative": "administrative request",
    "transfer": "management transfer",
}

# What the status means for the person waiting, i.e. what happens next.
STATUS_LABELS = {
    ("service_ticket", "open"): "open, waiting for support to pick it up",
    ("service_ticket", "in_progress"): "in progress with support",
    ("service_ticket", "resolved"): "resolved",
    ("service_ticket", "closed"): "closed",
    ("service_ticket", "withdrawn"): "withdrawn",
    ("administrative", "open"): "open, waiting for support",
    ("administrative", "resolved"): "done",
    ("administrative", "rejected"): "rejected",
    ("administrative", "withdrawn"): "withdrawn",
    ("transfer", "awaiting_operator"): "waiting for the current Service Operator to consent",
    ("transfer", "awaiting_support"): "consented, waiting for support to approve",
    ("transfer", "completed"): "completed",
    ("transfer", "declined_by_operator"): "declined by the current Service Operator",
    ("transfer", "rejected"): "rejected by support",
    ("transfer", "cancelled"): "cancelled (withdrawn)",
    ("transfer", "expired"): "no answer from the current Service Operator in time; support decides",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def status_label(kind: str, status: str) -> str:
    return STATUS_LABELS.get((kind, status), status.replace("_", " "))
