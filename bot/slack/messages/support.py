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
from bot.slack.messages.blocks import MAX_SECTION, choices, entry_button, escape, thread_block_id
from bot.slack.messages.reopen import not_reopenable, too_late
from bot.slack.messages.wording import ENGLISH, day_text, kind_text, moment_text, status_text
from bot.slack.people.agents import Agents
from bot.slack.people.identity import WORKSPACE_NOT_VERIFIED
from portal import services
from portal.domain.actors import Actor, Customer
from portal.domain.eligibility import EligibilityDecision, Outcome
from portal.domain.faults import FaultStatus, normalise_fault_reference
from portal.domain.requests import kind_of_reference, normalise_reference
from portal.domain.serials import is_valid_serial
from portal.domain.text import REASON_MAX
from portal.errors import (
    InvalidTransition,
    MalformedSerial,
    NotRequester,
    ReasonRequired,
    ReopenWindowClosed,
    UnknownAccount,
    UnknownCharger,
    UnknownRequest,
)
from portal.languages.texts import N_, Texts
from portal.services.faults import FaultReportDetail, FaultReportSummary, SupportFault
from portal.services.overview import ChargerOverview
from portal.services.workspaces import IdentityStatus
from portal.views import RequestDetail, RequestSummary, is_withdrawable

Reply = tuple[str, list[dict[str, Any]]]

MAX_LISTED = 15
TRANSFER_BUTTON = N_("Request a management transfer")

HELP = N_(
    "*What I can tell you here* (only you see these answers):\n"
    "• `status`: your requests and your organization's, and what happens next\n"
    "• `status MT-000042`: one request in detail\n"
    "• `charger ACE0123456`: a charger, its Service Operator and its warranty, if your organization operates it\n"
    "• `withdraw ST-000012 <why>`: take back a request of yours that support hasn't decided yet, telling them why "
    "(I ask you first)\n"
    "• `reopen ST-000012 <why>`: reopen a resolved service ticket of yours when the problem is back, telling support "
    "why\n"
    "• `help`: this list\n"
    "To raise a service ticket, ask for account changes or request a management transfer, press the button. "
    "The *Home* tab of the app shows your chargers and requests at any time."
)
NO_ACCOUNT = N_(
    "I can't find a support portal account for the email address of your Slack profile. Please register in the "
    "support portal with your work email address, then ask me again."
)
# users.info came back without an email: Slack keeps it from us, so "no account" would be a guess (issue 13 §9).
NO_EMAIL = N_(
    "Slack doesn't share the email address of your profile with me, so I can't tell which support portal account "
    "is yours. Your workspace may hide email addresses from apps: ask your Slack admin to allow it, or reach "
    "support through the support portal."
)
WITHDRAW_CHOICES_BUTTON = Button(N_("Choose a request to withdraw"), "/withdraw_request")
# The reason rides on the "Yes" button, whose value Slack caps at 2000 characters (JSON-escaped, a character may
# take six): well under the portal's own limit.
WITHDRAW_REASON_MAX = 300


def no_account_text(identity: str | None, t: Texts = ENGLISH) -> str:
    """Why the asker's account cannot be found: Slack hid their email, or no account has it."""
    return t.gettext(NO_EMAIL if identity == IdentityStatus.NO_EMAIL else NO_ACCOUNT)


