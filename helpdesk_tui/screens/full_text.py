"""A long text the screen shows cut short (a ticket's subject, its customer), in full.

Read-only and scrollable; ``q``/``escape`` close it. The text is given as a ``rich.text.Text``
built from ``literal`` strings (never markup): controls are spelled out, as everywhere else.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from helpdesk_tui.screens.base import TakesKeys
from helpdesk_tui.widgets.safe import safe


class FullTextDialog(TakesKeys, ModalScreen[None]):
    """``title`` over ``body``, scrolled with the arrow and page keys."""

    DEFAULT_CLASSES = "dialog"
    BINDINGS = [
        Binding("q,escape,enter", "close", "Close", priority=True, id="close_full_text"),
        Binding("down,j", "scroll(1)", show=False, priority=True, id="full_text_down"),
        Binding("up,k", "scroll(-1)", show=False, priority=True, id="full_text_up"),
        Binding("pagedown,space", "scroll(20)", show=False, priority=True, id="full_text_page"),
        Binding("pageup", "scroll(-20)", show=False, priority=True, id="full_text_page_up"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            with VerticalScroll(id="full-text-scroll"):
                yield Static(self.body, id="full-text-body")
            yield Static("↑ ↓ PgUp PgDn scroll · q close", id="dialog-help")

    def action_scroll(self, lines: int) -> None:
        self.query_one("#full-text-scroll").scroll_relative(y=lines, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
