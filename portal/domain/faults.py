"""Fault reports: a customer tells a charger's Service Operator about a fault on a charger they do not operate.

A report is not a request: support does not handle it unless the operator cannot be reached or says the charger is
not theirs any more. What each side learns is the point of this module:

- the reporter learns that "the Service Operator was informed" or that "support is looking at it", never who the
  operator is (a customer may not know who services a charger at a site, and the operator may not want them to);
- the operator learns the serial and the symptom, and the reporter's identity only when the reporter agreed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

FAULT_PREFIX = "FR"

# One report per charger and reporter per day. A fault that persists is still being handled a few hours later; a
# second DM to the operator's people within the day adds noise, not information. After a day, a charger that is
# still broken deserves a reminder, and the reporter may send one.
REPORT_WINDOW = timedelta(hours=24)

_FAULT_TYPED = re.compile(r"\s*FR\s*-?\s*0*(\d{1,9})\s*", re.IGNORECASE | re.ASCII)


class FaultStatus(StrEnum):
    SENT = "sent"  # the operator's people were told
    TICKET_OPENED = "ticket_opened"  # one of them opened a service ticket from it
    NOT_OURS = "not_ours"  # one of them said the charger is not theirs any more: support checks its records
    TO_SUPPORT = "to_support"  # nobody of the operator could be reached in Slack: support (triage) has it

    @property
    def with_support(self) -> bool:
        return self in (FaultStatus.NOT_OURS, FaultStatus.TO_SUPPORT)

    @property
    def is_open(self) -> bool:
        """Whether someone still has to take the report on. Once the operator opened its service ticket, the
        ticket carries the fault; a report with support stays open (there is no state after it yet)."""
        return self is not FaultStatus.TICKET_OPENED


OPERATOR_ANSWERABLE = frozenset({FaultStatus.SENT})


def format_fault_reference(number: int) -> str:
    return f"{FAULT_PREFIX}-{number:06d}"


def normalise_fault_reference(text: str) -> str | None:
    """ "fr 12", "FR-000012" → "FR-000012"; None for anything else (forged values never reach the database)."""
    match = _FAULT_TYPED.fullmatch(text) if isinstance(text, str) else None
    return format_fault_reference(int(match.group(1))) if match else None


@dataclass(frozen=True)
class FaultReport:
    """One report as stored. `operator_id` is the charger's Service Operator when it was reported."""

    id: int
    reference: str
    charger_id: int
    serial: str
    operator_id: int
    reporter_account_id: int
    reporter_organization_id: int | None
    symptom: str
    share_identity: bool
    status: FaultStatus
    ticket_reference: str | None
    created_at: datetime
    updated_at: datetime
    origin: Mapping[str, Any] | None = None  # where it was reported from (Slack user, language): for telling them


def reporter_told_key(reference: str) -> str:
    """The outbox key of the one message telling the reporter their report went to support: once per report."""
    return f"fault-reporter:{reference}"


def may_report_again_at(previous: datetime | None) -> datetime | None:
    """When the reporter's last report on the charger was at `previous`: the moment a new one is allowed."""
    return previous + REPORT_WINDOW if previous is not None else None
