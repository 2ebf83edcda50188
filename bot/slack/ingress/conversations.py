"""Running a Slack conversation turn: who is asking, the engine's turn, and where its answer goes.

In channels (often Slack Connect, shared with other companies) the assistant answers the asker ephemerally in
the thread; that a request was filed, with its reference, is all the thread learns publicly, from the notifier
(once per request). DMs get everything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.engine import FILING_KEY, Engine, FormSubmission, TurnResult
from bot.engine.leases import TurnBusy
from bot.engine.responses import BotMessage
from bot.engine.store import ConcurrentTurn
from bot.slack.egress.delivery import POST_EPHEMERAL, POST_MESSAGE, TRANSIENT_ERRORS, queue_reply, replies_waiting
from bot.slack.ingress.context import Conversation
from bot.slack.messages.blocks import open_form_button, render
from bot.slack.messages.modals import form_view, label
from bot.slack.messages.wording import ENGLISH, kind_text, status_text
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, Directory, IdentityUnavailable, Person
from bot.slack.people.registry import People
from portal import services
from portal.bootstrap import Portal
from portal.languages import language_of
from portal.languages.texts import N_, Texts, texts
from portal.views import RequestSummary

logger = logging.getLogger(__name__)

TRY_AGAIN = N_("Sorry, I can't reach the support records right now. Please try again in a minute.")
# How long a modal's submission waits for its conversation (held by a turn in progress, or by a process that died
# in one until its lease runs out): Slack drops the answer after 3 seconds, and the person sees an error instead
# of what became of their request.
MODAL_WAIT = 1.5
UNSURE = N_(
    "Sorry, I can't reach the support records right now, so I can't tell whether your request went through. "
    "Please try again in a minute: if it did, I'll give you its reference, and nothing is filed twice."
)
UNAVAILABLE = (SQLAlchemyError, OSError, TurnBusy, ConcurrentTurn, IdentityUnavailable)

ON_FILE = "chargedesk_request_on_file"  # our own answer naming a request a failed turn had filed


def modal_key(conversation: Conversation, view_id: str) -> str:
    """The filing key of a modal: its view id, which stays the same for the modal's whole life.

    One modal is one intent: it is opened for one form, and once that form is filed it shows the outcome and
    cannot be submitted again. Its hash is left out on purpose: the hash names a version of the view and changes
    whenever the view is updated, so a retry after an update would look like a new intent. The conversation
    (which names the person) keeps modals of different people apart whatever their ids.
    """
    return f"view:{conversation.sender_id}:{view_id}"


def filed_message(filed: RequestSummary, t: Texts = ENGLISH) -> BotMessage:
    """What a person is told about a request their failed-looking turn had filed: it exists, and what is next."""
    text = t.gettext("Your {kind} {reference} is filed: it is {status}. Support will follow up here.").format(
        kind=kind_text(t, filed.kind), reference=filed.reference, status=status_text(t, filed.kind, filed.status)
    )
    return BotMessage(text, response=ON_FILE)


def filed_result(filed: RequestSummary, t: Texts = ENGLISH) -> TurnResult:
    """A turn's result naming the filed request (the channel thread learns of it from the notifier, as always)."""
    return TurnResult([filed_message(filed, t)], None, {"request_reference": filed.reference, "language": t.language})


