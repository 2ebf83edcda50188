"""What may be logged, and how: kinds of failures and ids, never what people typed or who they are (emails).

Some libraries write whole requests and responses at DEBUG: slack-sdk every Web API response (users.info carries
the profile's email), slack-bolt every answer it sends, aiosqlite every statement with its parameters. They are
kept at INFO whatever the process's level, so turning on DEBUG to look at a problem shows no personal data.

Lines carry the ids of what they are about, from context variables the seams set (`log_context`): the engine's
turn (conversation), the delivery sender's call (delivery) and the request a turn filed or an event concerns
(request). `LOG_FORMAT=json` writes them as one JSON object per line; the default format is plain text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime

CHATTY_LOGGERS = ("slack_sdk", "slack_bolt", "aiosqlite")
# One INFO line per custom action registered, at every start: nothing an operator needs to read.
NOISY_AT_INFO = ("rasa_sdk.executor",)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")

# Ids only: a conversation is workspace:channel:thread:user ids, a delivery a queue row's number, a request its
# reference. None of them is what someone typed or an email.
conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)
delivery_id: ContextVar[str | None] = ContextVar("delivery_id", default=None)
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_IDS = {"conversation_id": conversation_id, "delivery_id": delivery_id, "request_id": request_id}


def quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))
    for name in NOISY_AT_INFO:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))


@contextmanager
def log_context(**ids: str | int | None) -> Iterator[None]:
    """Lines logged inside the block (and in tasks it starts) carry `ids`; leaving it restores the outer ones."""
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for name, value in ids.items():
        var = _IDS[name]
        tokens.append((var, var.set(None if value is None else str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_ids() -> dict[str, str]:
    """The ids set around the current line (those not set are left out)."""
    return {name: value for name, var in _IDS.items() if (value := var.get()) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context's ids, and an exception's type.

    A traceback is left out (its frames' text can quote what people typed); DEBUG lines that ask for one get the
    exception's type only, like every other line here.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The default format: a timestamp, the level, the logger, the message, and the context's ids at the end."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        ids = current_ids()
        return f"{text} [{' '.join(f'{name}={value}' for name, value in ids.items())}]" if ids else text


def configure_logging(level: str, log_format: str = "text") -> None:
    """The process's logging: `level` for our code, `log_format` "text" (with timestamps) or "json"."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_chatty_loggers()
