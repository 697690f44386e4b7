"""A hostile config file and a hostile paste through the real app in a real pseudo-terminal
(issue 26, part 5): every byte the app writes is scanned.

The database is the hostile world of issue 12 (tests/hostile_world.py), the config file holds
every attack in every label, canned body and macro (tests/security/hostile_input.py), and the
paste is what a hostile web page puts on the clipboard, sent as a terminal sends a paste
(``ESC[200~`` … ``ESC[201~``), with ESC, BEL (ctrl+g), ctrl+s, C1, bidi and zero-width
characters inside, and an end marker of its own followed by ctrl+s. Before: the paste's
``ESC . ctrl+s`` sent a public reply and BEL closed the editor. Replies are written at once
here (no undo hold), so a send would be in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostile_world import ALL, FORBIDDEN, SUPERVISOR_EMAIL, build
from ptyrun import Terminal, clean_env, helpdesk_tui

from .hostile_input import END, HOSTILE_PASTE, START, hostile_config

CTRL_G, CTRL_P, CTRL_R = "\x07", "\x10", "\x12"
# From the config and the paste, never on the wire raw: hyperlinks, clipboard, title.
NO_OSC = [b"\x1b]8;", b"\x1b]52;", b"\x1b]2;", b"\x1b]0;"]


def test_a_hostile_config_and_a_hostile_paste_reach_the_terminal_harmlessly_and_send_nothing(
    tmp_path: Path, db: Any, server: Any
) -> None:
    build(db, datetime.now(UTC).replace(microsecond=0))
    ticket = db.tickets.find_one({"ticketNumber": f"T-0{ALL}"})
    config = hostile_config(tmp_path / "config.toml", views=2, extra="[reply]\nundo_seconds = 0\n")
    args = ["--config", str(config), "--uri", server.uri, "--db", db.name]
    terminal = Terminal(helpdesk_tui(*args, "--as", SUPERVISOR_EMAIL), clean_env(tmp_path))
    try:
        terminal.wait_for(b"All open")
        terminal.settle()
        terminal.send("?")  # help: the keys
        terminal.wait_for(b"Help: ")
        terminal.settle()
        terminal.send("q")
        terminal.settle()
        terminal.send(CTRL_P)  # the palette: every action with its key
        terminal.wait_for(b"for commands")
        terminal.settle()
        terminal.send("\x1b")
        terminal.settle()
        terminal.send("3")  # All open: the all-attacks ticket first
        terminal.settle()
        terminal.send("\r")
        terminal.wait_for(b"Status: ")
        terminal.settle()
        terminal.send("r")
        terminal.wait_for(b"PUBLIC REPLY")
        terminal.settle()
        # With an end marker of its own and ctrl+s after it, as a terminal that does not
        # filter pastes sends the clipboard.
        terminal.send(f"{START}{HOSTILE_PASTE}{END}\x13{END}")
        terminal.wait_for(b"pasted text: 17 control characters removed")
        terminal.settle()
        terminal.send(CTRL_R)  # a canned response with every attack in its name and body
        terminal.wait_for(b"Insert canned response")
        terminal.settle()
        terminal.send("\r")
        terminal.wait_for(b"inserted text: ")
        terminal.settle()
        terminal.send(CTRL_G)  # close: the draft is kept, nothing sent
        terminal.settle()
        terminal.send("q")  # back to the queue: a paste into the search box
        terminal.settle()
        terminal.send("/")
        terminal.settle()
        terminal.send(f"{START}{HOSTILE_PASTE}{END}")
        terminal.wait_for(b"pasted text: 16 control characters removed")
        terminal.settle()
        terminal.send("\x1b")
        terminal.settle()
        terminal.send("q")
        terminal.settle()
        terminal.send("q")  # quit
        status = terminal.wait_exit()
    finally:
        terminal.kill()

    output = terminal.output
    assert status == 0, output[-600:]
    assert b"\x1b[?2004h" in output  # the app asked for bracketed paste
    for raw in [*FORBIDDEN, *NO_OSC]:
        assert raw not in output, (raw, output[max(output.find(raw) - 80, 0) :][:200])
    text = output.decode("utf-8", "replace")
    assert "Traceback" not in text and "Reply sent" not in text
    assert "[@click=app.quit]Q[/]" in text  # the config's markup: shown as typed
    after = db.tickets.find_one({"_id": ticket["_id"]})
    assert len(after["messages"]) == len(ticket["messages"])  # nothing sent


def test_bytes_that_are_not_utf8_in_a_paste_and_typed_do_not_end_the_app(
    tmp_path: Path, db: Any, server: Any
) -> None:
    """A raw 8-bit C1 CSI (``0x9b``) and a cut UTF-8 sequence, in a bracketed paste and typed
    outside one (an 8-bit terminal, noise on an SSH link). Before: Textual's input thread
    decoded strict UTF-8, raised, and the app ended with a traceback on the screen."""
    build(db, datetime.now(UTC).replace(microsecond=0))
    args = ["--uri", server.uri, "--db", db.name]
    terminal = Terminal(helpdesk_tui(*args, "--as", SUPERVISOR_EMAIL), clean_env(tmp_path))
    try:
        terminal.wait_for(b"All open")
        terminal.settle()
        terminal.send("/")
        terminal.settle()
        terminal.send(START.encode() + b"abc\x9b31m def\xe2\x82 ghi" + END.encode())
        terminal.wait_for(b"ghi")  # in the search box, each bad byte a U+FFFD
        terminal.settle()
        terminal.send(b"\x9b\xff")  # typed: no key, nothing ends
        terminal.settle()
        terminal.send("\x1b")
        terminal.settle()
        terminal.send("q")  # quit: the app is still there to hear it
        status = terminal.wait_exit()
    finally:
        terminal.kill()

    output = terminal.output
    text = output.decode("utf-8", "replace")
    assert status == 0, output[-600:]
    assert "Traceback" not in text and "UnicodeDecodeError" not in text
    assert "abc" in text and "def" in text and "ghi" in text  # the paste's text, kept
