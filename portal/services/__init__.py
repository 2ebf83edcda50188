"""Async use cases. Each takes a fresh UnitOfWork, runs one transaction and returns plain values.

Re-exported here so surfaces import `portal.services` only.
"""

from portal.services.accounts import account_organizations, link_account
from portal.services.administrative import open_administrative_request, resolve_administrative_request
from portal.services.asked import filed_under
from portal.services.audit import audit_entries, audit_refusal
from portal.services.consent import answer_consent
from portal.services.decisions import assign_request, reject_request, set_ticket_status
from portal.services.eligibility import check_eligibility
from portal.services.facts import organization_names, request_facts
from portal.services.faults import (
    fault_for_operator,
    fault_for_support,
    fault_not_ours,
    fault_notice,
    fault_report_for_reporter,
    fault_reporter,
    fault_reports_of,
    faults_with_support,
    open_ticket_from_fault,
    report_fault,
    send_unreachable_fault_to_support,
)
from portal.services.handoff import ask_for_person
from portal.services.messages import add_from_requester, write_to_requester
from portal.services.overview import (
    account_overview,
    agent_queue,
    charger_overview,
    requests_by_kind_and_state,
    support_queue,
)
from portal.services.queries import charger_choices, check_serials, get_request, list_requests, organization_chargers
from portal.services.reopen import close_as_duplicate, open_follow_up_ticket, reopen_ticket, reopen_ticket_as_agent
from portal.services.search import open_requests_naming, search_requests
from portal.services.sla import record_sla_digest, remind_waiting_customers, warn_before_breach
from portal.services.tickets import open_service_ticket
from portal.services.transfers import (
    answer_transfer,
    approve_transfer,
    cancel_transfer,
    expire_stale_transfers,
    remind_awaited_consents,
    request_transfer,
    send_unreachable_transfer_to_support,
)
from portal.services.withdrawals import check_withdrawal, withdraw_request, withdrawable_requests
from portal.services.workspaces import (
    ask_workspace_verification,
    identify,
    link_workspace,
    workspace_links,
    workspace_organizations,
)

__all__ = [
    "account_organizations",
    "account_overview",
    "add_from_requester",
    "agent_queue",
    "answer_consent",
    "answer_transfer",
    "approve_transfer",
    "ask_for_person",
    "ask_workspace_verification",
    "assign_request",
    "audit_entries",
    "audit_refusal",
    "cancel_transfer",
    "charger_choices",
    "charger_overview",
    "check_eligibility",
    "check_serials",
    "check_withdrawal",
    "close_as_duplicate",
    "expire_stale_transfers",
    "fault_for_operator",
    "fault_for_support",
    "fault_not_ours",
    "fault_notice",
    "fault_report_for_reporter",
    "fault_reporter",
    "fault_reports_of",
    "faults_with_support",
    "filed_under",
    "get_request",
    "identify",
    "link_account",
    "link_workspace",
    "list_requests",
    "open_administrative_request",
    "open_follow_up_ticket",
    "open_requests_naming",
    "open_service_ticket",
    "open_ticket_from_fault",
    "organization_chargers",
    "organization_names",
    "record_sla_digest",
    "reject_request",
    "remind_awaited_consents",
    "remind_waiting_customers",
    "reopen_ticket",
    "reopen_ticket_as_agent",
    "report_fault",
    "request_facts",
    "request_transfer",
    "requests_by_kind_and_state",
    "resolve_administrative_request",
    "search_requests",
    "send_unreachable_fault_to_support",
    "send_unreachable_transfer_to_support",
    "set_ticket_status",
    "support_queue",
    "warn_before_breach",
    "withdraw_request",
    "withdrawable_requests",
    "workspace_links",
    "workspace_organizations",
    "write_to_requester",
]
