"""Log lines: timestamped text by default, JSON objects with `LOG_FORMAT=json`, both carrying the ids of what they
are about (conversation, delivery, request) from context variables the seams set, and nothing personal."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from bot.logs import JsonFormatter, TextFormatter, log_context
from bot.ops.metrics import Metrics
from bot.slack.egress.delivery import Delivery, SlackSender, enqueue
from portal.bootstrap import Portal
from tests.slack.test_delivery import client_for
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
BEN_EMAIL = "ben@greenfleet.example"
BEN = {"requester": {"email": BEN_EMAIL}}
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


class Lines(logging.Handler):
    """The formatted lines, formatted when logged (where the context's ids are)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    handler = Lines(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_json_lines_carry_the_ids_of_their_context_and_only_inside_it(json_lines: Lines) -> None:
    log = logging.getLogger("chargedesk.test")
    with log_context(conversation_id="T1:D1:-:U1", request_id="ST-000001"):
        with log_context(delivery_id=7):
            log.warning("inner %d", 1)
        log.info("outer")
    log.info("outside")
    inner, outer, outside = (json.loads(line) for line in json_lines.lines)
    assert inner["message"] == "inner 1" and inner["level"] == "WARNING" and inner["logger"] == "chargedesk.test"
    assert (inner["conversation_id"], inner["request_id"], inner["delivery_id"]) == ("T1:D1:-:U1", "ST-000001", "7")
    assert "delivery_id" not in outer and outer["request_id"] == "ST-000001"
    assert set(outside) == {"time", "level", "logger", "message"}
    assert datetime.fromisoformat(inside_time := inner["time"]).tzinfo is not None, inside_time


def test_text_lines_start_with_a_timestamp_and_end_with_the_ids() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "listening on %s", ("0.0.0.0:3000",), None)
    with log_context(conversation_id="T1:D1:-:U1"):
        line = TextFormatter().format(record)
    assert re.fullmatch(rf"{TIMESTAMP} INFO bot\.x: listening on 0\.0\.0\.0:3000 \[conversation_id=T1:D1:-:U1\]", line)
    assert re.fullmatch(rf"{TIMESTAMP} INFO bot\.x: listening on 0\.0\.0\.0:3000", TextFormatter().format(record))


async def test_a_turns_lines_name_its_conversation_and_the_request_it_filed_and_nothing_personal(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter], json_lines: Lines
) -> None:
    design, interpreter = trained
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    description = "Bought from VoltWay with the installation"
    try:
        for text in ("/request_transfer", '/inform{"serial": "ACE0100002"}', description):
            await engine.handle("conv-1", text, BEN)
        before_filing = len(json_lines.lines)
        await engine.handle("conv-1", "/affirm", BEN)
    finally:
        await engine.close()
    lines = [json.loads(line) for line in json_lines.lines]
    ours = [line for line in lines if line["logger"] == "bot.engine.engine"]
    assert ours and all(line["conversation_id"] == "conv-1" for line in ours)
    assert not [line for line in lines[:before_filing] if "request_id" in line]
    assert [line["request_id"] for line in lines[before_filing:] if "request_id" in line][-1:] == ["MT-000001"]
    assert not [line for line in json_lines.lines if BEN_EMAIL in line or "VoltWay" in line]


async def test_the_senders_lines_name_the_delivery(empty_portal: Portal, json_lines: Lines) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        async with empty_portal.engine.begin() as conn:
            await enqueue(conn, [Delivery("C0ALPHA", "chat.postMessage", {"text": "private words"})], datetime.now(UTC))
        fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
        await SlackSender(empty_portal.engine, client_for(fake), metrics=Metrics()).drain(5.0)
    finally:
        await fake.stop()
    lines = [json.loads(line) for line in json_lines.lines]
    [failure] = [line for line in lines if line["logger"] == "bot.slack.egress.delivery" and line["level"] == "WARNING"]
    assert "channel_not_found" in failure["message"] and failure["delivery_id"] == "1"
    assert not [line for line in json_lines.lines if "private words" in line and '"DEBUG"' not in line]


def test_log_format_json_makes_the_process_write_one_json_object_per_line() -> None:
    script = (
        "import logging\n"
        "from bot.logs import configure_logging, log_context\n"
        "configure_logging('INFO', 'json')\n"
        "with log_context(conversation_id='T1:D1:-:U1'):\n"
        "    logging.getLogger('bot.x').info('started')\n"
        "logging.getLogger('bot.x').debug('hidden at INFO')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    [line] = result.stderr.splitlines()
    parsed = json.loads(line)
    assert (parsed["message"], parsed["level"], parsed["conversation_id"]) == ("started", "INFO", "T1:D1:-:U1")


def test_an_unknown_log_format_is_refused_by_name() -> None:
    from bot.logs import configure_logging

    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("INFO", "yaml")
