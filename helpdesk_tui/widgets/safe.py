"""The rendering rule (``domain.text.literal``) in the shapes Textual and Rich take.

Every widget that shows a string from the database or a user takes it through one of these,
never as a ``str`` (Textual parses a ``str`` as markup: ``[/]`` crashes, ``[@click=...]``
runs an action). The app's ``notify`` applies the same rule to every toast.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from helpdesk_tui.domain.text import literal


def safe(text: object) -> Content:
    """Untrusted text as Textual ``Content``: escapes visible, markup never parsed."""
    return Content(literal(text))


def safe_text(text: object, style: str = "") -> Text:
    """Untrusted text as a plain ``rich.text.Text`` (for tables and Rich renderables)."""
    return Text(literal(text), style=style)
