"""Run the real `vectoros` entry point in a pseudo-terminal (used by the TUI benchmark and
the end-to-end test): start it, wait for text on the screen, send keys, wait for exit."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path


class TerminalProcess:
    def __init__(self, argv: list[str], env: dict[str, str], size: tuple[int, int] = (100, 30)):
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        columns, rows = size
        ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = b""

    def wait_for(self, *texts: str, timeout: float = 20.0) -> float:
        """Seconds from process start until one of ``texts`` appeared on the screen."""
        needles = [text.encode() for text in texts]
        text = " or ".join(texts)
        deadline = time.perf_counter() + timeout
        while not any(needle in self.output for needle in needles):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                tail = self.output[-2000:].decode(errors="replace")
                raise TimeoutError(
                    f"{text!r} did not appear within {timeout}s; last output: {tail}"
                )
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.05))
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    break
        return time.perf_counter() - self.started

    def read_for(self, seconds: float) -> None:
        """Keep reading the screen's output for ``seconds``."""
        deadline = time.perf_counter() + seconds
        while (remaining := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.05))
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    return

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.fd, 65536)
        self.kill()
        raise TimeoutError("the app did not exit")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def vectoros_command() -> list[str]:
    script = Path(sys.executable).with_name("vectoros")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vectoros_tui"]