async def answer(
    conversations: SlackConversations,
    agents: Agents,
    user_id: str,
    team_id: str,
    text: str,
    t: Texts | None = None,
) -> Reply | None:
    """The answer to `text` (the words after `/support`, or after a mention), or None when it is not a query.

    `team_id` is the asker's own workspace (it differs from ours for Slack Connect users). Who the asker is comes
    from the identity resolver: a verified email names their account; an unverified workspace hears that and
    nothing else. Agents (members of the home workspace) see every request and charger. Raises
    IdentityUnavailable (bot.slack.people.identity) when Slack cannot say who the asker is right now.

    The answer is in `t`'s language, by default the asker's (`SlackConversations.texts_for`: the language they last
    wrote in, else their Slack locale's, else English).
    """
    words = text.split()
    command = words[0].lower() if words else ""
    if command not in ("", "help", "status", "charger", "withdraw", "reopen"):
        return None
    t = t or await reader_texts(conversations, user_id)
    if command in ("", "help"):
        return help_reply(t=t) if len(words) <= 1 else None
    if command == "status" and len(words) <= 2:
        if len(words) == 1:
            return await _status_list(conversations, agents, user_id, team_id, t)
        if (fault := normalise_fault_reference(words[1])) is not None:
            return await _fault_status(conversations, agents, user_id, team_id, fault, t)
        reference = normalise_reference(words[1])
        return await _status_one(conversations, agents, user_id, team_id, reference, t) if reference else None
    if command == "charger":
        return await _charger(conversations, agents, user_id, team_id, words[1:], t)
    if command == "withdraw":
        _, word, reason = [*text.split(None, 2), "", ""][:3]
        if reason and normalise_reference(word) is None:
            return None  # a sentence ("withdraw my ticket please"): the conversation asks which one
        return await _withdraw(conversations, user_id, team_id, word, reason.strip(), t)
    if command == "reopen":
        _, word, reason = [*text.split(None, 2), "", ""][:3]
        if reason and normalise_reference(word) is None:
            return None  # a sentence ("reopen my ticket please"), not a query
        return await _reopen(conversations, user_id, team_id, word, reason.strip(), t)
    return None


async def reader_texts(conversations: SlackConversations, user_id: str) -> Texts:
    """The asker's texts: users.info first (raising IdentityUnavailable when Slack cannot answer, as `answer`
    does), so that their Slack locale counts when they have not written to the assistant yet."""
    await conversations.directory.profile(user_id)
    return await conversations.texts_for(user_id)


def help_reply(lead: str | None = None, t: Texts = ENGLISH) -> Reply:
    text = f"{lead}\n\n{t.gettext(HELP)}" if lead else t.gettext(HELP)
    return _reply(text, (entry_button(t),), t)


def not_understood(text: str, t: Texts = ENGLISH) -> Reply:
    return help_reply(t.gettext("I didn't understand `{text}`.").format(text=escape(text.strip()[:200])), t)


# ---------------------------------------------------------------------------------------------- status


async def _status_list(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, t: Texts
) -> Reply:
    is_agent = await agents.is_agent(user_id)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified and not is_agent:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    email = person.email
    queue_hint = "\n" + t.gettext("The requests waiting for support are on the app's *Home* tab.") if is_agent else ""
    try:
        requests = await services.list_requests(conversations.portal.uow(), email)
    except UnknownAccount:
        if is_agent:
            return _reply(t.gettext("You have no customer requests of your own.") + queue_hint, t=t)
        return _reply(no_account_text(person.status, t), t=t)
    faults = await services.fault_reports_of(conversations.portal.uow(), email)
    reported = ("\n\n" + fault_lines(faults, t)) if faults else ""
    if not requests:
        nothing = t.gettext("You and your organization have no requests yet.")
        return _reply(nothing + reported + queue_hint, (entry_button(t),), t)
    lines = [request_line(r, t) for r in requests[:MAX_LISTED]]
    more = len(requests) - MAX_LISTED
    if more > 0:
        lines.append(
            t.ngettext(
                "…and {count} older; the app's *Home* tab lists them all.",
                "…and {count} older; the app's *Home* tab lists them all.",
                more,
            ).format(count=more)
        )
    lead = t.gettext("*Your requests and your organization's*, newest first:")
    return _reply(lead + "\n" + "\n".join(lines) + reported + queue_hint, t=t)


