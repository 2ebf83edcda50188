"""One line per request in an agent's list: the App Home's queue and the search's results say a request the same way.

`• *ST-000001* service ticket (10001R002), GreenFleet: open; waiting 3 h · _first response due in 1 h_ · <@U1>`
"""

from __future__ import annotations

from datetime import datetime

from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import age, kind_text, status_text
from portal.languages.texts import N_, Texts
from portal.services.overview import QueueItem

# How long it has been, as each list counts it: the queue says how long support has kept the customer waiting, the
# search when it was filed (a search finds decided requests too, for which "waiting" would not be true).
WAITING = N_("• *{reference}* {kind}{about}, {organization}: {status}; waiting {age}")
FILED = N_("• *{reference}* {kind}{about}, {organization}: {status}; filed {age} ago")


def queue_line(item: QueueItem, now: datetime, t: Texts, wording: str, note: str = "") -> str:
    """reference, kind (chargers), organization: status; age in `wording` (WAITING or FILED), then `note` in italics
    when there is one (the SLA clock's state on the queue), then the assignee."""
    r = item.request
    line = t.gettext(wording).format(
        reference=escape(r.reference),
        kind=kind_text(t, r.kind),
        about=f" ({escape(', '.join(r.serials))})" if r.serials else "",
        organization=escape(item.organization) if item.organization else t.gettext("no organization"),
        status=escape(status_text(t, r.kind, r.status)),
        age=age(now - r.created_at, t),
    )
    if note:
        line += f" · _{note}_"
    return f"{line} · <@{escape(item.assignee)}>" if item.assignee else line
