"""Answers to support queries — `status [REF]`, `charger SERIAL`, `withdraw REF`, `help` — for `/support` and
for mentions.

Everything here is shown to the asker only (ephemeral messages, the App Home tab): who may see which request
or charger is the portal's decision (`get_request`, `charger_overview`); this module only words the answer.
All text that comes from people or the database is escaped, so `<!channel>` in a description stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from actions.withdraw import confirm_buttons
from actions.withdraw import withdraw_button as action_withdraw_button
from bot.engine.responses import Button
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.blocks import ENTRY_BUTTON, MAX_SECTION, choices, escape, thread_block_id
from bot.slack.people.agents import Agents
from bot.slack.people.identity import WORKSPACE_NOT_VERIFIED
from portal import services
from portal.dates import day, moment
from portal.domain.actors import Actor, Customer
from portal.domain.eligibility import EligibilityDecision, Outcome
from portal.domain.requests import kind_of_reference, normalise_reference
from portal.domain.serials import is_valid_serial
from portal.errors import (
    InvalidTransition,
    MalformedSerial,
    NotRequester,
    UnknownAccount,
    UnknownCharger,
    UnknownRequest,
)
from portal.services.overview import ChargerOverview
from portal.services.workspaces import IdentityStatus
from portal.status_text import kind_label, status_label
from portal.views import RequestDetail, RequestSummary, is_withdrawable

Reply = tuple[str, list[dict[str, Any]]]

MAX_LISTED = 15
TRANSFER_BUTTON = "Request a management transfer"

HELP = (
    "*What I can tell you here* (only you see these answers):\n"
    "• `status`: your requests and your organization's, and what happens next\n"
    "• `status MT-000042`: one request in detail\n"
    "• `charger ACE0123456`: a charger, its Service Operator and its warranty, if your organization operates it\n"
    "• `withdraw ST-000012 <why>`: take back a request of yours that support hasn't decided yet, telling them why "
    "(I ask you first)\n"
    "• `help`: this list\n"
    "To raise a service ticket, ask for account changes or request a management transfer, press the button. "
    "The *Home* tab of the app shows your chargers and requests at any time."
)
NO_ACCOUNT = (
    "I can't find a support portal account for the email address of your Slack profile. Please register in the "
    "support portal with your work email address, then ask me again."
)
# users.info came back without an email: Slack keeps it from us, so "no account" would be a guess (issue 13 §9).
NO_EMAIL = (
    "Slack doesn't share the email address of your profile with me, so I can't tell which support portal account "
    "is yours. Your workspace may hide email addresses from apps: ask your Slack admin to allow it, or reach "
    "support through the support portal."
)
WITHDRAW_CHOICES_BUTTON = Button("Choose a request to withdraw", "/withdraw_request")
WITHDRAW_EXAMPLE = "`withdraw ST-000012 it works again`"
# The reason rides on the "Yes" button, whose value Slack caps at 2000 characters (JSON-escaped, a character may
# take six): well under the portal's own limit.
WITHDRAW_REASON_MAX = 300


def no_account_text(identity: str | None) -> str:
    """Why the asker's account cannot be found: Slack hid their email, or no account has it."""
    return NO_EMAIL if identity == IdentityStatus.NO_EMAIL else NO_ACCOUNT


async def answer(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, text: str
) -> Reply | None:
    """The answer to `text` (the words after `/support`, or after a mention), or None when it is not a query.

    `team_id` is the asker's own workspace (it differs from ours for Slack Connect users). Who the asker is comes
    from the identity resolver: a verified email names their account; an unverified workspace hears that and
    nothing else. Agents (members of the home workspace) see every request and charger. Raises
    IdentityUnavailable (bot.slack.people.identity) when Slack cannot say who the asker is right now.
    """
    words = text.split()
    command = words[0].lower() if words else ""
    if command in ("", "help"):
        return help_reply() if len(words) <= 1 else None
    if command == "status" and len(words) <= 2:
        if len(words) == 1:
            return await _status_list(conversations, agents, user_id, team_id)
        reference = normalise_reference(words[1])
        return await _status_one(conversations, agents, user_id, team_id, reference) if reference else None
    if command == "charger":
        return await _charger(conversations, agents, user_id, team_id, words[1:])
    if command == "withdraw":
        _, word, reason = [*text.split(None, 2), "", ""][:3]
        if reason and normalise_reference(word) is None:
            return None  # a sentence ("withdraw my ticket please"): the conversation asks which one
        return await _withdraw(conversations, user_id, team_id, word, reason.strip())
    return None


