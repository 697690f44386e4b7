"""The Pulse screen as people get it outside the test harness (issue 30): the real
``helpdesk-tui`` in a pty with NO_COLOR at 80x24 (the meaning is in symbols; Textual draws
in greys only), and through Textual's web driver, the one ``serve`` runs every visitor's app on
(textual-serve relays its packets to the browser), with hostile agent names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostile_world import FORBIDDEN, SUPERVISOR_EMAIL, build
from ptyrun import Terminal, clean_env, helpdesk_tui

from helpdesk_tui.demo import seed
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

SGR = re.compile(rb"\x1b\[([0-9;]*)m")
GREYS = {16, 231, *range(232, 256)}  # the 256-colour palette's black, white and grey ramp


def hues(output: bytes) -> set[str]:
    """Every colour an SGR sequence sets that is not a grey (Textual draws NO_COLOR in greys)."""
    found = set()
    for match in SGR.finditer(output):
        params = [int(p) if p else 0 for p in match.group(1).split(b";")]
        i = 0
        while i < len(params):
            p = params[i]
            if p in (38, 48) and i + 1 < len(params) and params[i + 1] == 5:
                if params[i + 2] not in GREYS:
                    found.add(f"{p};5;{params[i + 2]}")
                i += 3
            elif p in (38, 48) and i + 1 < len(params) and params[i + 1] == 2:
                r, g, b = params[i + 2 : i + 5]
                if not r == g == b:
                    found.add(f"{p};2;{r};{g};{b}")
                i += 5
            else:
                if 31 <= p <= 36 or 41 <= p <= 46 or 91 <= p <= 96 or 101 <= p <= 106:
                    found.add(str(p))
                i += 1
    return found


def demo(db: Any) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = TicketStore(db, StoreSettings(), clock=lambda: now)
    store.init_db()
    seed.load(store, seed.generate(now, tickets=80, customers=30, seed=7))


def test_no_color_at_80x24_shows_the_pulse_in_symbols_and_greys_only(
    db: Any, server: Any, tmp_path: Path
) -> None:
    demo(db)
    args = ["--uri", server.uri, "--db", db.name, "--as", seed.SUPERVISOR[1]]
    terminal = Terminal(helpdesk_tui(*args), clean_env(tmp_path, NO_COLOR="1"), cols=80, rows=24)
    try:
        terminal.wait_for(b"All open")
        terminal.settle()
        start = len(terminal.output)
        terminal.send("P")
        terminal.wait_for(b"As of")  # the figures are drawn, with when they were computed
        terminal.settle()
        terminal.send("\x1b[6~")  # page down to the SLA bars and their legend
        terminal.wait_for("█ met".encode())
        terminal.settle()
        pulse = terminal.output[start:]
    finally:
        terminal.kill()
    for words in ("✖ Breaching", "░ breached", "· running", "FR ", "Res"):
        assert words.encode() in pulse, words
    assert SGR.search(pulse) is not None  # styled, not a dumb terminal
    assert hues(pulse) == set()  # greys only: no meaning left to a colour
    assert b"Traceback" not in terminal.output


class WebDriverApp:
    """``helpdesk-tui`` as textual-serve starts it for a visitor: Textual's web driver, packets
    on stdin and stdout (``D``: terminal data, ``M``: JSON meta; a 4-byte big-endian length)
    after a ``__GANGLION__`` line."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int, rows: int) -> None:
        env = {
            **env,
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "TEXTUAL_FPS": "60",
            "TEXTUAL_COLOR_SYSTEM": "truecolor",
            "TERM_PROGRAM": "textual",
            "COLUMNS": str(cols),
            "ROWS": str(rows),
        }
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.data = b""
        self.meta: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.send_meta({"type": "resize", "width": cols, "height": rows})

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while stream.readline() not in (b"__GANGLION__\n", b""):
            pass  # what comes before the driver starts its packets (textual-serve skips it too)
        while True:
            head = stream.read(5)
            if len(head) < 5:
                return
            payload = stream.read(int.from_bytes(head[1:], "big"))
            with self._lock:
                if head[:1] == b"D":
                    self.data += payload
                elif head[:1] == b"M":
                    self.meta.append(json.loads(payload))

    def _packet(self, kind: bytes, payload: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(kind + len(payload).to_bytes(4, "big") + payload)
        self.process.stdin.flush()

    def send_meta(self, meta: dict[str, Any]) -> None:
        self._packet(b"M", json.dumps(meta).encode())

    def keys(self, text: str) -> None:
        self._packet(b"D", text.encode())

    def wait_for(self, needle: bytes, after: int = 0, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if needle in self.data[after:]:
                    return
            assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not sent; last: {self.data[-400:]!r}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def test_the_pulse_renders_through_serves_web_driver_with_hostile_names(
    db: Any, server: Any, tmp_path: Path
) -> None:
    build(db, datetime.now(UTC).replace(microsecond=0))
    args = ["--uri", server.uri, "--db", db.name, "--as", SUPERVISOR_EMAIL]
    env = clean_env(tmp_path)
    app = WebDriverApp(helpdesk_tui(*args), {**os.environ, **env}, cols=120, rows=40)
    try:
        app.wait_for(b"All open")
        start = len(app.data)
        app.keys("P")
        app.wait_for(b"SLA attainment", after=start)
        app.wait_for(b"As of", after=start)
        app.keys("\x1b[6~\x1b[6~")  # page down to the agents' bars: the hostile names
        app.wait_for(b"Time to first response", after=start)
        app.wait_for(b"[bold]BAgent", after=start)  # a name drawn, its markup as text
        app.send_meta({"type": "quit"})
        app.process.wait(timeout=20)
        shown = app.data
    finally:
        app.stop()
    for raw in FORBIDDEN:
        assert raw not in shown, raw
    assert b"Traceback" not in shown
