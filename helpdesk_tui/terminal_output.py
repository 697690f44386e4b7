"""Write only what changed to the terminal, in as few bytes as it takes (agents work over SSH).

Textual writes each changed part of the screen as: a cursor move, the line from the left edge
of its widget to the end of the change, and for every segment a full colour code and a reset,
then a cursor move to where an input would want the cursor. ``install()`` replaces Textual 8's
``ChopsUpdate.render_segments`` with one that writes the same screen with less:

* a change starts at the changed cell, not at the widget's left edge (a countdown turning
  ``2h 14m`` into ``2h 13m`` at column 90 costs one digit, not 90 characters), unless that
  would cut a double-width character in half (then it starts at the chop, as before);
* a colour code is written when the look changes, not per segment; a reset only where the
  next look cannot be reached by adding codes (an attribute to drop, a colour to return to
  the default);
* the next line of a block of whole lines is reached with a new line (``\\n`` where the
  terminal turns it into CR LF, as a pty does by default; else ``\\r\\n``), not a cursor
  move; a cursor move to column 1 leaves the column out.

With a terminal driver from ``quiet_driver`` running (the app, not tests or snapshots), two
more savings, both of them per update (a countdown change is ~10 bytes with them, 33 without):

* the look an update ends with stays on: the next update starts from it (usually the same row
  colour: no code at all) instead of a reset and a fresh code. Anything else the driver
  writes (a full repaint, leaving the app, a mode change) first gets the reset it expects;
* the cursor move Textual appends after an update is dropped when no widget placed the
  cursor (no text input focused: the cursor is hidden, parked at the origin for nothing).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.driver import Driver
from textual.geometry import Offset
from textual.strip import Strip

RESET = "\x1b[0m"
PARK = "\x1b[1;1H"  # Textual's cursor move after an update when no widget wants the cursor


@dataclass
class _Terminal:
    """What this process's terminal is known to be in, between updates."""

    keep: bool = False  # a quiet driver is running: the look may stay on between updates
    style: Style | None = None  # the look left on by the last update (None: reset)
    codes: str = ""
    ours: bool = False  # the driver's next write is the update just rendered here
    new_line: str = "\r\n"  # what takes the cursor to the start of the next line


TERMINAL = _Terminal()
_installed = False


def install() -> None:
    """Replace ``ChopsUpdate.render_segments`` once per process."""
    global _installed
    if not _installed:
        ChopsUpdate.render_segments = _render_segments  # type: ignore[method-assign]
        _installed = True


def move_to(x: int, y: int) -> str:
    """CUP to the 0-based cell ``x, y``; the column is left out when it is the first."""
    return f"\x1b[{y + 1}H" if x == 0 else f"\x1b[{y + 1};{x + 1}H"


class _Pen:
    """Turns segments into text and colour codes, remembering the look in effect."""

    def __init__(self, color_system: ColorSystem, style: Style | None, codes: str) -> None:
        self.color_system = color_system
        self.out: list[str] = []
        self.style = style  # the look in effect; None after a reset
        self.codes = codes

    def write(self, strip: Strip) -> None:
        out = self.out
        for text, style, _ in strip:
            if not text:
                continue
            if style is None or style._link:
                self.reset()  # a link's codes and reset come with it (rare: Markdown)
                out.append(text if style is None else self._linked(style, text))
                continue
            codes = style._ansi
            if codes is None:
                codes = Strip.render_ansi(style, self.color_system)
            if not codes:
                self.reset()
            elif codes != self.codes:
                prefix = "0;" if self.style is not None and _needs_reset(self.style, style) else ""
                out.append(f"\x1b[{prefix}{codes}m")
                self.style, self.codes = style, codes
            out.append(text)

    def _linked(self, style: Style, text: str) -> str:
        return Strip.render_style(style, text, self.color_system)

    def reset(self) -> None:
        if self.style is not None:
            self.out.append(RESET)
            self.style, self.codes = None, ""


