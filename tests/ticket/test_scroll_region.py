"""A line scroll of a big conversation is the terminal moving the lines (issue 29): a scroll
region (DECSTBM) and IND / RI, then only the new line and the cells beside the conversation
that moved with it. In the real app in a pty at 120x40, every byte fed to a terminal emulator
(pyte): a one-line scroll writes under 1 KB, and after scrolls of one and three lines up
and down the emulator shows cell for cell what a full repaint of the same view shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyte
from ptyrun import Terminal, cells, clean_env, helpdesk_tui, resize, screen_text

from helpdesk_tui.demo import seed
from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
from helpdesk_tui.domain.models import Category, NewTicket, Priority, new_message_doc
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

COLS, ROWS = 120, 40
UP, DOWN = "\x1b[A", "\x1b[B"


def big_ticket(store: TicketStore) -> None:
    """The demo agent's most urgent ticket: 400 messages, some notes, some wide characters."""
    agent = store.user_by_email(DEMO_AGENT_EMAIL).id
    customer = store.users.find_one({"role": "customer"})
    assert customer is not None
    ticket = store.create_ticket(
        NewTicket(
            subject="SCROLLME a long thread",
            description="The first message.",
            user=customer["_id"],
            category=Category.OTHER,
            priority=Priority.URGENT,
        ),
        actor=customer["_id"],
    )
    assert ticket.id is not None
    store.assign(ticket.id, agent, actor=agent)
    start = store.now() - timedelta(days=3)
    docs = [
        new_message_doc(
            sender=customer["_id"] if n % 2 else agent,
            content=f"message {n}: " + "a thread of many words 日本 " * (1 + n % 5),
            now=start + timedelta(minutes=n),
            is_internal=n % 7 == 6,
        )
        for n in range(400)
    ]
    store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": {"$each": docs}}})
    store.queue.refresh([ticket.id])


def test_a_line_scroll_writes_under_1_kb_and_leaves_what_a_full_repaint_shows(
    db: Any, server: Any, tmp_path: Path
) -> None:
    store = TicketStore(db, StoreSettings(), clock=lambda: datetime.now(UTC))
    store.init_db()
    seed.load(store, seed.generate(datetime.now(UTC), tickets=6, customers=6, seed=3))
    big_ticket(store)
    argv = helpdesk_tui("--uri", server.uri, "--db", db.name, "--as", DEMO_AGENT_EMAIL)
    terminal = Terminal(argv, clean_env(tmp_path), cols=COLS, rows=ROWS)
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    fed = 0

    def feed() -> None:
        nonlocal fed
        stream.feed(terminal.output[fed:])
        fed = len(terminal.output)

    def until(shown: Callable[[str], bool], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            terminal.settle(0.3, 2.0)
            feed()
            if shown(screen_text(screen)):
                terminal.settle(0.5)
                feed()
                return
        raise AssertionError(f"not on the screen in {timeout:.0f} s:\n{screen_text(screen)}")

    sizes: list[int] = []
    try:
        until(lambda text: "SCROLLME" in text)
        rows = [line for line in screen.display if "TKT-" in line]
        place = next(n for n, line in enumerate(rows) if "SCROLLME" in line)
        terminal.send("g" + "j" * place)
        terminal.settle(0.5)
        terminal.send("\r")
        until(lambda text: "message 399:" in text)
        # Six one-line scrolls, one key at a time: their bytes together (a repaint that a
        # loaded machine finishes after the next key is sent still counts, once).
        before = len(terminal.output)
        for key in [UP] * 6:
            terminal.send(key)
            terminal.settle(0.4, 5.0)
        terminal.settle(1.0, 5.0)
        sizes.append((len(terminal.output) - before) // 6)
        for key in ["k", "k", DOWN, "j", UP, DOWN, DOWN]:  # by three lines too, both ways
            terminal.send(key)
            terminal.settle(0.4, 5.0)
        terminal.settle(1.0, 5.0)
        feed()
        drawn = cells(screen)
        assert "\x1b[" in terminal.output[-4000:].decode(errors="replace")
        scrolled = b"\x1bD" in terminal.output or b"\x1bM" in terminal.output

        mark = len(terminal.output)
        resize(terminal, COLS + 1, ROWS)  # a full repaint at another width...
        terminal.wait_for(b"\x1b[")
        terminal.settle(0.5)
        resize(terminal, COLS, ROWS)  # ...and back: Textual repaints every cell
        terminal.wait_for(b"\x1b[")
        terminal.settle(1.0)
        repaint = pyte.Screen(COLS, ROWS)
        pyte.ByteStream(repaint).feed(terminal.output[mark:])
        repainted = cells(repaint)
    finally:
        terminal.send("q")
        terminal.kill()

    assert scrolled  # the terminal moved the lines
    assert sizes[0] < 1024, sizes  # per one-line scroll, on average over six
    text = ["".join(c[0] for c in line) for line in repainted]
    assert any("message 3" in line for line in text), text  # the conversation, scrolled
    differing = [
        (y, x, drawn[y][x], repainted[y][x])
        for y in range(ROWS)
        for x in range(COLS)
        if drawn[y][x] != repainted[y][x]
    ]
    # Only a countdown digit may have turned in between.
    assert all(d[2][0].isdigit() and d[3][0].isdigit() for d in differing), differing[:10]
