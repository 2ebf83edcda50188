"""What may be logged: kinds of failures and ids, never what people typed or who they are (emails).

Some libraries write whole requests and responses at DEBUG: slack-sdk every Web API response (users.info carries
the profile's email), slack-bolt every answer it sends, aiosqlite every statement with its parameters. They are
kept at INFO whatever the process's level, so turning on DEBUG to look at a problem shows no personal data.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("slack_sdk", "slack_bolt", "aiosqlite")


def quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))
