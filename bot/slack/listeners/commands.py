"""The `/support` slash command: `status [REF]`, `charger SERIAL`, `help`, answered privately.

Slack does not deliver slash commands typed in a thread (the client rejects them there), nor those typed by
Slack Connect users from another workspace in a shared channel: the command belongs to our workspace's app.
Those people mention the assistant instead; the mention path answers the same queries with `support.answer`.

The command is acknowledged at once, with an empty answer, and the answer follows through the command's
`response_url` as an ephemeral message. Finding the answer asks Slack who the person is (`users.info`) and reads
the portal; either can be slow, and Slack shows "failed with the error operation_timeout" when the acknowledgement
takes more than three seconds. The post to the response_url is retried like every reply (`retries.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.egress.retries import response_client
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages import support
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, IdentityUnavailable
from portal.languages.texts import N_

logger = logging.getLogger(__name__)

COMMAND = "/support"
FAILED = N_("Sorry, I couldn't look that up just now. Please try again in a minute.")
# Sub-commands named in logs; anything else is logged as "?" (the words typed may be personal).
_KNOWN_WORDS = frozenset({"status", "charger", "help", "withdraw", "reopen"})


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    @app.command(COMMAND)
    async def support_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        text = str(command.get("text") or "")
        words = text.split()
        verb = words[0].lower() if words and words[0].lower() in _KNOWN_WORDS else "?"
        user_id = str(command.get("user_id") or "")
        try:
            # The person's language: the one they last wrote to the assistant in, else their Slack locale's.
            t = await support.reader_texts(conversations, user_id)
            reply = await support.answer(conversations, agents, user_id, str(command.get("team_id") or ""), text, t)
            fallback, blocks = reply if reply is not None else support.not_understood(text, t)
        except IdentityUnavailable:
            # Slack could not say who this is (slow, rate-limited, down): not "no account", and not our failure.
            t = await conversations.texts_for(user_id, ask_slack=False)
            fallback, blocks = t.gettext(IDENTITY_UNAVAILABLE), []
        except Exception as error:
            # Whatever went wrong (Slack could not say who this is, the database is away), the person hears that
            # the look-up failed rather than nothing. The exception's text may quote personal data: its type only.
            logger.error("/support %r failed: %s", verb, type(error).__name__)
            logger.debug("/support failed", exc_info=error)
            t = await conversations.texts_for(user_id, ask_slack=False)
            fallback, blocks = t.gettext(FAILED), []
        await _respond(str(command.get("response_url") or ""), verb, fallback, blocks)


async def _respond(response_url: str, verb: str, text: str, blocks: list[dict[str, Any]]) -> None:
    if not response_url:
        logger.error("/support %r: Slack sent no response_url to answer at", verb)
        return
    message: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        message["blocks"] = blocks
    try:
        response = await response_client(response_url).send_dict(message)
    except Exception as error:  # a connection that dropped after sending is not repeated (it may have arrived)
        logger.error("/support %r: answering at the response_url failed: %s", verb, type(error).__name__)
        return
    if response.status_code != 200:
        logger.error("/support %r: the response_url answered HTTP %d", verb, response.status_code)
