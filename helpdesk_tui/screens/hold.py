"""Undo send: a reply waits a few seconds, with a countdown, before it is written.

The hold itself is ``models/reply.py`` ``Held`` (the reply's HELD state); this is its line.
The hold counts on the store's clock (the tests' fixed one), so whether it has run out is a
question of that clock, never of how long a test waited. Nothing is written while a reply is
held; if the app stops meanwhile, the reply stays what it already was: a saved draft, restored
the next time the agent replies on that ticket (never sent behind their back).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class HoldBar(Static):
    """The countdown line; it takes the focus while a reply is held, so `u` is a key, not text."""

    can_focus = True

    def show_left(self, seconds: int, what: str, undo_key: str = "u") -> None:
        """``undo_key``: the key that recalls the reply (``[keys]`` may have moved it)."""
        self.update(
            Text.assemble(
                (f" ⏳ Sending {what} in {seconds}s ", "bold black on yellow"),
                "   ",
                (undo_key, "bold"),
                " undo (back to the editor)",
            )
        )
