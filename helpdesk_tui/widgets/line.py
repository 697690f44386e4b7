"""A one-line status widget that repaints only the characters that changed.

The view bar's counts and the queue's info line change with live updates ("All open 177" ->
"178"); repainting the whole line sends a hundred characters over the agent's SSH link for
one digit.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widgets import Static


def _looks(text: Text) -> list[tuple[str, tuple[str, ...]]]:
    """Each character with the styles that cover it."""
    base = str(text.style)
    return [
        (char, (base, *(str(s.style) for s in text.spans if s.start <= index < s.end)))
        for index, char in enumerate(text.plain)
    ]


class Line(Static):
    """``set_text(text)``: nothing repainted if it looks the same, else the changed span."""

    _shown: Text | None = None
    _region: Region | None = None

    def set_text(self, text: Text) -> None:
        old = self._shown
        if old is not None and _looks(old) == _looks(text):
            return
        self._shown = text.copy()
        if old is None or not self.size.width:
            self.update(text)
            return
        before, after = _looks(old), _looks(text)
        same = 0
        for a, b in zip(before, after, strict=False):
            if a != b:
                break
            same += 1
        tail = 0
        while (
            tail < min(len(before), len(after)) - same
            and before[-1 - tail] == after[-1 - tail]
            and cell_len(old.plain) == cell_len(text.plain)
        ):
            tail += 1
        start = cell_len(text.plain[:same])
        end = max(cell_len(old.plain), cell_len(text.plain)) - cell_len(
            text.plain[len(text.plain) - tail :] if tail else ""
        )
        # Content coordinates: Textual adds the padding.
        self._region = Region(start, 0, max(end - start, 1), self.size.height)
        try:
            self.update(text, layout=False)
        finally:
            self._region = None

    def refresh(self, *regions: Region, **kwargs: Any) -> Any:
        if self._region is not None and not regions and not kwargs.get("layout"):
            return super().refresh(self._region, **kwargs)
        return super().refresh(*regions, **kwargs)
