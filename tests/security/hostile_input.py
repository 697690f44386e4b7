"""Hostile text from outside the database (issue 26, part 5): a config file a team shares and a
paste from a customer's web page. Shared by tests/security/test_hostile_*.py (no conftest here:
the fixtures come from tests/conftest.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hostile_world import ALL, ATTACKS
from pilot import enter_ticket, settle
from textual.pilot import Pilot

from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.tickets import TicketStore

NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data (as tests/reply/)
START, END = "\x1b[200~", "\x1b[201~"  # a bracketed paste, as the terminal sends it
# What a hostile web page puts on the clipboard: ESC sequences, BEL (ctrl+g: close), ctrl+s
# (send), C1 (one-byte CSI), bidi overrides and zero-width characters.
HOSTILE_PASTE = (
    "Dear customer\x1b.\x13 thanks\x07\x1b]52;c;UFdORUQ=\x07 see \x1b]8;;https://evil.example/"
    "\x1b\\link\x1b]8;;\x1b\\ \x9b2J\x9d0;T\x9c \u202eexe.fdp \u200bzw\ufeff\u2066\r\nline two\tend"
)
CLEAN_PASTE = (
    "Dear customer. thanks]52;c;UFdORUQ= see ]8;;https://evil.example/\\link]8;;\\ 2J0;T"
    " exe.fdp zw\nline two\tend"
)
PASTE_REMOVED = 16
# Any character a terminal would obey or hide: C0 (but tab, newline), DEL, C1, bidi/invisible.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Every attack in one label; markup stays visible text (checked by the tests).
LABEL = f"L{ALL}"


def toml(value: str) -> str:
    """A TOML basic string holding ``value`` exactly (JSON's escapes are TOML's)."""
    return json.dumps(value)


def hostile_config(
    path: Path, *, keys: dict[str, str] | None = None, views: int = 14, extra: str = ""
) -> Path:
    """A config whose every label and text holds every attack: the first ``views`` custom
    views, canned responses, macros; ``keys`` (valid key names) moved in ``[keys]``; ``extra``
    TOML put first. The poll is parked."""
    lines = [extra, "[ui]", "poll_interval_seconds = 3600", ""]
    if keys:
        lines += ["[keys]", *(f"{name} = {toml(key)}" for name, key in keys.items()), ""]
    for index, (name, attack) in enumerate([("all", ALL), *ATTACKS.items()]):
        if index < views:
            lines += [
                "[[views]]",
                f"name = {toml(f'V{index}{attack}')}",
                'statuses = ["open", "in_progress"]',
                "",
            ]
        lines += [
            "[[canned]]",
            f"name = {toml(f'C{index} {name}{attack}')}",
            f"body = {toml(f'Hello {{customer_name}} {name}:{attack}:end')}",
            "",
            "[[macros]]",
            f"name = {toml(f'M{index} {name}{attack}')}",
            f"note = {toml(f'Note {name}:{attack}:end')}",
            f"tags = [{toml(f'+t{index}{attack}')}]",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


async def open_reply(pilot: Pilot[Any]) -> ReplyScreen:
    """From the queue (My tickets): enter on TKT-000007, then ``r``."""
    await enter_ticket(pilot, NUMBER)
    await pilot.press("r")
    await settle(pilot)
    reply = pilot.app.screen
    assert isinstance(reply, ReplyScreen) and reply.editor.has_focus
    return reply


def messages_of(store: TicketStore) -> int:
    found = store.tickets.find_one({"ticketNumber": NUMBER})
    assert found is not None
    return len(found["messages"])
