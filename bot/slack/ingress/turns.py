"""Running one conversation turn that Slack handed us: a direct message, a mention, a button, the global shortcut.

Queued turns run in whichever process consumes the inbox, which hands out a conversation's turns one at a time in
the order Slack stamped them. A turn that could not be queued (the database was unreachable when Slack called) runs
directly in the listener, the same way but without that order across processes: one at a time (the conversation's
lease) in the order it reached this process. It only comes to that when the database is down, and then the turn
mostly fails too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.slack.ingress.additions import add_to_request
from bot.slack.ingress.context import Conversation
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.intake import QueuedTurn, TurnKind
from bot.slack.messages import support
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from bot.slack.photos.answer import answer_photo
from bot.slack.photos.reading import PhotoReader

# Slack's trigger ids let us open a modal for 3 seconds after the click; past this age a form is offered in the
# conversation instead (a DM asks field by field, a channel thread gets an "open the form" button).
TRIGGER_LIFE = timedelta(seconds=2.5)


@dataclass(frozen=True)
class TurnRunner:
    conversations: SlackConversations
    agents: Agents
    internal_channels: frozenset[str] = field(default_factory=frozenset)  # the triage channel: agents' own notes
    photos: PhotoReader = field(default_factory=PhotoReader)  # reads the serial off a photo of a label

    async def run(
        self,
        turn: QueuedTurn,
        *,
        delivery: str | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """Answer `turn`."""
        conversation = turn.conversation
        if turn.kind is TurnKind.ADDITION:
            await add_to_request(self.conversations, self.agents, turn, self.internal_channels)
            return
        if turn.kind is TurnKind.MENTION and turn.text:
            # `/support` does not work in threads or for Slack Connect users: the same words in a mention do.
            try:
                answer = await support.answer(
                    self.conversations, self.agents, conversation.user_id, conversation.team_id, turn.text
                )
            except IdentityUnavailable:
                # Not "no account": Slack could not say who this is; the next mention works again.
                unavailable = (await self.conversations.texts_for(conversation.user_id, ask_slack=False)).gettext(
                    IDENTITY_UNAVAILABLE
                )
                notice = SectionBlock(text=MarkdownTextObject(text=unavailable))
                answer = (unavailable, [notice.to_dict()])
            if answer is not None:
                reply, blocks = answer
                await self.conversations.client.chat_postEphemeral(
                    channel=conversation.channel_id,
                    user=conversation.user_id,
                    thread_ts=conversation.thread_ts,
                    text=reply,
                    blocks=blocks,
                )
                return
        if not conversation.channel_id:
            # The App Home tab and the global shortcut have no channel: the conversation goes on in the user's DM.
            conversation = await self._direct_message_with(conversation)
        if turn.files:
            await answer_photo(self.conversations, self.photos, conversation, turn, delivery)
            return
        fresh = received_at is None or datetime.now(UTC) - received_at < TRIGGER_LIFE
        await self.conversations.converse(
            conversation,
            turn.text,
            trigger_id=turn.trigger_id if fresh else None,
            delivery=delivery,
        )

    async def already_ran(self, turn: QueuedTurn, delivery: str) -> bool:
        """Whether the conversation already holds the turn of `delivery` (its claimant died after running it)."""
        sender_id = turn.conversation.sender_id
        if turn.kind is TurnKind.ADDITION:
            return False  # the request keeps it once (its key): running it again only repeats the answer
        if not turn.conversation.channel_id:
            return False  # its DM was not known when queued; a DM turn that ran twice only repeats a greeting
        tracker = await self.conversations.engine.tracker(sender_id)
        return any(
            event.get("event") == "user" and (event.get("metadata") or {}).get("delivery") == delivery
            for event in tracker.events
        )

    async def _direct_message_with(self, conversation: Conversation) -> Conversation:
        opened = await self.conversations.client.conversations_open(users=conversation.user_id)
        channel = str((opened.get("channel") or {}).get("id"))
        return Conversation(conversation.team_id, conversation.user_id, channel, None, "im")
