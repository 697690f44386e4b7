"""Undo send: a reply waits a few seconds, with a countdown, before it is written.

The hold counts on the store's clock (the tests' fixed one), so whether it has run out is a
question of that clock, never of how long a test waited. Nothing is written while a reply is
held; if the app stops meanwhile, the reply stays what it already was: a saved draft, restored
the next time the agent replies on that ticket (never sent behind their back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from rich.text import Text
from textual.widgets import Static

T = TypeVar("T")


@dataclass(frozen=True)
class Held(Generic[T]):
    """One reply on hold until ``deadline`` (store clock)."""

    outgoing: T
    deadline: datetime
    what: str  # "reply", "reply, then waiting", ...

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds to show on the countdown (rounded up: "1s" until it is sent)."""
        return max(0, math.ceil((self.deadline - now).total_seconds()))

    def due(self, now: datetime) -> bool:
        return now >= self.deadline


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
