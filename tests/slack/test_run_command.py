"""`chargedesk run` as an operator starts it: HTTP on PORT, the probes and /metrics, signed Slack requests, timestamped
log lines with start-up facts at INFO, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.actions.test_action_server import free_port
from tests.support import payloads
from tests.support.fake_slack import FakeSlack
from tests.support.harness import SECRET, USERS
from tests.support.signing import SlackSender

ROOT = Path(__file__).resolve().parents[2]
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


async def test_run_serves_slack_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = FakeSlack(users=USERS)
    # A triage channel shared with another workspace: start-up warns about it, once.
    fake.channels["C0TRIAGE"] = {"is_private": True, "is_shared": True, "is_ext_shared": True, "is_org_shared": False}
    base_url = await fake.start()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": base_url,
        "PORT": str(port),
        "CHARGEDESK_TRIAGE_CHANNEL": "C0TRIAGE",
        "LOG_LEVEL": "INFO",
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(900):  # up to 90 s: start-up speed is a benchmark's matter, not this test's
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert await response.json() == {"ok": True}
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("chargedesk run did not start")
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        status, _ = await sender.event(payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts()))
        assert status == 200
        [greeting] = await fake.wait_for("chat.postMessage")
        assert greeting.args["channel"] == "D0CARLA"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert (response.status, await response.json()) == (200, {"ok": True})
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert "chargedesk_turns_total 1.0" in (await response.text()).splitlines()
        status, _ = await sender.event(
            payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts()), signed=False
        )
        assert status == 401
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=20)
        _, stderr = await process.communicate()
        assert code == 0, stderr.decode()
        assert "xoxb-test" not in stderr.decode() and SECRET not in stderr.decode()  # secrets never logged
        lines = stderr.decode().splitlines()
        [warning] = [line for line in lines if "CHARGEDESK_TRIAGE_CHANNEL" in line]
        assert re.match(rf"{TIMESTAMP} WARNING ", warning) and "C0TRIAGE is shared with another workspace" in warning
        [listening] = [line for line in lines if "chargedesk listens on" in line]
        assert re.match(rf"{TIMESTAMP} INFO bot\.slack\.serve: ", listening)  # a fact, not a warning
        assert not [line for line in lines if "hello" in line or "carla@" in line]  # nothing anyone typed or is
        assert [c.args["channel"] for c in fake.calls_to("conversations.info")] == ["C0TRIAGE"]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()