@dataclass
class SlackConversations:
    engine: Engine
    portal: Portal
    client: AsyncWebClient
    directory: Directory
    people: People  # shares `directory`: the notifier's consent DMs ask the same resolver

    async def person(self, conversation: Conversation) -> Person:
        """Who is talking (the one resolver); verified people are learned for later DMs."""
        person = await self.directory.resolve(conversation.user_id, conversation.team_id)
        await self.people.remember(person)
        return person

    async def metadata(self, conversation: Conversation) -> dict[str, Any]:
        """What the engine and the actions learn about the asker: the email only when it is verified, and their
        Slack locale as a hint for the conversation's language (`locale`, e.g. "de-DE")."""
        person = await self.person(conversation)
        metadata = conversation.metadata(person.requester())
        if person.locale:
            metadata["locale"] = person.locale
        return metadata

    async def texts_for(self, user_id: str, *, ask_slack: bool = True) -> Texts:
        """The texts to write to `user_id` in outside a conversation's turn (`People.language_for`)."""
        return texts(await self.people.language_for(user_id, ask_slack=ask_slack))

    async def remember_language(self, conversation: Conversation, result: TurnResult) -> None:
        """Keep the language of the person's last turn, for /support, App Home and DMs. A failure here must not
        cost the person their reply: the language is kept at the next turn."""
        try:
            await self.people.store_language(conversation.user_id, result.slots.get("language"))
        except UNAVAILABLE as error:
            logger.warning("storing a person's language failed: %s", type(error).__name__)

    async def converse(
        self,
        conversation: Conversation,
        text: str,
        trigger_id: str | None = None,
        delivery: str | None = None,
    ) -> None:
        """One turn; a form that is active afterwards opens as a modal when a click gave us a trigger.

        `delivery` (the request's receipt key) is kept with the user's message, so a turn offered twice is known.
        """
        notes: dict[str, Any] = {}
        try:
            metadata = await self.metadata(conversation)
            if delivery:
                metadata["delivery"] = delivery
            result = await self.engine.turn(conversation.sender_id, text, metadata, notes=notes)
        except IdentityUnavailable:
            # Slack could not say who this is: not "no account", and nothing ran (who asks is settled before the
            # engine is called); the next message works.
            t = await self.texts_for(conversation.user_id, ask_slack=False)
            await self.reply(conversation, [BotMessage(t.gettext(IDENTITY_UNAVAILABLE))], t=t)
            return
        except UNAVAILABLE as error:
            # The database is restarting, or another process kept this conversation too long. The turn may still
            # have filed a request before it failed (the request commits before the turn is stored): if it did,
            # that is the answer; "try again" only when it did not, or when we cannot tell (the next attempt
            # files under the same key, so it cannot file twice). The next message works once the database is back.
            logger.error("turn failed: %s", type(error).__name__)
            # Without a filing key the engine stopped before running anything (or on a conversation's very first
            # turn, which files nothing in practice): nothing can have been filed.
            could_have_filed = FILING_KEY in notes
            t = await self.texts_for(conversation.user_id, ask_slack=False)
            answer, filed = await self.after_failure(notes.get(FILING_KEY), delivery, t=t)
            if filed is not None:
                await self.reply(conversation, [answer], t=t)
            else:
                await self.reply(conversation, [answer if could_have_filed else BotMessage(t.gettext(TRY_AGAIN))], t=t)
            return
        await self.remember_language(conversation, result)
        if result.active_form and trigger_id:
            shown = [m for m in result.messages if not (m.response or "").startswith("utter_ask_")]
            if shown:
                await self.reply(conversation, shown, t=texts(result.slots.get("language")))
            await self.open_form(conversation, result.active_form, result.slots, trigger_id)
            return
        await self.reply(conversation, result.messages, result)

    async def open_form(self, conversation: Conversation, form: str, slots: dict[str, Any], trigger_id: str) -> None:
        chargers = await self.chargers_of(conversation)
        view = form_view(self.engine.domain, form, slots, conversation, chargers)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def chargers_of(self, conversation: Conversation) -> tuple[str, ...]:
        person = await self.directory.resolve(conversation.user_id, conversation.team_id)
        if not person.verified:
            return ()  # an unverified person is offered nobody's chargers
        return (await services.charger_choices(self.portal.uow(), person.email)).operated

    async def submit(
        self, conversation: Conversation, form: str, values: dict[str, Any], view_id: str | None = None
    ) -> FormSubmission:
        """The modal's values as one turn; the modal (`view_id`) is the intent: sent again, it files nothing new."""
        metadata = await self.metadata(conversation)
        if view_id:
            metadata[FILING_KEY] = modal_key(conversation, view_id)
        submission = await self.engine.submit_form(conversation.sender_id, form, values, metadata, wait=MODAL_WAIT)
        if submission.result is not None:
            await self.remember_language(conversation, submission.result)
        return submission

    async def after_failure(self, *keys: str | None, t: Texts = ENGLISH) -> tuple[BotMessage, RequestSummary | None]:
        """What to tell someone whose turn or submission failed with an unknown outcome: the request it filed
        under one of `keys` if there is one, "try again" if there is none, and that we cannot tell if the
        database cannot say (trying again is safe then: the same intent files under the same key)."""
        try:
            filed = await services.filed_under(self.portal.uow(), keys)
        except UNAVAILABLE as error:
            logger.error("looking up a filed request failed: %s", type(error).__name__)
            return BotMessage(t.gettext(UNSURE)), None
        if filed is None:
            return BotMessage(t.gettext(TRY_AGAIN)), None
        return filed_message(filed, t), filed

    async def after_submission(self, conversation: Conversation, result: TurnResult) -> None:
        """The modal showed the outcome; DMs also keep it. A channel thread learns only that a request was filed,
        from the notifier (`request.opened`), once per request however often the submission is retried."""
        if conversation.is_private:
            await self.reply(conversation, result.messages, t=texts(result.slots.get("language")))

    async def reply(
        self,
        conversation: Conversation,
        messages: list[BotMessage],
        result: TurnResult | None = None,
        t: Texts | None = None,
    ) -> None:
        """Send `messages`; what Slack adds around them is in the conversation's language (the turn's `language`
        slot), else `t`'s, else English."""
        if not messages:
            return
        turn_language = language_of(result.slots.get("language")) if result is not None else None
        t = texts(turn_language) if turn_language else (t or ENGLISH)
        text, blocks = render(messages, conversation.thread_ts, t)
        if result is not None and result.active_form and not conversation.is_private:
            # Channel threads only reach the assistant through mentions: offer the form as a modal instead.
            title = label(self.engine.domain, result.active_form, t.gettext("the form"), result.slots)
            blocks.append(open_form_button(result.active_form, title, conversation.thread_ts, t))
        await self.post(conversation, text, blocks)

    async def post(self, conversation: Conversation, text: str, blocks: list[dict[str, Any]]) -> None:
        """Say `text` (with `blocks`) in the conversation: the DM, or ephemerally to the person in the thread."""
        if conversation.is_private:
            await self._say(POST_MESSAGE, {"channel": conversation.channel_id, "text": text, "blocks": blocks})
        else:
            await self._say(
                POST_EPHEMERAL,
                {
                    "channel": conversation.channel_id,
                    "user": conversation.user_id,
                    "thread_ts": conversation.thread_ts,
                    "text": text,
                    "blocks": blocks,
                },
            )

    async def _say(self, method: str, args: dict[str, Any]) -> None:
        """Send a reply now; if Slack keeps refusing it beyond the client's retries, queue it rather than lose it.

        The client retries 429 and 5xx within ten seconds (retries.py), which keeps replies in order and quick.
        When that is not enough (a longer Retry-After, Slack failing for a while), the reply goes to the durable
        sender's lane of its channel, which sends it once Slack accepts it. While one waits there, the channel's
        next replies queue behind it, so that none overtakes it.
        """
        lane = str(args["channel"])
        args = {key: value for key, value in args.items() if value is not None}
        try:
            waiting = await replies_waiting(self.portal.engine, lane)
        except UNAVAILABLE as error:  # the database is away (the reply may be "try again"): just send it
            logger.warning("looking for queued replies failed: %s", type(error).__name__)
            waiting = False
        if not waiting:
            try:
                await self.client.api_call(method, json=args)
                return
            except SlackApiError as error:
                wait = _worth_queueing(error)
                if wait is None:
                    raise
                # The method and Slack's error only: the reply itself may carry personal data.
                logger.warning(
                    "Slack %s still refused after retries (%s): the reply is queued",
                    method,
                    error.response.get("error"),
                )
        else:
            wait = 0.0
        now = self.portal.clock()
        await queue_reply(self.portal.engine, lane, method, args, now, now + timedelta(seconds=wait))


def _worth_queueing(error: SlackApiError) -> float | None:
    """Seconds to wait before sending again when Slack's refusal is temporary (429, 5xx); None when it is not."""
    response = error.response
    status = int(response.status_code or 0)
    code = response.get("error") if isinstance(response.data, dict) else None
    if status == 429 or code == "ratelimited":
        headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
        try:
            return max(0.0, float(str(headers.get("retry-after", "1"))))
        except ValueError:
            return 1.0
    if status >= 500 or code in TRANSIENT_ERRORS:
        return 1.0
    return None
