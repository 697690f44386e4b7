"""Run a command in a real pseudo-terminal and keep every byte it writes (for tests).

The tests that use this check what actually reaches a terminal: escape sequences from data,
tracebacks, customer data on a crash. Small on purpose; benchmarks/_pty.py has the timing one.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parent.parent


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: private HOME and XDG dirs, a 256-colour xterm, no app settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HELPDESK_TUI", "XDG_", "TEXTUAL", "COLORTERM", "NO_COLOR"))
    }
    env.update(
        HOME=str(home),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        TERM="xterm-256color",
        LANG=os.environ.get("LANG") or "C.UTF-8",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    )
    env.update(extra)
    return env


class Terminal:
    """``argv`` on a pty of ``cols`` x ``rows``; ``output`` holds every byte written."""

    def __init__(
        self, argv: list[str], env: dict[str, str], *, cols: int = 120, rows: int = 40
    ) -> None:
        env = {**env, "COLUMNS": str(cols), "LINES": str(rows)}
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = b""
        self._mark = 0
        self.status: int | None = None

    def _read(self, timeout: float) -> bool:
        if self.status is not None:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            _, status = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(status)
            return False
        self.output += data
        return True

    def wait_for(self, needle: bytes, timeout: float = 20.0) -> None:
        """Read until ``needle`` appears in what was written since the last wait."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.output[self._mark :]:
                self._mark = self.output.index(needle, self._mark) + len(needle)
                return
            self._read(0.05)
            if self.status is not None and needle not in self.output[self._mark :]:
                break
        raise AssertionError(
            f"{needle!r} not on the terminal (exit {self.status}); last bytes: "
            f"{self.output[-400:]!r}"
        )

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Read until nothing arrives for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(quiet):
            pass

    def send(self, data: bytes | str) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def wait_exit(self, timeout: float = 15.0) -> int:
        end = time.monotonic() + timeout
        while self.status is None and time.monotonic() < end:
            if not self._read(0.05) and self.status is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = os.waitstatus_to_exitcode(status)
        if self.status is None:
            self.kill()
            raise AssertionError(f"did not exit; last bytes: {self.output[-400:]!r}")
        self.settle(0.05, 1.0)
        return self.status

    def kill(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
                self.status = os.waitstatus_to_exitcode(status)
            except OSError:
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass


def python(*code: str) -> list[str]:
    return [sys.executable, *code]


def helpdesk_tui(*args: str) -> list[str]:
    """The real ``helpdesk-tui`` entry point (``cli.main``) with ``args``."""
    return python("-c", "from helpdesk_tui.launch import main; main()", *args)


# What a terminal emulator (pyte) shows, for comparing the app's incremental output with a
# full repaint cell by cell.
Cell = tuple[str, str, str, bool, bool]


def cells(screen: pyte.Screen) -> list[list[Cell]]:
    return [
        [
            (c.data, c.fg, c.bg, c.bold, c.reverse)
            for c in (screen.buffer[y][x] for x in range(screen.columns))
        ]
        for y in range(screen.lines)
    ]


def resize(terminal: Terminal, cols: int, rows: int) -> None:
    fcntl.ioctl(terminal.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.kill(terminal.pid, signal.SIGWINCH)


def screen_text(screen: pyte.Screen) -> str:
    return "\n".join(screen.display)