def help_reply(lead: str | None = None) -> Reply:
    text = f"{lead}\n\n{HELP}" if lead else HELP
    return _reply(text, (ENTRY_BUTTON,))


def not_understood(text: str) -> Reply:
    return help_reply(f"I didn't understand `{escape(text.strip()[:200])}`.")


# ---------------------------------------------------------------------------------------------- status


async def _status_list(conversations: SlackConversations, agents: Agents, user_id: str, team_id: str) -> Reply:
    is_agent = await agents.is_agent(user_id)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified and not is_agent:
        return _reply(WORKSPACE_NOT_VERIFIED)
    email = person.email
    queue_hint = "\nThe requests waiting for support are on the app's *Home* tab." if is_agent else ""
    try:
        requests = await services.list_requests(conversations.portal.uow(), email)
    except UnknownAccount:
        if is_agent:
            return _reply("You have no customer requests of your own." + queue_hint)
        return _reply(no_account_text(person.status))
    if not requests:
        return _reply("You and your organization have no requests yet." + queue_hint, (ENTRY_BUTTON,))
    lines = [request_line(r) for r in requests[:MAX_LISTED]]
    more = len(requests) - MAX_LISTED
    if more > 0:
        lines.append(f"…and {more} older; the app's *Home* tab lists them all.")
    return _reply("*Your requests and your organization's*, newest first:\n" + "\n".join(lines) + queue_hint)


async def _status_one(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, reference: str
) -> Reply:
    viewer = await _viewer(conversations, agents, user_id, team_id)
    if viewer is None:
        return _reply(WORKSPACE_NOT_VERIFIED)
    try:
        detail = await services.get_request(conversations.portal.uow(), viewer, reference)
    except UnknownRequest:
        # Exactly the same answer whether it does not exist or belongs to someone else.
        return _reply(f"There is no request {escape(reference)} that you can see. `status` lists yours.")
    may_withdraw = isinstance(viewer, Customer) and await _may_withdraw(conversations, viewer, detail.summary)
    buttons = (withdraw_button(detail.summary.reference),) if may_withdraw else ()
    return _reply(describe(detail, for_agent=not isinstance(viewer, Customer)), buttons)


async def _may_withdraw(conversations: SlackConversations, customer: Customer, summary: RequestSummary) -> bool:
    """Whether the customer may withdraw the request now: the portal's own check, so that the button shows only
    where its press would be accepted (a Service Operator sees a transfer of its chargers, but may not withdraw
    it). The press asks first, and the portal checks again then."""
    if not is_withdrawable(summary):
        return False
    try:
        await services.check_withdrawal(conversations.portal.uow(), customer.email, summary.reference)
    except (UnknownAccount, UnknownRequest, NotRequester, InvalidTransition):
        return False
    return True


