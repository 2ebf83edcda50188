"""Domain events: what happened, recorded in the outbox in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    name: str  # e.g. "request.opened", "transfer.consented"
    reference: str | None  # the request it concerns, if any
    payload: dict[str, Any] = field(default_factory=dict)
    # For an event that belongs to no request: the intent that recorded it (`asked.origin_key`), recorded once.
    key: str | None = None
