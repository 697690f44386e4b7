"""Write only the changed part of a line to the terminal (agents work over SSH).

Textual repaints a changed region of a line by writing the line from its left edge (the start
of the widget's "chop") up to the region's end: a countdown that turns from ``2h 14m`` to
``2h 13m`` at column 90 costs 90 characters. ``install()`` makes the update start at the
region instead, unless that would cut a double-width character in half (then it starts at
the chop, as before). Applies to Textual 8's ``ChopsUpdate.render_segments``.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate
from textual.strip import Strip

_installed = False


def install() -> None:
    """Replace ``ChopsUpdate.render_segments`` once per process."""
    global _installed
    if not _installed:
        ChopsUpdate.render_segments = _render_segments  # type: ignore[method-assign]
        _installed = True


def _render_segments(self: ChopsUpdate, console: Console) -> str:
    """Like Textual's, but each chop is cropped to the changed span ``x1..x2`` on the left
    too, and an empty crop writes nothing (not even a cursor move)."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]

    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = x1 - x if x1 > x and _cuts_cleanly(strip, x1 - x) else 0
            cropped = strip.crop(start, min(end, x2) - x)
            if not cropped.cell_length:
                continue
            append(move_to(x + start, y).segment.text)
            append(cropped.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def _cuts_cleanly(strip: Strip, offset: int) -> bool:
    """Whether ``offset`` falls between characters (not inside a double-width one)."""
    position = 0
    for segment in strip:
        text = segment.text
        width = cell_len(text)
        if position + width <= offset:
            position += width
            continue
        for character in text:
            if position == offset:
                return True
            position += cell_len(character)
            if position > offset:
                return False
        return position == offset
    return position == offset