def _needs_reset(now: Style, then: Style) -> bool:
    """Whether ``then``'s codes alone would leave something of ``now`` on: an attribute
    ``then`` does not set, or a colour ``then`` leaves at the default."""
    return bool(
        now._attributes & now._set_attributes
        or (now._color is not None and then._color is None)
        or (now._bgcolor is not None and then._bgcolor is None)
    )


def _render_segments(self: ChopsUpdate, console: Console) -> str:
    """Like Textual's, with the savings the module docstring lists; an empty crop writes
    nothing (not even a cursor move)."""
    terminal = TERMINAL
    color_system = console._color_system or ColorSystem.TRUECOLOR
    if terminal.keep:
        pen = _Pen(color_system, terminal.style, terminal.codes)
    else:
        pen = _Pen(color_system, None, "")
    out = pen.out
    chops = self.chops
    chop_ends = self.chop_ends
    last_line: int | None = None  # the line the last write was on

    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                start, piece = 0, strip
            else:
                start = x1 - x if x1 > x and _cuts_cleanly(strip, x1 - x) else 0
                piece = strip.crop(start, min(end, x2) - x)
                if not piece.cell_length:
                    continue
            column = x + start
            # A new line reaches the start of the next line from anywhere on this one (no
            # scroll: the next line is on the screen).
            at_next_line = column == 0 and last_line == y - 1
            out.append(terminal.new_line if at_next_line else move_to(column, y))
            pen.write(piece)
            last_line = y
    if terminal.keep:
        terminal.style, terminal.codes, terminal.ours = pen.style, pen.codes, True
    else:
        pen.reset()
    return "".join(out)


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


def _new_line_for(fileno: int) -> str:
    """``\\n`` when the terminal's output processing turns it into CR LF (a pty's default,
    which Textual leaves on), else ``\\r\\n``."""
    try:
        import termios

        oflag = termios.tcgetattr(fileno)[1]
    except Exception:  # not a terminal, or not POSIX: say it in full
        return "\r\n"
    return "\n" if oflag & termios.OPOST and oflag & termios.ONLCR else "\r\n"


def _write(driver: Any, data: str) -> str:
    """What a quiet driver really writes for ``data``."""
    terminal = TERMINAL
    if terminal.ours:  # the update rendered above: the look it leaves on is recorded
        terminal.ours = False
        if data.endswith(PARK) and driver._app.cursor_position == Offset(0, 0):
            data = data[: -len(PARK)]
    elif terminal.style is not None:  # anything else starts from a reset, as Textual expects
        data = RESET + data
        terminal.style, terminal.codes = None, ""
    return data


_filtered: dict[type[Driver], type[Driver]] = {}


def quiet_driver(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class`` with the per-update savings of the module docstring. Not on Windows,
    where Textual writes a long update in chunks (a reset put before a chunk could cut a
    colour code in two)."""
    if sys.platform == "win32":
        return driver_class
    if driver_class not in _filtered:

        def start_application_mode(self: Any) -> None:
            driver_class.start_application_mode(self)
            fileno = getattr(self, "fileno", None)
            terminal = TERMINAL
            terminal.new_line = _new_line_for(fileno) if isinstance(fileno, int) else "\r\n"
            terminal.style, terminal.codes, terminal.ours = None, "", False
            terminal.keep = True

        def stop_application_mode(self: Any) -> None:
            TERMINAL.ours = False  # so its first write gets the reset
            driver_class.stop_application_mode(self)
            TERMINAL.keep = False
            TERMINAL.new_line = "\r\n"

        def write(self: Any, data: str) -> None:
            data = _write(self, data)
            if data:
                driver_class.write(self, data)

        _filtered[driver_class] = type(
            driver_class.__name__,
            (driver_class,),
            {
                "write": write,
                "start_application_mode": start_application_mode,
                "stop_application_mode": stop_application_mode,
            },
        )
    return _filtered[driver_class]
