"""The rendering rule (``domain.text.literal``) in the shapes Textual and Rich take.

Every widget that shows a string from the database or a user takes it through one of these,
never as a ``str`` (Textual parses a ``str`` as markup: ``[/]`` crashes, ``[@click=...]``
runs an action). The app's ``notify`` applies the same rule to every toast. Text the agent
edits (the reply editor, the search box) lives in ``SafeTextArea`` / ``SafeInput``, which
keep control characters out of what they hold, pastes included.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Edit, EditResult

from helpdesk_tui.domain.text import literal, removed_note, without_controls
from helpdesk_tui.textual_seam import default_set_document


def safe(text: object) -> Content:
    """Untrusted text as Textual ``Content``: escapes visible, markup never parsed."""
    return Content(literal(text))


def safe_text(text: object, style: str = "") -> Text:
    """Untrusted text as a plain ``rich.text.Text`` (for tables and Rich renderables)."""
    return Text(literal(text), style=style)


def _say_removed(widget: Widget, what: str, removed: int) -> None:
    if removed:
        widget.notify(removed_note(what, removed), severity="warning", timeout=6)


class SafeTextArea(TextArea):
    """A ``TextArea`` whose document never holds a control character, so nothing it shows can
    act on the terminal: every edit (typed, pasted, inserted by the app, a canned response) and
    every text loaded (a draft) is taken through ``without_controls`` (newlines and tabs stay),
    and a toast says how many characters went. (A paste reaches it already clean: the app
    cleans every paste, ``HelpdeskApp._paste``.)"""

    def edit(self, edit: Edit) -> EditResult:
        text, removed = without_controls(edit.text)
        if removed:
            edit.text = text
            _say_removed(self, "inserted text", removed)
        return super().edit(edit)

    def _set_document(self, text: str, language: str | None) -> None:
        # Every way a whole text comes in (the constructor, ``load_text``, ``text = ``).
        text, removed = without_controls(text)
        if removed and self.is_attached:
            _say_removed(self, "loaded text", removed)
        default_set_document(self, text, language)


class SafeInput(Input):
    """An ``Input`` that never holds a control character (typed, pasted or set by the app).
    A pasted text is text, never keys; its lines are joined with spaces (Textual's ``Input``
    keeps the first line only, dropping the rest silently)."""

    def validate_value(self, value: str) -> str:
        return without_controls(value)[0].replace("\n", " ")

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(self.validate_value(text), start, end)

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own handler: it keeps the first line only
        event.stop()
        text, removed = without_controls(event.text)
        _say_removed(self, "pasted text", removed)
        line = " ".join(text.splitlines())
        if line:
            self.replace(line, *sorted(self.selection))
