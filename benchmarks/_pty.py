"""The app in a real pseudo-terminal: every byte it writes, with the time it arrived."""

from __future__ import annotations

import codecs
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
    return [PYTHON, "-c", "from helpdesk_tui.launch import main; main()"]


def launcher() -> list[str]:
    return [PYTHON, str(BENCH / "_launch.py")]


class Screen:
    """The characters a terminal would show, from the bytes the app wrote (no colours).

    Textual writes only the cells that changed (``ESC[row;colH`` then the new text), so a
    string drawn on the screen need not appear whole in the byte stream: "Outside write 07"
    over "Order confirmation..." arrives as ``utside write 07``. This keeps the grid those
    writes produce, enough of a VT100 for what Textual sends: cursor positioning (``H f A B C
    D G d``), erasing (``J K X``), CR/LF/BS, wide and zero-width characters; colours, modes
    and OSC strings are read and dropped. Autowrap is off (Textual sends ``ESC[?7l``): a
    character past the last column overwrites it.
    """

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self.pending = ""  # an escape sequence cut by a read
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.grid]

    def text(self) -> str:
        return "\n".join(self.lines())

    def feed(self, data: bytes) -> None:
        from rich.cells import get_character_cell_size

        text = self.pending + self.decoder.decode(data)
        self.pending = ""
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\x1b":
                end = self._escape(text, i)
                if end is None:  # incomplete: wait for the next read
                    self.pending = text[i:]
                    return
                i = end
                continue
            i += 1
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif ch == "\b":
                self.x = max(self.x - 1, 0)
            elif ch < " " or ch == "\x7f":
                continue
            else:
                width = get_character_cell_size(ch)
                if width == 0:
                    continue
                x = min(self.x, self.cols - width)
                self.grid[self.y][x] = ch
                if width == 2:
                    self.grid[self.y][x + 1] = ""
                self.x = min(x + width, self.cols)

    def _escape(self, text: str, start: int) -> int | None:
        """Apply the escape sequence at ``start``; return where it ends (None: incomplete)."""
        if start + 1 >= len(text):
            return None
        kind = text[start + 1]
        if kind == "[":  # CSI: parameters, intermediates, one final byte
            i = start + 2
            while i < len(text) and not ("@" <= text[i] <= "~"):
                i += 1
            if i >= len(text):
                return None
            self._csi(text[start + 2 : i], text[i])
            return i + 1
        if kind in "]PX^_":  # OSC / DCS / ...: up to BEL or ST
            i = start + 2
            while i < len(text):
                if text[i] == "\x07":
                    return i + 1
                if text[i] == "\x1b":
                    if i + 1 >= len(text):
                        return None
                    if text[i + 1] == "\\":
                        return i + 2
                i += 1
            return None
        if kind in "()#%":  # charset selection and the like: one more byte
            return start + 3 if start + 2 < len(text) else None
        return start + 2

    def _csi(self, params: str, final: str) -> None:
        if params[:1] in ("?", "<", ">", "="):
            if final in "hl" and params[1:] in ("1049", "47", "1047"):
                self._erase(0, self.rows, 0, self.cols)  # the alternate screen starts blank
            return
        values = [int(v) if v.isdigit() else 0 for v in params.split(";")] if params else []

        def arg(index: int, default: int = 1) -> int:
            value = values[index] if index < len(values) else 0
            return value or default

        if final in "Hf":
            self.y = min(max(arg(0) - 1, 0), self.rows - 1)
            self.x = min(max(arg(1) - 1, 0), self.cols - 1)
        elif final == "A":
            self.y = max(self.y - arg(0), 0)
        elif final == "B":
            self.y = min(self.y + arg(0), self.rows - 1)
        elif final == "C":
            self.x = min(self.x + arg(0), self.cols - 1)
        elif final == "D":
            self.x = max(self.x - arg(0), 0)
        elif final == "G":
            self.x = min(max(arg(0) - 1, 0), self.cols - 1)
        elif final == "d":
            self.y = min(max(arg(0) - 1, 0), self.rows - 1)
        elif final == "J":
            mode = arg(0, 0)
            if mode == 0:
                self._erase(self.y, self.y + 1, self.x, self.cols)
                self._erase(self.y + 1, self.rows, 0, self.cols)
            elif mode == 1:
                self._erase(0, self.y, 0, self.cols)
                self._erase(self.y, self.y + 1, 0, self.x + 1)
            else:
                self._erase(0, self.rows, 0, self.cols)
        elif final == "K":
            mode = arg(0, 0)
            first, last = {0: (self.x, self.cols), 1: (0, self.x + 1)}.get(mode, (0, self.cols))
            self._erase(self.y, self.y + 1, first, last)
        elif final == "X":
            self._erase(self.y, self.y + 1, self.x, min(self.x + arg(0), self.cols))
        # m (colours), r (margins), t, u and the rest change no character on the screen

    def _erase(self, top: int, bottom: int, left: int, right: int) -> None:
        for y in range(top, bottom):
            self.grid[y][left:right] = [" "] * (right - left)


class PtyApp:
    """Fork ``argv`` on a pty of ``cols`` x ``rows`` and record its output.

    ``screen=True`` also keeps the characters on the terminal (``Screen``) for
    ``wait_for_screen`` / ``screen_lines``; off by default, so the other figures pay nothing for
    it (and the bytes are parsed only when the screen is asked for).
    """

    def __init__(
        self,
        argv: list[str],
        *,
        cols: int = 120,
        rows: int = 40,
        env: dict[str, str] | None = None,
        screen: bool = False,
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
        self.screen = Screen(cols, rows) if screen else None
        self.unread: list[tuple[float, bytes]] = []  # (when read, bytes), not yet parsed

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
        if self.screen is not None:
            self.unread.append((self.chunks[-1][0], data))  # parsed later, off the clock
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

    def wait_for_screen(self, text: str, timeout: float = 30.0) -> float:
        """Monotonic time of the chunk after which ``text`` stood on one line of the screen.

        Needs ``screen=True``; ``text`` already on the screen when called counts at once.
        What is readable is read (each chunk timed as it comes) before any of it is parsed:
        parsing a chunk of a big frame before reading the next would time the next one late
        by the parse (the harness's work, not the app's), more for a fuller screen.
        """
        end = time.monotonic() + timeout
        while (at := self._parse_until(text)) is None:
            if self.exited or time.monotonic() >= end:
                raise TimeoutError(
                    f"{text!r} not on the screen within {timeout:.0f} s (exited: {self.exited})"
                )
            if self._read(min(0.05, end - time.monotonic())):
                while self._read(0):
                    pass
        return at

    def _parse_until(self, text: str) -> float | None:
        """Parse the unread chunks in order, up to the one after which ``text`` is on a line
        of the screen: its time (the rest stay unread); None if it is not there after all."""
        screen = self.screen
        assert screen is not None, "PtyApp(..., screen=True) keeps the screen"

        def shown() -> bool:
            return any(text in line for line in screen.lines())

        if shown():
            return self.chunks[-1][0] if self.chunks else self.started
        while self.unread:
            at, data = self.unread.pop(0)
            screen.feed(data)
            if shown():
                return at
        return None

    def screen_lines(self) -> list[str]:
        """The terminal's lines now, as far as the app's output has been read."""
        assert self.screen is not None, "PtyApp(..., screen=True) keeps the screen"
        for _, data in self.unread:
            self.screen.feed(data)
        self.unread.clear()
        return self.screen.lines()

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
