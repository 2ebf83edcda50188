"""What keeps requests from stalling unseen, in words (issue 16 §4): the daily SLA digest in the triage channel, the
assignee's DM before a target passes (both in the agents' language), and the requester's reminder and closing news
when support's question went unanswered (in the requester's language).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from bot.slack.messages.blocks import escape
from bot.slack.messages.home import clock_text
from bot.slack.messages.wording import ENGLISH, age, day_text, kind_text
from portal.domain.sla import SlaState, Target
from portal.languages.texts import Texts
from portal.services.facts import RequestFacts


def digest_text(payload: Mapping[str, Any], t: Texts = ENGLISH) -> str:
    """The day's digest: the late requests, then the unassigned ones; a short all clear when there are none."""
    late: Sequence[Mapping[str, Any]] = payload.get("late") or []
    unassigned: Sequence[Mapping[str, Any]] = payload.get("unassigned") or []
    day = day_text(t, date.fromisoformat(str(payload.get("day"))))
    if not late and not unassigned:
        return t.gettext("SLA digest for {day}: all clear, nothing is late or unassigned.").format(day=day)
    lines = [t.gettext("*SLA digest for {day}*").format(day=day)]
    parts = (
        (t.gettext("*Late* ({count})"), late, int(payload.get("late_count") or len(late))),
        (t.gettext("*Unassigned* ({count})"), unassigned, int(payload.get("unassigned_count") or len(unassigned))),
    )
    for title, items, count in parts:
        if not count:
            continue
        lines.append(title.format(count=count))
        lines += [_digest_line(item, t) for item in items]
        if count > len(items):
            lines.append(t.gettext("… and {count} more.").format(count=count - len(items)))
    return "\n".join(lines)


def _digest_line(item: Mapping[str, Any], t: Texts) -> str:
    line = t.gettext("• *{reference}* {kind}, {organization}: open {age}; {state}").format(
        reference=escape(str(item.get("reference"))),
        kind=kind_text(t, str(item.get("kind"))),
        organization=escape(str(item["organization"])) if item.get("organization") else t.gettext("no organization"),
        age=age(timedelta(minutes=int(item.get("age_minutes") or 0)), t),
        state=_state(item, t),
    )
    assignee = item.get("assignee")
    return f"{line} · <@{assignee}>" if assignee else line


def _state(item: Mapping[str, Any], t: Texts) -> str:
    left = timedelta(minutes=int(item.get("left_minutes") or 0))
    paused_in = item.get("paused_in")
    return clock_text(Target(str(item["target"])), SlaState(str(item["state"])), left, paused_in, t)


def breach_warning_text(facts: RequestFacts, payload: Mapping[str, Any], t: Texts = ENGLISH) -> str:
    """The DM to the assignee: which request, and how close its target is (or how far past)."""
    state = _state(payload, t)
    about = t.gettext("{kind}, {organization}").format(
        kind=kind_text(t, facts.kind),
        organization=escape(facts.organization) if facts.organization else t.gettext("no organization"),
    )
    if payload.get("state") == SlaState.BREACHED:
        text = t.gettext("*{reference}* ({about}) has missed its target: {state}.")
    else:
        text = t.gettext("*{reference}* ({about}) is about to miss its target: {state}.")
    return text.format(reference=escape(facts.reference), about=about, state=state)


def customer_reminder_text(facts: RequestFacts, question: str | None, close_on: date, t: Texts = ENGLISH) -> str:
    """The requester's one reminder: support still waits for their answer, with the question, and until when."""
    text = t.gettext("Support is still waiting for your answer about your {kind} {reference}.").format(
        kind=kind_text(t, facts.kind), reference=facts.reference
    )
    if question:
        text += "\n" + t.gettext("Their question: {question}").format(question=_quoted(question))
    text += "\n" + t.gettext(
        "Please answer so they can go on. Without an answer, the request will be closed on {day}."
    ).format(day=day_text(t, close_on))
    return text


def unanswered_close_text(facts: RequestFacts, t: Texts = ENGLISH) -> str:
    """Why the request ended (no answer came to support's question), and how to start again."""
    return t.gettext(
        "Support closed your {kind} {reference} because no answer came to their question. If you still need help, "
        "type `/support` or write to me to start a new request, and mention {reference}."
    ).format(kind=kind_text(t, facts.kind), reference=facts.reference)


def _quoted(text: str) -> str:
    """Support's question as a Slack quote, each of its lines."""
    return "\n" + "\n".join(f"> {escape(line)}" for line in text.splitlines() or [""])
