"""One exception hierarchy for everything the portal refuses.

Surfaces translate these into what their users see (a modal field error, an utterance and slots, an ephemeral
message); anything else is a bug and reaches the surface's generic error handler.

    PortalError
    ├── InvalidInput                  the input can never be right as it is
    │   ├── MalformedSerial
    │   ├── InvalidDescription
    │   ├── TooManyChargers
    │   ├── ReasonRequired
    │   ├── TermsNotAccepted
    │   └── MalformedTeamId           not a Slack team ("T…") or Enterprise Grid ("E…") id
    ├── NotFound
    │   ├── UnknownAccount
    │   ├── UnknownOrganization
    │   ├── UnknownCharger
    │   └── UnknownRequest            also raised for requests the viewer may not see
    ├── NotAllowed
    │   ├── NotSupportAgent
    │   ├── NotServiceOperator
    │   ├── NotRequester
    │   ├── OwnCharger                a fault report on a charger the reporter's organization operates
    │   └── NotEligible               carries the EligibilityDecision that explains why
    ├── Conflict
    │   ├── InvalidTransition         e.g. approving twice
    │   ├── ReopenWindowClosed        resolved too long ago for the customer to reopen: a follow-up instead
    │   ├── AlreadyAnswered
    │   ├── AlreadyServiceOperator
    │   ├── TransferAlreadyPending
    │   ├── FaultReportedRecently     one fault report per charger and reporter per day
    │   └── OperatorChanged
    └── ImportFailed                  a CSV row was rejected; nothing of the file was written
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from portal.domain.eligibility import EligibilityDecision


class PortalError(Exception):
    """Base of every error the portal raises on purpose."""


class InvalidInput(PortalError):
    """The input can never be accepted as it is."""


class MalformedSerial(InvalidInput):
    def __init__(self, text: str) -> None:
        super().__init__("a serial number is 'ACE' followed by digits, or five digits, 'R' and three digits")
        self.text = text


class InvalidDescription(InvalidInput):
    pass


class InvalidMessage(InvalidInput):
    """A message to or from the requester that is empty or too long."""


class TooManyChargers(InvalidInput):
    pass


class ReasonRequired(InvalidInput):
    pass


class TermsNotAccepted(InvalidInput):
    pass


class MalformedTeamId(InvalidInput):
    def __init__(self, text: str) -> None:
        super().__init__('a Slack workspace id is "T" (a team) or "E" (an Enterprise Grid), then letters and digits')
        self.text = text


class NotFound(PortalError):
    pass


class UnknownAccount(NotFound):
    pass


class UnknownOrganization(NotFound):
    pass


class UnknownCharger(NotFound):
    def __init__(self, serial: str) -> None:
        super().__init__(f"no charger with serial number {serial}")
        self.serial = serial


class UnknownRequest(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(f"no request {reference} that you can see")
        self.reference = reference


class NotAllowed(PortalError):
    pass


class NotSupportAgent(NotAllowed):
    pass


class NotServiceOperator(NotAllowed):
    pass


class NotRequester(NotAllowed):
    pass


class OwnCharger(NotAllowed):
    def __init__(self, serial: str) -> None:
        super().__init__(f"your organization is the Service Operator of {serial}: raise a service ticket yourself")
        self.serial = serial


class NotEligible(NotAllowed):
    def __init__(self, decision: EligibilityDecision) -> None:
        super().__init__(f"not eligible: {decision.outcome}")
        self.decision = decision


class Conflict(PortalError):
    pass


class InvalidTransition(Conflict):
    def __init__(self, reference: str, status: str, action: str) -> None:
        super().__init__(f"{reference} is {status}; it cannot be {action}")
        self.reference = reference
        self.status = status
        self.action = action


class ReopenWindowClosed(Conflict):
    """A resolved request the customer's side may no longer reopen: a new request, following it, is the way."""

    def __init__(self, reference: str, resolved_at: datetime, days: int) -> None:
        super().__init__(f"{reference} was resolved more than {days} days ago; it can no longer be reopened")
        self.reference = reference
        self.resolved_at = resolved_at
        self.days = days


class AlreadyAnswered(Conflict):
    pass


class AlreadyServiceOperator(Conflict):
    def __init__(self, serials: list[str]) -> None:
        super().__init__("your organization is already the Service Operator of " + ", ".join(serials))
        self.serials = serials


class TransferAlreadyPending(Conflict):
    def __init__(self, serials: list[str]) -> None:
        super().__init__("a management transfer is already pending for " + ", ".join(serials))
        self.serials = serials


class FaultReportedRecently(Conflict):
    def __init__(self, serial: str, again_at: datetime) -> None:
        when = f"{again_at:%Y-%m-%d %H:%M} UTC"
        super().__init__(f"you reported a fault on {serial} recently; you may report it again from {when}")
        self.serial = serial
        self.again_at = again_at


class OperatorChanged(Conflict):
    pass


class ImportFailed(PortalError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
