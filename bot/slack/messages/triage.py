"""The triage channel's message for a request: what an agent needs, and the buttons that fit its kind and state."""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import escape
from bot.slack.messages.wording import ENGLISH, first_upper, kind_text, language_name, status_text
from portal.dates import short_moment
from portal.domain.requests import WAITING_FOR_CUSTOMER
from portal.languages.texts import N_, Texts
from portal.services.facts import RequestFacts
from portal.views import is_askable

APPROVE, REJECT, ASSIGN, PROGRESS, RESOLVE, CLOSE, LINK, REOPEN, DUPLICATE = (
    "triage_approve",
    "triage_reject",
    "triage_assign",
    "triage_progress",
    "triage_resolve",
    "triage_close",
    "triage_link",
    "triage_reopen",
    "triage_duplicate",
)
TRIAGE_ACTIONS = (APPROVE, REJECT, ASSIGN, PROGRESS, RESOLVE, CLOSE, LINK, REOPEN, DUPLICATE)
# Agent → customer (issue 16 §1): a row of their own under the decisions, on every request still under way.
REPLY, ASK = "triage_reply", "triage_ask"
DESCRIPTION_SHOWN = 1500


def who(actor: str) -> str:
    """An actor label as agents read it: a Slack mention for agents, the email for accounts."""
    kind, _, ident = actor.partition(":")
    if kind == "agent":
        return f"<@{ident}>"
    if kind == "account":
        return escape(ident)
    return escape(actor)


def buttons_for(facts: RequestFacts, t: Texts = ENGLISH) -> list[tuple[str, str, str | None]]:
    """(action id, title, style) of the decisions that fit the request's kind and state."""
    if facts.is_closed:
        return []
    assign = (ASSIGN, t.gettext("Assign to me"), None)
    approve, reject = (APPROVE, t.gettext("Approve"), "primary"), (REJECT, t.gettext("Reject"), "danger")
    if facts.kind == "transfer":
        return [approve, reject, assign]
    if facts.kind == "administrative":
        choices = [(RESOLVE, t.gettext("Approve"), "primary"), reject, assign]
        if facts.topic == "not_linked":
            choices.insert(0, (LINK, t.gettext("Link account to an organization"), "primary"))
        return choices
    resolve = (RESOLVE, t.gettext("Resolve"), "primary")
    # A service ticket support will not work on is rejected (with a reason), one already filed is a duplicate.
    refuse = [reject, (DUPLICATE, t.gettext("Duplicate of…"), None)]
    if facts.status == "open":
        return [(PROGRESS, t.gettext("In progress"), None), resolve, assign, *refuse]
    if facts.status in ("in_progress", WAITING_FOR_CUSTOMER):
        return [resolve, assign, *refuse]
    # resolved: reopening when the fix did not hold, or closing for good
    return [(REOPEN, t.gettext("Reopen"), None), (CLOSE, t.gettext("Close"), None)]


ANSWERS = {"consented": N_("consented"), "declined": N_("declined")}
# Reasons the portal itself gives (portal.domain.transfers.UNREACHABLE_REASON), shown in the agents' language.
SYSTEM_REASONS = frozenset({N_("the current Service Operator cannot be reached in Slack")})


def relay_buttons_for(facts: RequestFacts, t: Texts = ENGLISH) -> list[tuple[str, str, str | None]]:
    """(action id, title, style) of writing to the requester: on a request under way; asking only where its status
    lets it wait for the answer (or it already waits)."""
    if facts.is_closed:
        return []
    choices: list[tuple[str, str, str | None]] = [(REPLY, t.gettext("Reply to requester"), None)]
    if is_askable(facts.kind, facts.status):
        choices.append((ASK, t.gettext("Ask for information"), None))
    return choices


