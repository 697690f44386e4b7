"""The screen the terminal shows is the screen the app drew, byte savings and all.

``helpdesk_tui/terminal_output.py`` writes as few bytes as it can: only the changed cells, a
colour code only when the look changes, the look left on between updates, new lines instead of
cursor moves, no cursor park. A mistake there shows up as colour bleeding into the next cells
or text in the wrong place, on the agent's screen only: Textual's own snapshots never see it.

So the real app runs in a pseudo-terminal whose every byte is fed to a terminal emulator
(pyte, a VT100/xterm emulator), is driven with keys (a burst, as a paste or a slow link
delivers them) and with writes from another client (a row moves, one leaves, one recolours),
and then the window is resized away and back, which makes Textual repaint everything from
scratch. The emulator's screen before and after the full repaint must be the same cell for
cell, character and look. Only countdowns may have turned in between (real time passes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyte
from ptyrun import Terminal, cells, clean_env, helpdesk_tui, resize, screen_text

from helpdesk_tui.demo import seed
from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
from helpdesk_tui.domain.models import new_message_doc
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

COLS, ROWS = 120, 40


def test_the_terminal_shows_after_live_updates_and_keys_what_a_full_repaint_shows(
    db: Any, server: Any, tmp_path: Path
) -> None:
    store = TicketStore(db, StoreSettings(), clock=lambda: datetime.now(UTC))
    store.init_db()
    seed.load(store, seed.generate(datetime.now(UTC), tickets=80, customers=40, seed=11))
    argv = helpdesk_tui("--uri", server.uri, "--db", db.name, "--as", DEMO_AGENT_EMAIL)
    terminal = Terminal(argv, clean_env(tmp_path), cols=COLS, rows=ROWS)
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    fed = 0

    def until(shown: Callable[[str], bool], timeout: float = 20.0) -> None:
        """Read (feeding the emulator) until ``shown(screen text)``, then until quiet."""
        nonlocal fed
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            terminal.settle(0.3, 2.0)
            stream.feed(terminal.output[fed:])
            fed = len(terminal.output)
            if shown(screen_text(screen)):
                terminal.settle(0.5)
                stream.feed(terminal.output[fed:])
                fed = len(terminal.output)
                return
        raise AssertionError(f"not on the screen in {timeout:.0f} s:\n{screen_text(screen)}")

    try:
        until(lambda text: "TKT-" in text)
        terminal.send("3" + "j" * 12 + "k" * 3 + "2" + "3" + "jj")  # one burst
        until(lambda text: "All open: " in text)
        active = {"status": {"$in": ["open", "in_progress"]}}
        shown = [t["_id"] for t in db.tickets.find(active)]
        me = db.users.find_one({"email": DEMO_AGENT_EMAIL})["_id"]
        mine = db.tickets.find_one({**active, "assignedTo": me})
        now = datetime.now(UTC)
        # Another agent (or the Ticket Service) acts: one row moves up, one leaves the view,
        # one turns from breached/at risk to paused (another colour), and a customer writes
        # on one of mine (a toast over the rows, which come back when it goes).
        db.tickets.update_one(
            {"_id": shown[-1]}, {"$set": {"priority": "urgent", "updatedAt": now}}
        )
        db.tickets.update_one({"_id": shown[0]}, {"$set": {"status": "resolved", "updatedAt": now}})
        db.tickets.update_one({"_id": shown[1]}, {"$set": {"status": "waiting", "updatedAt": now}})
        message = new_message_doc(sender=mine["user"], content="Any news? Third time.", now=now)
        db.tickets.update_one(
            {"_id": mine["_id"]},
            {"$push": {"messages": message}, "$inc": {"__v": 1}, "$set": {"updatedAt": now}},
        )
        until(lambda text: "Customer replied" in text)
        terminal.send("\r")  # a ticket over the queue, and back
        until(lambda text: "Status: " in text)
        terminal.send("q")
        until(lambda text: "All open: " in text and "Customer replied" not in text, 30)
        terminal.send("jjjjkg")
        until(lambda text: "All open: " in text)
        drawn = cells(screen)
        for _ in range(20):  # on a loaded machine keys can still be on their way: until still
            terminal.settle(1.0, 5.0)
            stream.feed(terminal.output[fed:])
            fed = len(terminal.output)
            if cells(screen) == drawn:
                break
            drawn = cells(screen)

        mark = len(terminal.output)
        resize(terminal, COLS + 1, ROWS)  # a full repaint at another width...
        terminal.wait_for(b"\x1b[")
        terminal.settle(0.5)
        resize(terminal, COLS, ROWS)  # ...and back: Textual repaints every cell
        terminal.wait_for(b"\x1b[")
        terminal.settle(1.0)
        repaint = pyte.Screen(COLS, ROWS)
        pyte.ByteStream(repaint).feed(terminal.output[mark:])  # the last full paint is enough
        repainted = cells(repaint)
    finally:
        terminal.send("q")
        terminal.kill()

    text = ["".join(c[0] for c in line) for line in repainted]
    assert any("TKT-" in line for line in text), text  # the queue, not an error screen
    differing = [
        (y, x, drawn[y][x], repainted[y][x])
        for y in range(ROWS)
        for x in range(COLS)
        if drawn[y][x] != repainted[y][x]
    ]
    bleeding = [d for d in differing if d[2][0] == d[3][0]]  # same character, another look
    assert bleeding == [], bleeding[:10]
    # Other characters: only a countdown or "Updated" digit that turned in between.
    assert all(d[2][0].isdigit() and d[3][0].isdigit() for d in differing), differing[:10]


def test_the_start_paints_every_cell_once_and_a_resize_back_to_its_size_repaints_them(
    db: Any, server: Any, tmp_path: Path
) -> None:
    """A start has two Resizes of the terminal's size (Textual's own, then its driver's): the
    second asked for a full repaint, which wrote every cell a second time right after the
    first rows (5.5 kB at 120x40). A SIGWINCH that leaves the size as it was, once the app has
    painted, still repaints every cell (the terminal may have cut lines at the other size)."""
    store = TicketStore(db, StoreSettings(), clock=lambda: datetime.now(UTC))
    store.init_db()
    seed.load(store, seed.generate(datetime.now(UTC), tickets=40, customers=20, seed=11))
    argv = helpdesk_tui("--uri", server.uri, "--db", db.name, "--as", DEMO_AGENT_EMAIL)
    terminal = Terminal(argv, clean_env(tmp_path), cols=COLS, rows=ROWS)
    title = b"helpdesk-tui"  # the top bar's first cells, written by a repaint of every cell
    try:
        terminal.wait_for(b"sort: next deadline")  # the start view is painted
        terminal.settle(1.5)
        started = terminal.output.count(title)
        resize(terminal, COLS, ROWS)  # the same size
        terminal.wait_for(title)
        terminal.settle(0.5)
        after = terminal.output.count(title)
    finally:
        terminal.send("q")
        terminal.kill()
    assert (started, after) == (1, 2)
