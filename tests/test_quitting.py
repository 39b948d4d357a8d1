"""Quitting never waits for a worker still computing, and never cuts off one finishing.

Real processes: each scenario runs in a Python subprocess whose exit is timed."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from vectoros_tui.quitting import WorkerThreads, leave_promptly

    threads = WorkerThreads()

    async def main(seconds):
        loop = asyncio.get_running_loop()
        loop.set_default_executor(threads)
        loop.run_in_executor(None, time.sleep, seconds)
        await asyncio.sleep(0.1)

    seconds = float(sys.argv[1])
    asyncio.run(main(seconds))  # closing the loop does not wait for the worker
    print("left the loop", flush=True)
    leave_promptly(threads, 3)
    print("returned", flush=True)
    """
)


def run(seconds: float) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seconds)], capture_output=True, text=True, timeout=60
    )
    return time.monotonic() - started, done


def test_a_long_worker_does_not_hold_the_exit() -> None:
    elapsed, done = run(30)
    assert done.returncode == 3, done.stderr  # the app's own exit code, not a crash
    assert "left the loop" in done.stdout and "returned" not in done.stdout
    assert elapsed < 15  # the 30 s worker was not waited for (2 s grace, slow start-up)


def test_a_worker_finishing_is_given_its_moment() -> None:
    elapsed, done = run(0.5)
    assert done.returncode == 0, done.stderr  # returned normally: nothing was cut off
    assert "returned" in done.stdout
    assert elapsed >= 0.5


def test_only_a_terminal_that_went_away_counts_as_gone() -> None:
    from vectoros_tui.quitting import terminal_is_gone

    master, slave = pty.openpty()
    read_end, write_end = os.pipe()
    try:
        assert not terminal_is_gone(slave)
        assert not terminal_is_gone(read_end)  # never a terminal: stdin from a pipe
        os.close(master)  # the other end gone: an SSH connection dropped
        assert terminal_is_gone(slave)
    finally:
        for fd in (slave, read_end, write_end):
            os.close(fd)
