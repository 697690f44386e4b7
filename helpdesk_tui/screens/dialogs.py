"""Small modal dialogs: pick one of a list, type a line, confirm. ``q``/``escape`` cancel.

Titles, option labels, hints and placeholders often carry database text (names, e-mails,
ticket numbers, tags): the dialogs render every one of them through the rendering rule
themselves, so no caller can forget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from helpdesk_tui.domain.text import literal
from helpdesk_tui.screens.base import TakesKeys
from helpdesk_tui.widgets.safe import safe

T = TypeVar("T")


class _Dialog(TakesKeys, ModalScreen[T]):
    """Bindings are priority, as on every screen (see screens/base.py): a key typed ahead acts
    on the dialog while it is up, and on the screen under it once it is gone."""

    DEFAULT_CLASSES = "dialog"
    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True, id="cancel")]
    TYPING_ACTIONS = frozenset({"cancel", "choose", "accept"})

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(_Dialog[T], Generic[T]):
    """Pick one value; options are (label, value, hint). Typing filters when there are many."""

    BINDINGS = [
        Binding("enter", "choose", "Choose", show=False, priority=True, id="choose"),
        Binding("escape", "cancel", "Cancel", priority=True, id="cancel"),
        Binding("q", "cancel", "Cancel", show=False, priority=True, id="cancel"),
        Binding("down", "down", show=False, priority=True, id="down"),
        Binding("up", "up", show=False, priority=True, id="up"),
        # Letters: not while typing a name into the filter.
        Binding("j", "letter_down", show=False, priority=True, id="letter_down"),
        Binding("k", "letter_up", show=False, priority=True, id="letter_up"),
    ]
    TYPING_ACTIONS = frozenset({"cancel", "choose", "down", "up"})

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[str, T, str]],
        *,
        filterable: bool = False,
        current: object = None,
    ) -> None:
        """``current``: the value the thing has now; the list opens on it (marked "current")."""
        super().__init__()
        self.title_text = title
        self.choices = list(options)
        self.filterable = filterable
        self.current = current

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
            if self.current is not None and _value == self.current:
                prompt.append("  (current)", style="bold")
            if hint:
                prompt.append(f"  {literal(hint)}", style="dim")
            options.append(Option(prompt, id=str(index)))
        return options

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#dialog-filter" if self.filterable else "#dialog-options"))
        choose, cancel = self.key_for("choose", "enter"), self.key_for("cancel", "esc")
        self.query_one("#dialog-help", Static).update(safe(f"{choose} choose · {cancel} cancel"))
        options = self.query_one(OptionList)
        at = next((i for i, (_, value, _) in enumerate(self.choices) if value == self.current), 0)
        if options.option_count:
            options.highlighted = at if self.current is not None else 0

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def action_choose(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.choices[int(option_id)][1])

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_letter_down(self) -> None:
        self.action_down()

    def action_letter_up(self) -> None:
        self.action_up()


class TextDialog(_Dialog[str]):
    """Type one line (tags, a filter); enter accepts, escape cancels."""

    BINDINGS = [
        Binding("enter", "accept", "Accept", show=False, priority=True, id="accept"),
        Binding("escape", "cancel", "Cancel", priority=True, id="cancel"),
    ]

    def __init__(
        self, title: str, *, value: str = "", placeholder: str = "", help: str = ""
    ) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.help = title, value, placeholder, help

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            # Not selected on focus: typing edits what is there instead of replacing it.
            yield Input(
                self.value,
                placeholder=literal(self.placeholder),
                id="dialog-input",
                select_on_focus=False,
            )
            yield Static(safe(self.help or "enter accept · esc cancel"), id="dialog-help")

    def on_mount(self) -> None:
        if not self.help:  # the keys [keys] gave accept and cancel
            accept, cancel = self.key_for("accept", "enter"), self.key_for("cancel", "esc")
            self.query_one("#dialog-help", Static).update(
                safe(f"{accept} accept · {cancel} cancel")
            )
        box = self.query_one("#dialog-input", Input)
        self.set_focus(box)
        box.cursor_position = len(box.value)  # typing adds to what is there

    def action_accept(self) -> None:
        self.dismiss(self.query_one("#dialog-input", Input).value)


class ConfirmDialog(_Dialog[bool]):
    """A yes/no question with an explanation; ``y`` / ``n`` answer, ``q`` says no.

    ``yes`` / ``no`` say what each answer does ("change 3", "cancel"); the help line puts the
    key bound to it in front (the first key of the binding, as the footer shows keys), so a
    ``[keys]`` remap of ``yes`` / ``no`` is named: "y change 3 · n cancel"."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", priority=True, id="yes"),
        Binding("n,q,escape", "answer(False)", "No", priority=True, id="no"),
    ]

    def __init__(self, title: str, body: Text | str, *, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            body = self.body if isinstance(self.body, Text) else safe(self.body)
            yield Static(body, id="dialog-body")
            help = f"{self.key_of('yes', 'y')} {self.yes} · {self.key_of('no', 'n')} {self.no}"
            yield Static(safe(help), id="dialog-help")

    def key_of(self, binding_id: str, default: str) -> str:
        """The first key bound to ``binding_id`` now, as the footer shows it (both answers
        share one action name, so ``key_for`` cannot tell them apart)."""
        for active in self.active_bindings.values():
            if active.node is self and active.binding.id == binding_id:
                return str(self.app.get_key_display(active.binding))
        return default

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