def describe(detail: RequestDetail, *, for_agent: bool) -> str:
    s = detail.summary
    lines = [
        f"*{escape(s.reference)}*: {kind_label(s.kind)}",
        f"*Status*: {escape(status_label(s.kind, s.status))}",
        f"*Opened*: {day(s.created_at.date())}; last change {day(s.updated_at.date())}",
    ]
    if s.in_warranty is not None:
        lines.append("*Warranty*: " + ("in warranty" if s.in_warranty else "out of warranty (the visit may be billed)"))
    if detail.lines:
        if s.kind == "transfer":
            # DESIGN.md §1: a transfer shows the current Service Operator whose consent it needs.
            lines.extend(
                f"• {escape(line.serial)}: current Service Operator {escape(line.operator)}, "
                + {"consented": "consented", "declined": "declined"}.get(line.answer or "", "answer pending")
                for line in detail.lines
            )
        else:
            lines.append("*Chargers*: " + escape(", ".join(line.serial for line in detail.lines)))
    if for_agent:
        who = detail.requester_email + (f" ({detail.organization})" if detail.organization else "")
        lines.append(f"*Requested by*: {escape(who)}")
        if detail.assignee:
            lines.append(f"*Assigned to*: <@{escape(detail.assignee)}>")
    if detail.resolution:
        lines.append(f"*Support's note*: {escape(detail.resolution)}")
    lines.append(f"*Description*: {escape(detail.description)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- withdraw


async def _withdraw(conversations: SlackConversations, user_id: str, team_id: str, word: str, reason: str) -> Reply:
    """`withdraw REF <reason>`: the question before the withdrawal, with its two buttons; the "Yes" button withdraws
    through the conversation (actions/withdraw.py), with the reason, and the portal checks again. Without a reason,
    once the request is known to be withdrawable, the usage line: support wants to know why, and nothing changes.
    Agents act on the triage card instead, so they are answered as the customers they may also be."""
    if not word:
        return _reply(
            f"Which request, and why? For example {WITHDRAW_EXAMPLE}; `status` lists yours.",
            (WITHDRAW_CHOICES_BUTTON,),
        )
    reference = normalise_reference(word)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified:
        return _reply(WORKSPACE_NOT_VERIFIED)
    actor = f"slack:{user_id}"
    uow = conversations.portal.uow
    try:
        summary = await services.check_withdrawal(uow(), person.email, reference or word)
    except UnknownAccount:
        return _reply(no_account_text(person.status))
    except UnknownRequest:
        # Exactly the same answer whether it does not exist or belongs to someone else; the attempt is remembered.
        await services.audit_refusal(uow(), actor, "withdraw", reference or word, "UnknownRequest", "not theirs")
        shown = escape(reference or word[:40])
        return _reply(f"There is no request {shown} that you can see. `status` lists yours.")
    except NotRequester:
        await services.audit_refusal(uow(), actor, "withdraw", reference, "NotRequester", "may see, not withdraw")
        return _reply(
            f"Only the person who asked for {escape(reference or '')}, or someone of their organization, can "
            "withdraw it. Nothing was changed."
        )
    except InvalidTransition as decided:
        kind = kind_of_reference(decided.reference)
        state = status_label(kind.value, decided.status) if kind else decided.status
        return _reply(f"{escape(decided.reference)} is already {escape(state)}, so it can't be withdrawn any more.")
    what = f"{kind_label(summary.kind)} *{escape(summary.reference)}*"
    if not reason:
        return _reply(
            f"To withdraw your {what}, tell support why after the reference, for example "
            f"`withdraw {escape(summary.reference)} it works again`. Nothing was changed."
        )
    if len(reason) > WITHDRAW_REASON_MAX:
        return _reply(f"Please keep the reason under {WITHDRAW_REASON_MAX} characters. Nothing was changed.")
    about = f" ({escape(', '.join(summary.serials))})" if summary.serials else ""
    return _reply(
        f"Withdraw your {what}{about}, because “{escape(reason)}”? Support stops working on it, and it can't be "
        "undone: if you need help again later, you'll file a new request.",
        withdraw_question_buttons(summary.reference, reason),
    )


def withdraw_button(reference: str) -> Button:
    """`Withdraw ST-000001`: asks first, in the conversation (actions/withdraw.py)."""
    button = action_withdraw_button(reference)
    return Button(button["title"], button["payload"])


def withdraw_question_buttons(reference: str, reason: str | None = None) -> tuple[Button, ...]:
    """The same two buttons the conversation shows (actions/withdraw.py), so a press continues there."""
    return tuple(Button(b["title"], b["payload"]) for b in confirm_buttons(reference, reason))


# ---------------------------------------------------------------------------------------------- charger


async def _charger(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, words: Sequence[str]
) -> Reply | None:
    typed = " ".join(words)
    if not words:
        return _reply("Which charger? For example `charger ACE0123456`, with the serial number from its label.")
    if not is_valid_serial(typed) and len(words) > 1:
        return None  # a sentence that starts with "charger", not a query: let the conversation handle it
    viewer = await _viewer(conversations, agents, user_id, team_id)
    if viewer is None:
        return _reply(WORKSPACE_NOT_VERIFIED)
    try:
        overview = await services.charger_overview(conversations.portal.uow(), viewer, typed)
    except MalformedSerial as error:
        return _reply(f"`{escape(typed[:40])}` is not a serial number: {escape(str(error))}.")
    except UnknownCharger as error:
        return _reply(
            f"I don't know a charger with serial number {escape(error.serial)}. Please check the label on the "
            "bottom of the charger.",
            (ENTRY_BUTTON,),
        )
    serial = escape(overview.serial)
    if overview.details is not None:
        d = overview.details
        warranty = "in warranty" if d.in_warranty else "warranty ended"
        lines = [
            f"*{serial}*: {escape(d.model)}",
            f"*Service Operator*: {escape(d.service_operator)}{_yours(overview)}",
            f"*Warranty*: until {day(d.warranty_until)} ({warranty}); shipped {day(d.shipped_at)}",
        ]
        if d.open_requests:
            lines.append("*Open requests*:")
            lines.extend(request_line(r) for r in d.open_requests[:MAX_LISTED])
        else:
            lines.append("*Open requests*: none")
        return _reply("\n".join(lines), (ENTRY_BUTTON,) if overview.operated_by_viewer else ())
    return _managed_elsewhere(overview)


def _yours(overview: ChargerOverview) -> str:
    if not overview.operated_by_viewer:
        return ""
    if overview.account_problem is None:
        return " (your organization: you can raise service tickets on it)"
    return " (your organization)"


def _managed_elsewhere(overview: ChargerOverview) -> Reply:
    """Another organization manages the charger: say so without naming it, and what the asker can do."""
    serial = escape(overview.serial)
    own_reference = overview.own_pending_reference
    lead = (
        f"{serial} is managed by another organization, its Service Operator (often the reseller or installer that "
        "supplied it). Only the Service Operator can raise service tickets on it."
    )
    if own_reference:
        return _reply(
            f"{lead}\nYour organization's management transfer {escape(own_reference)} for it is waiting for a "
            f"decision; `status {escape(own_reference)}` shows where it stands."
        )
    if overview.transfer_pending:
        return _reply(f"{lead}\nA management transfer for it is already waiting for a decision.")
    if overview.can_request_transfer:
        payload = "/request_transfer" + json.dumps({"serial": overview.serial})
        return _reply(
            f"{lead}\nIf your organization should look after it, request a management transfer: the current "
            "Service Operator is asked to consent, then support approves, and your organization becomes its "
            "Service Operator.",
            (Button(TRANSFER_BUTTON, payload),),
        )
    return _reply(f"{lead}\n{account_hint(overview.account_problem)}", (ENTRY_BUTTON,))


def account_hint(problem: EligibilityDecision | None) -> str:
    """Why the asker cannot request a transfer (or raise tickets) yet, and what to do."""
    if problem is None or problem.outcome is Outcome.NO_ACCOUNT:
        return NO_ACCOUNT
    if problem.outcome is Outcome.NOT_YET_SERVICE_CUSTOMER and problem.service_customer_from:
        return (
            "Your account was registered recently; it is linked for service from "
            f"{moment(problem.service_customer_from)}. Please ask again after that."
        )
    return (
        "Your account isn't linked to an organization yet. Press the button and choose *Administrative changes* "
        "so that support links it to your company."
    )


# ---------------------------------------------------------------------------------------------- wording


async def _viewer(conversations: SlackConversations, agents: Agents, user_id: str, team_id: str) -> Actor | None:
    """The portal actor for the asker, or None for a person of an unverified workspace (who sees nothing)."""
    agent = await agents.agent(user_id)
    if agent is not None:
        return agent
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified:
        return None
    # No verified email: an account that cannot exist, so the portal shows nothing private.
    return Customer(person.email or "")


def request_line(summary: RequestSummary) -> str:
    """`• *MT-000001* management transfer (ACE0100002): waiting for …; opened 1 March 2026`"""
    about = f" ({escape(', '.join(summary.serials))})" if summary.serials else ""
    return (
        f"• *{escape(summary.reference)}* {kind_label(summary.kind)}{about}: "
        f"{escape(status_label(summary.kind, summary.status))}; opened {day(summary.created_at.date())}"
    )


def _reply(text: str, buttons: Sequence[Button] = ()) -> Reply:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION]))]
    if buttons:
        # No thread: a press starts the conversation where the answer was shown (a DM or the channel).
        blocks.append(choices(buttons, thread_block_id(0, None)))
    fallback = re.sub(r"[*`]", "", text)[:MAX_SECTION]
    return fallback, [block.to_dict() for block in blocks]
