"""What the assistant says about a photo of a charger's label: the serial it read, asked as a question, or why it
could not read one (issue 17 §1). Never a silent guess: the serial counts only once the customer presses Yes."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import PRESS, thread_block_id
from bot.slack.photos.reading import PhotoProblem
from portal.languages.texts import N_, Texts

LABEL_NO = "chargedesk_label_no"  # "No, that's not it": answered without the conversation (it changes nothing)

READ = N_("On your photo I read the serial number *{serial}*. Is that the one on the label?")
YES = N_("Yes, {serials}")  # the same words as "Did you mean …?" answers
NO = N_("No")
NO_THANKS = N_(
    "All right, I won't use it. Please type the serial number as it is printed on the label: ACE followed by "
    "digits (like ACE0123456), or five digits, an R and three digits (like 12345R678)."
)
PROBLEMS: dict[PhotoProblem, str] = {
    PhotoProblem.NO_SERIAL: N_(
        "I couldn't find a serial number on that photo. Please type it as it is printed on the label: ACE followed "
        "by digits (like ACE0123456), or five digits, an R and three digits (like 12345R678). A sharp photo taken "
        "straight on, without glare, also works."
    ),
    PhotoProblem.NOT_AN_IMAGE: N_(
        "That file isn't a photo I can read. Please send a photo of the label (JPEG or PNG), or type the serial number."
    ),
    PhotoProblem.TOO_LARGE: N_(
        "That photo is too large for me to read. Please send a smaller one (a normal phone photo is fine), or type "
        "the serial number."
    ),
    PhotoProblem.NOT_VISIBLE: N_(
        "I can't open that file: it may have been shared from another workspace. Please send the photo here "
        "directly, or type the serial number."
    ),
    PhotoProblem.UNAVAILABLE: N_(
        "I couldn't fetch your photo from Slack just now. Please send it again in a minute, or type the serial number."
    ),
    PhotoProblem.NO_READER: N_("I can't read photos here. Please type the serial number from the label."),
}


def confirm_payload(serial: str, photo_value: str) -> str:
    """The Yes button's message to the assistant: the serial as if typed, and the photo to keep (domain/photos.yml)."""
    return "/inform" + json.dumps({"serial": serial, "label_photo": photo_value}, separators=(",", ":"))


def serial_question(serial: str, photo_value: str, thread_ts: str | None, t: Texts) -> tuple[str, list[dict[str, Any]]]:
    """ "Is it ACE0123456?" with Yes (a conversation button: the serial, as typed) and No."""
    text = t.gettext(READ).format(serial=serial)
    buttons = ActionsBlock(
        block_id=thread_block_id(0, thread_ts),  # a click on an ephemeral in a thread finds its conversation
        elements=[
            ButtonElement(
                text=t.gettext(YES).format(serials=serial)[:75],
                action_id=f"{PRESS}_0",
                value=confirm_payload(serial, photo_value),
                style="primary",
            ),
            ButtonElement(text=t.gettext(NO), action_id=LABEL_NO, value="no"),
        ],
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict(), buttons.to_dict()]


def problem_answer(problem: PhotoProblem, t: Texts) -> tuple[str, list[dict[str, Any]]]:
    text = t.gettext(PROBLEMS[problem])
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


READING = N_("Reading the photo of your label…")
READ_IN_FORM = N_("On your photo I read the serial number *{serial}*. Please check it below, then press Send.")


def form_notice(reading_serial: str | None, problem: PhotoProblem | None, t: Texts) -> str:
    """What a form says above its inputs once the photo added to it was read."""
    if reading_serial is not None:
        return t.gettext(READ_IN_FORM).format(serial=reading_serial)
    assert problem is not None
    return t.gettext(PROBLEMS[problem])