async def _status_one(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, reference: str, t: Texts
) -> Reply:
    viewer = await _viewer(conversations, agents, user_id, team_id)
    if viewer is None:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    try:
        detail = await services.get_request(conversations.portal.uow(), viewer, reference)
    except UnknownRequest:
        # Exactly the same answer whether it does not exist or belongs to someone else.
        return _reply(_not_visible(t, escape(reference)), t=t)
    may_withdraw = isinstance(viewer, Customer) and await _may_withdraw(conversations, viewer, detail.summary)
    buttons = (withdraw_button(detail.summary.reference, t),) if may_withdraw else ()
    return _reply(describe(detail, for_agent=not isinstance(viewer, Customer), t=t), buttons, t)


async def _fault_status(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str, reference: str, t: Texts
) -> Reply:
    """`status FR-000123`: the reporter sees their report (never who operates the charger); an agent sees it as
    support does; anyone else hears what an unknown reference gets, word for word."""
    agent = await agents.agent(user_id)
    uow = conversations.portal.uow
    if agent is not None:
        found = await services.fault_for_support(uow(), reference)
        if found is not None:
            return _reply(describe_fault_for_support(found, t), t=t)
        return _reply(_not_visible(t, escape(reference)), t=t)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    try:
        detail = await services.fault_report_for_reporter(uow(), person.email, reference)
    except UnknownRequest:
        return _reply(_not_visible(t, escape(reference)), t=t)
    return _reply(describe_fault(detail, t), t=t)


def _not_visible(t: Texts, reference: str) -> str:
    return t.gettext("There is no request {reference} that you can see. `status` lists yours.").format(
        reference=reference
    )


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


ANSWERS = {"consented": N_("consented"), "declined": N_("declined")}


