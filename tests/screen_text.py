"""The screen as a user sees it: the current screen's lines as plain text."""

from __future__ import annotations

from typing import Any


def screen_lines(app: Any) -> list[str]:
    """Each line of the current screen (dialogs, toasts and footer included), as text."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))
