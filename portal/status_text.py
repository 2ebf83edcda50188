"""How request kinds and statuses read to customers and agents, in one place for every surface.

The labels are English source texts (marked for the catalogs with `N_`), translated where they are shown into the
reader's language.
"""

from __future__ import annotations

from portal.languages import DEFAULT_LANGUAGE
from portal.languages.texts import N_, texts

KIND_LABELS = {
    # Translators: the kinds of request, lowercase: they stand inside sentences ("your service ticket ST-000001").
    "service_ticket": N_("service ticket"),
    "administrative": N_("administrative request"),
    "transfer": N_("management transfer"),
}

# What the status means for the person waiting, i.e. what happens next.
STATUS_LABELS = {
    # Translators: the statuses complete "Your service ticket ST-000001 is now …" and "ST-000001 is already …".
    ("service_ticket", "open"): N_("open, waiting for support to pick it up"),
    ("service_ticket", "in_progress"): N_("in progress with support"),
    ("service_ticket", "resolved"): N_("resolved"),
    ("service_ticket", "closed"): N_("closed"),
    ("service_ticket", "withdrawn"): N_("withdrawn"),
    ("service_ticket", "rejected"): N_("rejected by support"),
    # Support asked the customer's side a question; the request goes on with their answer.
    ("service_ticket", "waiting_for_customer"): N_("waiting for an answer to support's question"),
    ("administrative", "open"): N_("open, waiting for support"),
    ("administrative", "resolved"): N_("done"),
    ("administrative", "rejected"): N_("rejected"),
    ("administrative", "withdrawn"): N_("withdrawn"),
    ("administrative", "waiting_for_customer"): N_("waiting for an answer to support's question"),
    ("administrative", "closed"): N_("closed without an answer to support's question"),
    ("transfer", "awaiting_operator"): N_("waiting for the current Service Operator to consent"),
    # Consented by every Service Operator, or sent to support because one cannot be reached: support decides.
    ("transfer", "awaiting_support"): N_("waiting for support to decide"),
    ("transfer", "completed"): N_("completed"),
    ("transfer", "declined_by_operator"): N_("declined by the current Service Operator"),
    ("transfer", "rejected"): N_("rejected by support"),
    ("transfer", "cancelled"): N_("cancelled (withdrawn)"),
    ("transfer", "waiting_for_customer"): N_("waiting for an answer to support's question"),
    ("transfer", "expired"): N_("no answer from the current Service Operator in time; support decides"),
}


def kind_label(kind: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`service ticket`, in `language` (an unknown kind reads as it is stored)."""
    label = KIND_LABELS.get(kind)
    return texts(language).gettext(label) if label else kind


def status_label(kind: str, status: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What the status means for the person waiting, in `language` (an unknown one reads as it is stored)."""
    label = STATUS_LABELS.get((kind, status))
    return texts(language).gettext(label) if label else status.replace("_", " ")