def describe(detail: RequestDetail, *, for_agent: bool, t: Texts = ENGLISH) -> str:
    s = detail.summary
    lines = [
        f"*{escape(s.reference)}*: {kind_text(t, s.kind)}",
        t.gettext("*Status*: {status}").format(status=escape(status_text(t, s.kind, s.status))),
        t.gettext("*Opened*: {opened}; last change {changed}").format(
            opened=day_text(t, s.created_at.date()), changed=day_text(t, s.updated_at.date())
        ),
    ]
    if s.in_warranty is not None:
        lines.append(
            t.gettext("*Warranty*: in warranty")
            if s.in_warranty
            else t.gettext("*Warranty*: out of warranty (the visit may be billed)")
        )
    if detail.lines:
        if s.kind == "transfer":
            # DESIGN.md §1: a transfer shows the current Service Operator whose consent it needs.
            lines.extend(
                t.gettext("• {serial}: current Service Operator {operator}, {answer}").format(
                    serial=escape(line.serial),
                    operator=escape(line.operator),
                    answer=t.gettext(ANSWERS.get(line.answer or "", N_("answer pending"))),
                )
                for line in detail.lines
            )
        else:
            chargers = escape(", ".join(line.serial for line in detail.lines))
            lines.append(t.gettext("*Chargers*: {serials}").format(serials=chargers))
    if for_agent:
        who = detail.requester_email + (f" ({detail.organization})" if detail.organization else "")
        lines.append(t.gettext("*Requested by*: {who}").format(who=escape(who)))
        if detail.assignee:
            lines.append(t.gettext("*Assigned to*: {agent}").format(agent=f"<@{escape(detail.assignee)}>"))
    if detail.resolution:
        lines.append(t.gettext("*Support's note*: {note}").format(note=escape(detail.resolution)))
    lines.append(t.gettext("*Description*: {description}").format(description=escape(detail.description)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- withdraw


async def _withdraw(
    conversations: SlackConversations, user_id: str, team_id: str, word: str, reason: str, t: Texts = ENGLISH
) -> Reply:
    """`withdraw REF <reason>`: the question before the withdrawal, with its two buttons; the "Yes" button withdraws
    through the conversation (actions/withdraw.py), with the reason, and the portal checks again. Without a reason,
    once the request is known to be withdrawable, the usage line: support wants to know why, and nothing changes.
    Agents act on the triage card instead, so they are answered as the customers they may also be."""
    if not word:
        return _reply(
            t.gettext("Which request, and why? For example `withdraw ST-000012 it works again`; `status` lists yours."),
            (Button(t.gettext(WITHDRAW_CHOICES_BUTTON.title), WITHDRAW_CHOICES_BUTTON.payload),),
            t,
        )
    reference = normalise_reference(word)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    actor = f"slack:{user_id}"
    uow = conversations.portal.uow
    try:
        summary = await services.check_withdrawal(uow(), person.email, reference or word)
    except UnknownAccount:
        return _reply(no_account_text(person.status, t), t=t)
    except UnknownRequest:
        # Exactly the same answer whether it does not exist or belongs to someone else; the attempt is remembered.
        await services.audit_refusal(uow(), actor, "withdraw", reference or word, "UnknownRequest", "not theirs")
        return _reply(_not_visible(t, escape(reference or word[:40])), t=t)
    except NotRequester:
        await services.audit_refusal(uow(), actor, "withdraw", reference, "NotRequester", "may see, not withdraw")
        return _reply(
            t.gettext(
                "Only the person who asked for {reference}, or someone of their organization, can withdraw it. "
                "Nothing was changed."
            ).format(reference=escape(reference or "")),
            t=t,
        )
    except InvalidTransition as decided:
        kind = kind_of_reference(decided.reference)
        state = status_text(t, kind.value, decided.status) if kind else decided.status
        return _reply(
            t.gettext("{reference} is already {status}, so it can't be withdrawn any more.").format(
                reference=escape(decided.reference), status=escape(state)
            ),
            t=t,
        )
    what = f"{kind_text(t, summary.kind)} *{escape(summary.reference)}*"
    if not reason:
        return _reply(
            t.gettext(
                "To withdraw your {what}, tell support why after the reference, for example "
                "`withdraw {reference} it works again`. Nothing was changed."
            ).format(what=what, reference=escape(summary.reference)),
            t=t,
        )
    if len(reason) > WITHDRAW_REASON_MAX:
        return _reply(
            t.gettext("Please keep the reason under {count} characters. Nothing was changed.").format(
                count=WITHDRAW_REASON_MAX
            ),
            t=t,
        )
    about = f" ({escape(', '.join(summary.serials))})" if summary.serials else ""
    return _reply(
        t.gettext(
            "Withdraw your {what}{about}, because “{reason}”? Support stops working on it, and it can't be "
            "undone: if you need help again later, you'll file a new request."
        ).format(what=what, about=about, reason=escape(reason)),
        withdraw_question_buttons(summary.reference, reason, t),
        t,
    )


def withdraw_button(reference: str, t: Texts = ENGLISH) -> Button:
    """`Withdraw ST-000001`: asks first, in the conversation (actions/withdraw.py, whose payload it carries)."""
    button = action_withdraw_button(reference)
    return Button(t.gettext("Withdraw {reference}").format(reference=reference), button["payload"])


def withdraw_question_buttons(reference: str, reason: str | None = None, t: Texts = ENGLISH) -> tuple[Button, ...]:
    """The same two buttons the conversation shows (actions/withdraw.py), so a press continues there; their
    titles in `t`'s language."""
    yes, no = confirm_buttons(reference, reason)
    return (
        Button(t.gettext("Yes, withdraw {reference}").format(reference=reference), yes["payload"]),
        Button(t.gettext("No, keep it"), no["payload"]),
    )


# ---------------------------------------------------------------------------------------------- reopen


async def _reopen(
    conversations: SlackConversations, user_id: str, team_id: str, word: str, reason: str, t: Texts = ENGLISH
) -> Reply:
    """`reopen REF <what is still wrong>`: the requester's side reopens a resolved service ticket, within the
    reopen window (CHARGEDESK_REOPEN_DAYS); after it, the answer offers a new ticket that follows the old one.
    Without a reason: the usage line, and nothing changes (support needs to know what is still wrong)."""
    if not word or not reason:
        return _reply(
            t.gettext(
                "Which ticket, and what is still wrong? For example `reopen ST-000012 it stops charging again`; "
                "`status` lists yours. Nothing was changed."
            ),
            t=t,
        )
    reference = normalise_reference(word) or word
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    actor, uow = f"slack:{user_id}", conversations.portal.uow
    try:
        summary = await services.reopen_ticket(
            uow(), person.email, reference, reason, days=conversations.portal.reopen_days
        )
    except UnknownAccount:
        return _reply(no_account_text(person.status, t), t=t)
    except UnknownRequest:
        # Exactly the same answer whether it does not exist or belongs to someone else; the attempt is remembered.
        await services.audit_refusal(uow(), actor, "reopen", reference, "UnknownRequest", "not theirs")
        return _reply(_not_visible(t, escape(reference[:40])), t=t)
    except NotRequester:
        await services.audit_refusal(uow(), actor, "reopen", reference, "NotRequester", "may see, not reopen")
        return _reply(
            t.gettext(
                "Only the person who asked for {reference}, or someone of their organization, can reopen it. "
                "Nothing was changed."
            ).format(reference=escape(reference)),
            t=t,
        )
    except ReopenWindowClosed as closed:
        return too_late(closed, reason, t)
    except InvalidTransition as error:
        return _reply(not_reopenable(t, error), t=t)
    except ReasonRequired:
        return _reply(
            t.gettext("Please keep the reason under {count} characters. Nothing was changed.").format(count=REASON_MAX),
            t=t,
        )
    return _reply(
        t.gettext("{reference} is open again with your note; support will pick it up.").format(
            reference=escape(summary.reference)
        ),
        t=t,
    )


# ---------------------------------------------------------------------------------------------- charger


async def _charger(
    conversations: SlackConversations,
    agents: Agents,
    user_id: str,
    team_id: str,
    words: Sequence[str],
    t: Texts = ENGLISH,
) -> Reply | None:
    typed = " ".join(words)
    if not words:
        return _reply(
            t.gettext("Which charger? For example `charger ACE0123456`, with the serial number from its label."), t=t
        )
    if not is_valid_serial(typed) and len(words) > 1:
        return None  # a sentence that starts with "charger", not a query: let the conversation handle it
    viewer = await _viewer(conversations, agents, user_id, team_id)
    if viewer is None:
        return _reply(t.gettext(WORKSPACE_NOT_VERIFIED), t=t)
    try:
        overview = await services.charger_overview(conversations.portal.uow(), viewer, typed)
    except MalformedSerial:
        return _reply(
            t.gettext(
                "`{typed}` is not a serial number: a serial number is 'ACE' followed by digits, or five digits, "
                "'R' and three digits."
            ).format(typed=escape(typed[:40])),
            t=t,
        )
    except UnknownCharger as error:
        return _reply(
            t.gettext(
                "I don't know a charger with serial number {serial}. Please check the label on the bottom of the "
                "charger."
            ).format(serial=escape(error.serial)),
            (entry_button(t),),
            t,
        )
    serial = escape(overview.serial)
    if overview.details is not None:
        d = overview.details
        warranty = t.gettext("in warranty") if d.in_warranty else t.gettext("warranty ended")
        lines = [
            f"*{serial}*: {escape(d.model)}",
            t.gettext("*Service Operator*: {operator}").format(operator=escape(d.service_operator))
            + _yours(overview, t),
            t.gettext("*Warranty*: until {until} ({warranty}); shipped {shipped}").format(
                until=day_text(t, d.warranty_until), warranty=warranty, shipped=day_text(t, d.shipped_at)
            ),
        ]
        if d.open_requests:
            lines.append(t.gettext("*Open requests*:"))
            lines.extend(request_line(r, t) for r in d.open_requests[:MAX_LISTED])
        else:
            lines.append(t.gettext("*Open requests*: none"))
        return _reply("\n".join(lines), (entry_button(t),) if overview.operated_by_viewer else (), t)
    return _managed_elsewhere(overview, t)


def _yours(overview: ChargerOverview, t: Texts = ENGLISH) -> str:
    if not overview.operated_by_viewer:
        return ""
    if overview.account_problem is None:
        return " " + t.gettext("(your organization: you can raise service tickets on it)")
    return " " + t.gettext("(your organization)")


def _managed_elsewhere(overview: ChargerOverview, t: Texts = ENGLISH) -> Reply:
    """Another organization manages the charger: say so without naming it, and what the asker can do."""
    serial = escape(overview.serial)
    own_reference = overview.own_pending_reference
    lead = t.gettext(
        "{serial} is managed by another organization, its Service Operator (often the reseller or installer that "
        "supplied it). Only the Service Operator can raise service tickets on it."
    ).format(serial=serial)
    if own_reference:
        own = t.gettext(
            "Your organization's management transfer {reference} for it is waiting for a decision; "
            "`status {reference}` shows where it stands."
        ).format(reference=escape(own_reference))
        return _reply(f"{lead}\n{own}", t=t)
    if overview.transfer_pending:
        pending = t.gettext("A management transfer for it is already waiting for a decision.")
        return _reply(f"{lead}\n{pending}", t=t)
    if overview.can_request_transfer:
        payload = "/request_transfer" + json.dumps({"serial": overview.serial})
        how = t.gettext(
            "If your organization should look after it, request a management transfer: the current Service "
            "Operator is asked to consent, then support approves, and your organization becomes its Service Operator."
        )
        return _reply(f"{lead}\n{how}", (Button(t.gettext(TRANSFER_BUTTON), payload),), t)
    return _reply(f"{lead}\n{account_hint(overview.account_problem, t)}", (entry_button(t),), t)


def account_hint(problem: EligibilityDecision | None, t: Texts = ENGLISH) -> str:
    """Why the asker cannot request a transfer (or raise tickets) yet, and what to do."""
    if problem is None or problem.outcome is Outcome.NO_ACCOUNT:
        return t.gettext(NO_ACCOUNT)
    if problem.outcome is Outcome.NOT_YET_SERVICE_CUSTOMER and problem.service_customer_from:
        return t.gettext(
            "Your account was registered recently; it is linked for service from {moment}. Please ask again after that."
        ).format(moment=moment_text(t, problem.service_customer_from))
    return t.gettext(
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


# A report's state as its reporter reads it. "Not ours any more" and "nobody reachable" read the same: why support
# has it is the operator's business, and the reporter's next step is the same.
FAULT_STATES = {
    FaultStatus.SENT: N_("the Service Operator was informed"),
    FaultStatus.TICKET_OPENED: N_("the Service Operator opened a service ticket"),
    FaultStatus.NOT_OURS: N_("support is looking at it"),
    FaultStatus.TO_SUPPORT: N_("support is looking at it"),
}


def fault_state_text(status: FaultStatus, t: Texts = ENGLISH) -> str:
    return t.gettext(FAULT_STATES[status])


def fault_line(report: FaultReportSummary, t: Texts = ENGLISH) -> str:
    """`• *FR-000001* fault on 10001R002: the Service Operator was informed; reported 1 March 2026`"""
    return t.gettext("• *{reference}* fault on {serial}: {state}; reported {reported}").format(
        reference=escape(report.reference),
        serial=escape(report.serial),
        state=fault_state_text(report.status, t),
        reported=day_text(t, report.created_at.date()),
    )


def fault_lines(reports: Sequence[FaultReportSummary], t: Texts = ENGLISH) -> str:
    """The reporter's fault reports: where each stands, never who operates the charger (nor what it answered)."""
    lines = [t.gettext("*Your fault reports on other organizations' chargers*, newest first:")]
    lines.extend(fault_line(report, t) for report in reports[:MAX_LISTED])
    if reports:
        example = escape(reports[0].reference)
        lines.append(t.gettext("`status {reference}` shows one in full.").format(reference=example))
    return "\n".join(lines)


def describe_fault(detail: FaultReportDetail, t: Texts = ENGLISH) -> str:
    """The reporter's own report in full: the serial, what they reported, when, and where it stands. Built from
    the reporter's view alone (FaultReportDetail has no field naming the operator or its ticket)."""
    s = detail.summary
    return "\n".join(
        [
            t.gettext("*{reference}*: fault report on {serial}").format(
                reference=escape(s.reference), serial=escape(s.serial)
            ),
            t.gettext("*Status*: {status}").format(status=fault_state_text(s.status, t)),
            t.gettext("*Reported*: {reported}; last change {changed}").format(
                reported=day_text(t, s.created_at.date()), changed=day_text(t, detail.updated_at.date())
            ),
            t.gettext("*Reported symptom:* {symptom}").format(symptom=escape(detail.symptom[:2000])),
        ]
    )


def describe_fault_for_support(fault: SupportFault, t: Texts = ENGLISH) -> str:
    """A report as an agent reads it: the operator, its answer, the reporter when they agreed to be named."""
    n = fault.notice
    lines = [
        t.gettext("*{reference}*: fault report on {serial}").format(reference=n.reference, serial=escape(n.serial)),
        t.gettext("*Service Operator*: {operator}").format(operator=escape(n.operator)),
        t.gettext("*Status*: {status}").format(status=escape(support_fault_state(n.status, t))),
        t.gettext("*Reported*: {reported}; last change {changed}").format(
            reported=day_text(t, fault.created_at.date()), changed=day_text(t, fault.updated_at.date())
        ),
    ]
    if n.ticket_reference:
        lines.append(t.gettext("*Service ticket*: {ticket}").format(ticket=escape(n.ticket_reference)))
    if n.reporter:
        who = n.reporter + (f" ({n.reporter_organization})" if n.reporter_organization else "")
        lines.append(t.gettext("*Reported by*: {who}").format(who=escape(who)))
    lines.append(t.gettext("*Reported symptom:* {symptom}").format(symptom=escape(n.symptom[:2000])))
    return "\n".join(lines)


SUPPORT_FAULT_STATES = {
    FaultStatus.SENT: N_("waiting for the Service Operator"),
    FaultStatus.TICKET_OPENED: N_("the Service Operator opened a service ticket"),
    FaultStatus.NOT_OURS: N_("the Service Operator says the charger is not theirs any more"),
    FaultStatus.TO_SUPPORT: N_("nobody of the Service Operator can be reached in Slack"),
}


def support_fault_state(status: str, t: Texts = ENGLISH) -> str:
    """A report's state as support reads it (why it came to support, when it did)."""
    return t.gettext(SUPPORT_FAULT_STATES[FaultStatus(status)])


def request_line(summary: RequestSummary, t: Texts = ENGLISH) -> str:
    """`• *MT-000001* management transfer (ACE0100002): waiting for …; opened 1 March 2026`"""
    about = f" ({escape(', '.join(summary.serials))})" if summary.serials else ""
    return t.gettext("• *{reference}* {kind}{about}: {status}; opened {opened}").format(
        reference=escape(summary.reference),
        kind=kind_text(t, summary.kind),
        about=about,
        status=escape(status_text(t, summary.kind, summary.status)),
        opened=day_text(t, summary.created_at.date()),
    )


def _reply(text: str, buttons: Sequence[Button] = (), t: Texts = ENGLISH) -> Reply:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION]))]
    if buttons:
        # No thread: a press starts the conversation where the answer was shown (a DM or the channel).
        blocks.append(choices(buttons, thread_block_id(0, None), t))
    fallback = re.sub(r"[*`]", "", text)[:MAX_SECTION]
    return fallback, [block.to_dict() for block in blocks]
