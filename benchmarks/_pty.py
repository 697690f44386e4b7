"""The app in a real pseudo-terminal: every byte it writes, with the time it arrived."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

from _common import BENCH, PYTHON, child_env


def console_script() -> list[str]:
    """The installed ``helpdesk-tui`` next to this interpreter (else the module entry point)."""
    script = Path(PYTHON).parent / "helpdesk-tui"
    if script.exists():
        return [str(script)]
    return [PYTHON, "-c", "from helpdesk_tui.cli import main; main()"]


def launcher() -> list[str]:
    return [PYTHON, str(BENCH / "_launch.py")]


class PtyApp:
    """Fork ``argv`` on a pty of ``cols`` x ``rows`` and record its output."""

    def __init__(
        self,
        argv: list[str],
        *,
        cols: int = 120,
        rows: int = 40,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = tempfile.mkdtemp(prefix="bench-home-")
        environment = child_env(self.home)
        environment.update(env or {})
        environment["COLUMNS"], environment["LINES"] = str(cols), str(rows)
        self.started = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal before the app asks for it
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execve(argv[0], argv, environment)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.chunks: list[tuple[float, int]] = []
        self.tail = b""
        self.exited = False
        self.status: int | None = None

    # --- reading -----------------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds``."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._read(left)

    def _read(self, timeout: float) -> bool:
        if self.exited:
            time.sleep(max(timeout, 0))
            return False
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self._reap()
            return False
        self.chunks.append((time.monotonic(), len(data)))
        self.tail = (self.tail + data)[-(1 << 16) :]
        return True

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        """Monotonic time of the chunk in which ``needle`` first appeared."""
        end = time.monotonic() + timeout
        self.tail = b""
        while time.monotonic() < end:
            if self._read(min(0.05, end - time.monotonic())) and needle in self.tail:
                return self.chunks[-1][0]
            if self.exited:
                break
        raise TimeoutError(
            f"{needle!r} not seen on the terminal within {timeout:.0f} s "
            f"(exited: {self.exited}, last output: {self.tail[-300:]!r})"
        )

    def wait_quiet(self, quiet: float = 0.5, timeout: float = 10.0) -> float:
        """Read until nothing arrived for ``quiet`` seconds; return when the last byte came."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self._read(quiet):
                break
        return self.chunks[-1][0] if self.chunks else self.started

    def bytes_between(self, start: float, end: float) -> int:
        return sum(n for at, n in self.chunks if start <= at < end)

    def last_chunk_between(self, start: float, end: float) -> float | None:
        times = [at for at, _ in self.chunks if start <= at < end]
        return times[-1] if times else None

    def first_chunk_between(self, start: float, end: float) -> float | None:
        times = [at for at, _ in self.chunks if start <= at < end]
        return times[0] if times else None

    # --- writing and ending ------------------------------------------------------------------

    def send(self, data: bytes) -> float:
        os.write(self.fd, data)
        return time.monotonic()

    def rss_mb(self) -> float:
        from _common import rss_mb

        return rss_mb(self.pid)

    def _reap(self) -> None:
        if not self.exited:
            _, status = os.waitpid(self.pid, 0)
            self.exited, self.status = True, status

    def close(self, quit_key: bytes = b"q", timeout: float = 8.0) -> None:
        """Quit as an agent would (``q``); kill if it does not go."""
        if not self.exited:
            try:
                self.send(quit_key)
            except OSError:
                pass
            end = time.monotonic() + timeout
            while not self.exited and time.monotonic() < end:
                self._read(0.05)
                if not self.exited:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                    if pid:
                        self.exited, self.status = True, status
        if not self.exited:
            os.kill(self.pid, signal.SIGKILL)
            self._reap()
        try:
            os.close(self.fd)
        except OSError:
            pass


class WireServer:
    """``_wire_server.py`` in its own process (so its work never shares our GIL)."""

    def __init__(self, tickets: int) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH / "_wire_server.py"), "--tickets", str(tickets)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            self.process.kill()
            raise RuntimeError(f"wire server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.stats: dict[str, Any] = {}

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def stop(self) -> dict[str, Any]:
        import json

        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        out = self.process.stdout.read()
        self.process.wait(timeout=10)
        for line in out.splitlines():
            if line.startswith("STATS "):
                self.stats = json.loads(line[6:])
        return self.stats


def log(text: str) -> None:
    print(f"  · {text}", file=sys.stderr, flush=True)
