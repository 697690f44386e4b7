"""Untrusted text made safe to put on a terminal: control characters shown, not obeyed."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 range (0x9b is a one-byte CSI).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def literal(text: str) -> str:
    """``text`` with every terminal control character spelled out (``\\x1b`` for ESC).

    Rich markup needs no escaping here: widgets render customer text as ``rich.text.Text``
    (plain), never as markup. This removes what Rich would pass through to the terminal.
    """
    return _CONTROL.sub(_visible, text.replace("\r\n", "\n"))


def one_line(text: str, width: int | None = None) -> str:
    """``literal`` text folded onto one line, for table cells and CLI listings."""
    flat = " ".join(literal(text).split())
    if width is not None and len(flat) > width:
        return flat[: max(width - 1, 0)] + "…"
    return flat
