"""Small modal dialogs: pick one of a list, type a line, confirm. ``q``/``escape`` cancel.

Titles, option labels, hints and placeholders often carry database text (names, e-mails,
ticket numbers, tags): the dialogs render every one of them through the rendering rule
themselves, so no caller can forget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from helpdesk_tui.domain.text import literal
from helpdesk_tui.widgets.safe import safe

T = TypeVar("T")


class _Dialog(ModalScreen[T]):
    DEFAULT_CLASSES = "dialog"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(_Dialog[T], Generic[T]):
    """Pick one value; options are (label, value, hint). Typing filters when there are many."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("q", "cancel", "Cancel", show=False),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]

    def __init__(
        self, title: str, options: Sequence[tuple[str, T, str]], *, filterable: bool = False
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(options)
        self.filterable = filterable

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            if self.filterable:
                yield Input(placeholder="type to filter…", id="dialog-filter")
            yield OptionList(*self._options(""), id="dialog-options")
            yield Static("enter choose · esc cancel", id="dialog-help")

    def _options(self, needle: str) -> list[Option]:
        needle = needle.lower()
        options = []
        for index, (label, _value, hint) in enumerate(self.choices):
            if needle and needle not in f"{label} {hint}".lower():
                continue
            prompt = Text(literal(label))
            if hint:
                prompt.append(f"  {literal(hint)}", style="dim")
            options.append(Option(prompt, id=str(index)))
        return options

    def on_mount(self) -> None:
        self.query_one("#dialog-filter" if self.filterable else "#dialog-options").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def on_key(self, event: Any) -> None:
        # Arrow keys move the list while the filter has focus.
        if self.filterable and event.key in ("down", "up"):
            self.query_one(OptionList).action_cursor_down() if event.key == "down" else (
                self.query_one(OptionList).action_cursor_up()
            )
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.choices[int(option_id)][1])

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()


class TextDialog(_Dialog[str]):
    """Type one line (tags, a filter); enter accepts, escape cancels."""

    def __init__(
        self, title: str, *, value: str = "", placeholder: str = "", help: str = ""
    ) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.help = title, value, placeholder, help

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            yield Input(self.value, placeholder=literal(self.placeholder), id="dialog-input")
            yield Static(safe(self.help or "enter accept · esc cancel"), id="dialog-help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class ConfirmDialog(_Dialog[bool]):
    """A yes/no question with an explanation; ``y`` / ``n`` answer, ``q`` says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,q,escape", "answer(False)", "No"),
    ]

    def __init__(
        self, title: str, body: Text | str, *, yes: str = "y yes", no: str = "n no"
    ) -> None:
        super().__init__()
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            body = self.body if isinstance(self.body, Text) else safe(self.body)
            yield Static(body, id="dialog-body")
            yield Static(safe(f"{self.yes} · {self.no}"), id="dialog-help")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