def triage_message(facts: RequestFacts, t: Texts = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    """The card agents read, in `t`'s language (the agents', English by default). The customer's words (the
    description) are shown as written, with the name of the language they wrote in when the request's origin
    says which."""
    title = f"{first_upper(kind_text(t, facts.kind))} {facts.reference}"
    state = status_text(t, facts.kind, facts.status)
    lines = [
        f"*{escape(title)}* — {escape(state)}",
        t.gettext("*Requester:* {email} ({organization})").format(
            email=escape(facts.requester_email), organization=escape(facts.organization or t.gettext("no organization"))
        ),
    ]
    written_in = language_name((facts.origin or {}).get("language"))
    if written_in:
        lines.append(t.gettext("*Language:* {language}").format(language=t.gettext(written_in)))
    if facts.topic == "handoff":
        lines.append(
            t.gettext("*Asked to talk to a person*: the description is the conversation so far; reply to them here.")
        )
    for charger in facts.chargers:
        if charger.warranty_until:
            until = format_date(charger.warranty_until, "dd MMM y", locale=t.locale)  # "01 Mar 2029"
            warranty = (
                t.gettext("warranty until {until} (in warranty)")
                if charger.in_warranty
                else t.gettext("warranty until {until} (out of warranty)")
            ).format(until=until)
        else:
            warranty = t.gettext("warranty unknown")
        answer = (
            "; "
            + t.gettext("{answer} by {who}").format(
                answer=t.gettext(ANSWERS.get(charger.answer, charger.answer)), who=who(charger.answered_by or "")
            )
            if charger.answer
            else ""
        )
        # The Service Operator now, which a completed transfer may have changed since the request was filed
        # (the notifier refreshes the card then); the one it was filed with too when they differ.
        current = charger.current_operator if charger.current_operator != "?" else charger.operator
        was = (
            " " + t.gettext("(SO {operator} when filed)").format(operator=escape(charger.operator))
            if current != charger.operator
            else ""
        )
        lines.append(
            t.gettext("*Charger {serial}:* SO {operator}, {warranty}").format(
                serial=escape(charger.serial), operator=escape(current) + was, warranty=warranty
            )
            + answer
        )
    description = facts.description[:DESCRIPTION_SHOWN] + ("…" if len(facts.description) > DESCRIPTION_SHOWN else "")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        SectionBlock(text=MarkdownTextObject(text=t.gettext("*Description:*") + f"\n{escape(description)}")),
    ]
    last = facts.history[-1] if facts.history else None
    notes = []
    if facts.follows:
        notes.append(t.gettext("Follows {reference}").format(reference=escape(facts.follows)))
    if facts.duplicate_of:
        notes.append(t.gettext("Duplicate of {reference}").format(reference=escape(facts.duplicate_of)))
    if last is not None and len(facts.history) > 1:
        said = t.gettext(last.reason) if last.reason in SYSTEM_REASONS else last.reason
        reason = f": {escape(said)}" if said else ""
        what = first_upper(escape(status_text(t, facts.kind, last.to_status)))
        if last.from_status == "resolved" and last.to_status in ("open", "in_progress"):
            what = t.gettext("Reopened")  # the fix did not hold
        notes.append(
            t.gettext("{what} by {who}, {moment}").format(what=what, who=who(last.actor), moment=short_moment(last.at))
            + reason
        )
    if facts.assignee:
        notes.append(t.gettext("Assigned to {agent}").format(agent=f"<@{escape(facts.assignee)}>"))
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    # The decisions first, then the conversation with the customer: two rows, each with its own block id prefix.
    for row in (
        _button_row("triage", facts.reference, buttons_for(facts, t)),
        _button_row("relay", facts.reference, relay_buttons_for(facts, t)),
    ):
        if row is not None:
            blocks.append(row)
    return f"{title}: {state}", [b.to_dict() for b in blocks]


def _button_row(prefix: str, reference: str, buttons: list[tuple[str, str, str | None]]) -> ActionsBlock | None:
    """A row of (action id, title, style) buttons that all carry `reference`; none when there are no buttons."""
    if not buttons:
        return None
    return ActionsBlock(
        block_id=f"{prefix}|{reference}",
        elements=[
            ButtonElement(text=title, action_id=action, value=reference, style=style)
            for action, title, style in buttons
        ],
    )


def handoff_card(payload: dict[str, Any], t: Texts = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    """The triage card for a person without a portal account who asked to talk to someone (no request exists:
    nothing may be filed for an organization on their word). Agents answer them in Slack where they asked."""
    user, team = payload.get("slack_user_id"), payload.get("slack_team_id")
    channel, thread = payload.get("channel_id"), payload.get("thread_ts")
    who_asked = f"<@{escape(str(user))}>" if user else t.gettext("someone (no Slack user known)")
    where = (
        f"<#{escape(str(channel))}>" if channel and not str(channel).startswith("D") else t.gettext("a direct message")
    )
    of_team = " " + t.gettext("of workspace {team}").format(team=escape(str(team))) if team else ""
    in_thread = " " + t.gettext("(thread {thread})").format(thread=escape(str(thread))) if thread else ""
    lines = [
        t.gettext("*A person asks to talk to support* (no verified portal account: nothing was filed)"),
        t.gettext("*Who:* {who}{team}, in {where}").format(who=who_asked, team=of_team, where=where) + in_thread,
    ]
    written_in = language_name(payload.get("language"))
    if written_in:
        lines.append(t.gettext("*Language:* {language}").format(language=t.gettext(written_in)))
    conversation = str(payload.get("conversation") or "")
    shown = conversation[:DESCRIPTION_SHOWN] + ("…" if len(conversation) > DESCRIPTION_SHOWN else "")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        SectionBlock(text=MarkdownTextObject(text=t.gettext("*Conversation:*") + f"\n{escape(shown)}")),
    ]
    text = t.gettext("A person asks to talk to support: {who}").format(who=who_asked)
    return text, [b.to_dict() for b in blocks]
