"""Filing exactly once when a real `chargedesk run` process is killed (SIGKILL) between the request's commit and
the answer, in a DM and in a modal; the person retries on a new process the way they would.

The process is caught at the step deterministically: a trigger on `conversation_events` makes the tracker write
sleep, so the process sits after the request committed and before the turn is stored; the test waits for the
request row, then kills it. PostgreSQL only, like the other process-level proofs.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from bot.slack.messages.modals import FORM_CALLBACK
from tests.reliability.processes import ChargedeskProcess, Rig, figure, rig, wait_until
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import USERS, button

pytestmark = pytest.mark.postgres

DM = "D0CARLA"
DESCRIPTION = "The display shows error 42 and the cable is locked"
SUBMIT = "/submit"  # the answer to the summary, the turn that files in a conversation (issue 13)
SLOW_TRACKER = (
    "CREATE FUNCTION slow_tracker() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$",
    "CREATE TRIGGER slow_tracker BEFORE INSERT ON conversation_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION slow_tracker()",
)
FAST_TRACKER = ("DROP TRIGGER slow_tracker ON conversation_events", "DROP FUNCTION slow_tracker()")


def _text(call: Call) -> str:
    return str(call.args.get("text") or "")


async def _execute(world: Rig, *statements: str) -> None:
    async with world.db.engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


async def _references(world: Rig) -> list[str]:
    return [row.reference for row in await world.db.rows("SELECT reference FROM requests ORDER BY id")]


async def _kill_after_the_commit(world: Rig, process: ChargedeskProcess, before: int) -> float:
    """Wait until the request is committed (its turn now sleeps in the tracker write), then SIGKILL; the dead
    process's database sessions end as they would when its connections drop. Returns when the kill happened."""

    async def committed() -> bool:
        return len(await _references(world)) > before

    await wait_until(committed, 15, "the request committed", interval=0.01)
    started = time.monotonic()
    await process.kill()
    await world.db.terminate_sessions()
    await _execute(world, *FAST_TRACKER)
    return started


async def test_a_process_killed_between_commit_and_answer_files_once_and_the_retry_names_it(tmp_path: Path) -> None:
    async with rig(tmp_path, USERS) as world:
        slack = world.slack
        victim = await world.start_process()
        lines: list[str] = []

        # --- DM: carla's Submit (after the summary, issue 13) files the ticket; the process dies while storing
        # that turn.
        for index, words in enumerate(("/request_service_ticket", "10001R002", DESCRIPTION), 1):
            status, _ = await victim.sender.event(payloads.message_im("U0CARLA", words, DM, payloads.next_ts()))
            assert status == 200

            async def answered(count: int = index) -> bool:
                return len(slack.posts_to(DM)) >= count

            await wait_until(answered, 15, f"answer {index} in the DM")
        before = len(await _references(world))
        await _execute(world, *SLOW_TRACKER)
        status, _ = await victim.sender.event(payloads.message_im("U0CARLA", SUBMIT, DM, payloads.next_ts()))
        assert status == 200  # stored in the inbox, then acknowledged: Slack will not send it again
        await _kill_after_the_commit(world, victim, before)
        told_before_kill = [_text(c) for c in slack.posts_to(DM)[3:]]

        survivor = await world.start_process()
        # No answer came: carla presses Submit again. The dead process's turn runs first (its claim runs
        # out), then hers.
        status, _ = await survivor.sender.event(payloads.message_im("U0CARLA", SUBMIT, DM, payloads.next_ts()))
        assert status == 200
        filed = await _references(world)
        assert len(filed) == before + 1
        reference = filed[-1]

        async def told() -> bool:
            return any(reference in _text(c) for c in slack.posts_to(DM)[3:])

        await wait_until(told, 30, f"{reference} named in the DM")
        dm_filed = len(await _references(world)) - before
        said = [_text(c) for c in slack.posts_to(DM)[3:]]
        lines.append(
            f"DM: SIGKILL after {reference} committed, before its turn was stored ({len(told_before_kill)} replies "
            f"before the kill) → restart, carla presses Submit again → {dm_filed} request(s), told {reference} "
            f"{sum(reference in s for s in said)}x, 'try again' {sum('try again' in s for s in said)}x"
        )
        assert dm_filed == 1

        # --- Modal: carla's ticket modal; the process dies while storing the submission's turn, before the ack.
        thread = payloads.next_ts()
        status, _ = await survivor.sender.event(
            payloads.app_mention("U0CARLA", "<@UBOT> I have a question", "C0SHARED", thread)
        )
        assert status == 200
        [categories] = await slack.wait_for("chat.postEphemeral", timeout=15)
        block_id, action_id, value = button(categories, "A service request on a charger")
        press = payloads.block_actions(
            "U0CARLA", "T0HOME", "C0SHARED", payloads.next_ts(), action_id, value=value, block_id=block_id,
            trigger_id=payloads.new_trigger_id(), is_ephemeral=True,
        )  # fmt: skip
        assert (await survivor.sender.interaction(press))[0] == 200
        [opened] = await slack.wait_for("views.open", timeout=15)
        view, view_id = opened.args["view"], opened.response["view"]["id"]
        state = {
            "serial": {"value": payloads.static_select_value("10001R002")},
            "description": {"value": payloads.plain_text_value(DESCRIPTION)},
        }

        async def submit(process: ChargedeskProcess) -> str:
            body = payloads.view_submission(
                "U0CARLA", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state, view_id=view_id
            )
            try:
                status, answer = await process.sender.interaction(body)
            except (aiohttp.ClientError, TimeoutError) as error:
                return f"no answer ({type(error).__name__})"  # Slack shows the person an error on the modal
            return answer if status == 200 else f"HTTP {status}"

        before = len(await _references(world))
        await _execute(world, *SLOW_TRACKER)
        first = asyncio.create_task(submit(survivor))
        await _kill_after_the_commit(world, survivor, before)
        first_answer = await first
        third = await world.start_process()
        again = await submit(third)  # the modal showed an error: carla presses Send again
        filed = await _references(world)
        modal_filed = len(filed) - before
        reference = filed[-1]
        shown = json.dumps(json.loads(again)) if again.startswith("{") else again
        lines.append(
            f"modal: SIGKILL after {reference} committed, before the ack (carla saw: {first_answer}) → restart, "
            f"the same modal sent again → {modal_filed} request(s), the modal names {reference}: "
            f"{'yes' if reference in shown else 'no'}"
        )
        for line in lines:
            figure(line)
        assert modal_filed == 1
        assert reference in shown
