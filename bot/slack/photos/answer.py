"""A customer's message with a photo (issue 17 §1): their words are a turn as always, and the photo is read for a
serial, which the assistant asks them to confirm ("Is it ACE0123456?" Yes / No).

While the conversation asks for a charger, the photo is the answer: words sent with it ("here you go") are not run
as a (wrong) serial. Words that name a serial win over the photo. Outside that question (a first message with a
photo, say) the words run first and the question about the photo follows, so the Yes button finds the conversation
where the words left it; a Yes before any form still counts (the form that starts next takes the serial, as if typed).
"""

from __future__ import annotations

from actions.photos import label_photo_value
from bot.slack.ingress.context import Conversation
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.intake import QueuedTurn
from bot.slack.messages.photos import problem_answer, serial_question
from bot.slack.photos.reading import PhotoReader
from portal.domain.serials import find_serials, misread_serials

# The slots a form asks a charger with: the service ticket's, the transfer's, the fault report's.
SERIAL_QUESTIONS = frozenset({"serial", "serials", "fault_serial"})


async def answer_photo(
    conversations: SlackConversations,
    reader: PhotoReader,
    conversation: Conversation,
    turn: QueuedTurn,
    delivery: str | None = None,
) -> None:
    """Run the words of `turn` (when they are a turn of their own), then answer about its photo."""
    typed = bool(find_serials(turn.text) or misread_serials(turn.text))
    if turn.text and (typed or not await asks_for_serial(conversations, conversation)):
        await conversations.converse(conversation, turn.text, delivery=delivery)
    if typed:
        return  # the customer typed the serial: their words, not our reading of the photo
    reading = await reader.read(conversations.client, [file_id for file_id, _, _ in turn.files])
    t = await conversations.texts_for(conversation.user_id)
    if reading.serial is not None and reading.file is not None:
        photo = label_photo_value(reading.serial, reading.file.permalink)
        text, blocks = serial_question(reading.serial, photo, conversation.thread_ts, t)
    else:
        assert reading.problem is not None
        text, blocks = problem_answer(reading.problem, t)
    await conversations.post(conversation, text, blocks)


async def asks_for_serial(conversations: SlackConversations, conversation: Conversation) -> bool:
    tracker = await conversations.engine.current(conversation.sender_id)
    return tracker.slots.get("requested_slot") in SERIAL_QUESTIONS
