"""Turn workers: child processes of `chargedesk run` that take conversation turns from the inbox and run them.

With workers, the process that answers Slack only verifies, records and acknowledges: a burst of messages never
makes Slack wait behind the turns it causes. Each worker is woken through a pipe when a turn is put (and sweeps the
inbox every half second anyway); when the pipe closes — its parent stopped or died — the worker finishes the turns
it is running and exits, leaving the rest in the inbox for the next process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

logger = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 25.0
READY_TIMEOUT_SECONDS = 120.0  # loading the design and training the classifier takes about a second
READY = b"ready\n"


class WorkerPool:
    def __init__(self, count: int) -> None:
        self.count = count
        self._processes: list[asyncio.subprocess.Process] = []
        self._bells: list[int] = []  # write ends of the workers' doorbell pipes

    async def start(self) -> None:
        """Start the workers and wait until each can run turns (so that /healthz means it)."""
        readiness = []
        for _ in range(self.count):
            bell_in, bell_out = os.pipe()
            os.set_blocking(bell_out, False)
            ready_in, ready_out = os.pipe()
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot.cli", "work"),
                *("--doorbell-fd", str(bell_in), "--ready-fd", str(ready_out)),
                pass_fds=(bell_in, ready_out),
            )
            os.close(bell_in)
            os.close(ready_out)
            self._processes.append(process)
            self._bells.append(bell_out)
            readiness.append(_read_line(ready_in))
        answers = await asyncio.wait_for(asyncio.gather(*readiness), timeout=READY_TIMEOUT_SECONDS)
        if any(answer != READY for answer in answers):
            raise RuntimeError("a turn worker failed to start (its log says why)")
        logger.info("%d turn worker(s) ready", self.count)

    def ring(self) -> None:
        """Wake the workers: a turn is in the inbox. A full pipe means they are awake already."""
        for bell in self._bells:
            with contextlib.suppress(BlockingIOError, BrokenPipeError):
                os.write(bell, b"\x01")

    async def stop(self) -> None:
        """Ask the workers to finish the turns they hold (SIGTERM), and wait for them."""
        for process in self._processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        waits = [asyncio.create_task(p.wait()) for p in self._processes]
        if waits:
            _, late = await asyncio.wait(waits, timeout=STOP_GRACE_SECONDS)
            for process in self._processes:
                if process.returncode is None:
                    logger.error("a turn worker did not stop in time; killing it")
                    process.kill()
            await asyncio.gather(*late, return_exceptions=True)
        for bell in self._bells:
            with contextlib.suppress(OSError):
                os.close(bell)
        self._bells.clear()


async def _read_line(fd: int) -> bytes:
    """One line from a pipe, without blocking the event loop (b"" when the writer exited first)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    try:
        return await reader.readline()
    finally:
        transport.close()


def report_ready(fd: int | None) -> None:
    """Called by a worker once it can run turns."""
    if fd is not None:
        os.write(fd, READY)
        os.close(fd)
