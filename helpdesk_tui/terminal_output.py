"""Write only what changed to the terminal, in as few bytes as it takes (agents work over SSH).

Textual writes each changed part of the screen as: a cursor move, the line from the left edge
of its widget to the end of the change, and for every segment a full colour code and a reset,
then a cursor move to where an input would want the cursor. ``install()`` replaces Textual 8's
``ChopsUpdate.render_segments`` (and ``LayoutUpdate``'s, the full repaint) with one that
writes the same screen with less:

* a change starts at the changed cell, not at the widget's left edge (a countdown turning
  ``2h 14m`` into ``2h 13m`` at column 90 costs one digit, not 90 characters), unless that
  would cut a double-width character in half (then it starts at the chop, as before);
* a colour code is written when the look changes, not per segment; a reset only where the
  next look cannot be reached by adding codes (an attribute to drop, a colour to return to
  the default);
* the next line of a block of whole lines is reached with a new line (``\\n`` where the
  terminal turns it into CR LF, as a pty does by default; else ``\\r\\n``), not a cursor
  move; a cursor move to column 1 leaves the column out.

With a terminal driver from ``quiet_driver`` running (the app, not tests or snapshots), more:

* the look an update ends with stays on: the next update starts from it (usually the same row
  colour: no code at all) instead of a reset and a fresh code;
* what each cell shows is remembered (``_Shadow``, as curses does), and cells Textual repaints
  with what they already show are skipped: a toast painted twice, the unchanged columns of a
  row that another row replaced, a view whose rows share their layout;
* the cursor move Textual appends after an update is dropped when no widget placed the
  cursor (no text input focused: the cursor is hidden, parked at the origin for nothing);
* a block of lines whose content moved up or down by one to three lines (a scrolled
  conversation) is moved by the terminal: a scroll region (DECSTBM) and IND / RI, then only
  the cells that still differ (the new line; the cells beside the block that moved with it,
  put back from the shadow). A one-line scroll at 120x40 is ~0.5 KB instead of ~5 KB.

Anything else the driver writes (a mode change, leaving the app) first gets the reset Textual
expects, and unless it only sets modes it makes every cell unknown again. A full repaint
(``LayoutUpdate``: a view switch, a screen pushed or popped) is written as the cells that
changed, like any update, while the terminal's size is the one the cells were written at; after
a resize (the app says so: ``redraw_everything``) or at another size it writes every cell.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len, split_graphemes
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual.driver import Driver
from textual.geometry import Offset
from textual.strip import Strip

from helpdesk_tui.textual_seam import (
    ChopsUpdate,
    LayoutUpdate,
    driver_app,
    replace_update_renderers,
)

RESET = "\x1b[0m"
PARK = "\x1b[1;1H"  # Textual's cursor move after an update when no widget wants the cursor
GAP = 6  # unchanged cells between two changes rewritten rather than jumped (a move is 4-8 B)
CONTINUED = "\0"  # the right half of a double-width character, in the shadow
_MODES_ONLY = re.compile(r"(?:\x1b\[\?[0-9;]*[hl])+")  # DEC private modes: no cell changes

Cell = tuple[str, str]  # the text written at a cell and the look's codes ("" when reset)


@dataclass
class _Shadow:
    """What each cell of the terminal shows, as far as this process knows (None: unknown)."""

    lines: dict[int, list[Cell | None]] = field(default_factory=dict)

    def clear(self) -> None:
        self.lines.clear()

    def line(self, y: int, width: int) -> list[Cell | None]:
        line = self.lines.setdefault(y, [])
        if len(line) < width:
            line.extend([None] * (width - len(line)))
        return line


@dataclass
class _Terminal:
    """What this process's terminal is known to be in, between updates."""

    keep: bool = False  # a quiet driver is running: the look and the cells are remembered
    style: Style | None = None  # the look left on by the last update (None: reset)
    codes: str = ""
    ours: bool = False  # the driver's next write is the update just rendered here
    new_line: str = "\r\n"  # what takes the cursor to the start of the next line
    shadow: _Shadow = field(default_factory=_Shadow)
    # The screen size the shadow was written at (None: unknown, the next full repaint
    # writes every cell); a resize may have reflowed what the terminal shows.
    size: tuple[int, int] | None = None
    painted: bool = False  # an update was rendered since the start or redraw_everything()


TERMINAL = _Terminal()
_installed = False


def install() -> None:
    """Replace Textual's two screen-update renderers once per process."""
    global _installed
    if not _installed:
        replace_update_renderers(_render_chops, _render_layout)
        _installed = True


def move_to(x: int, y: int) -> str:
    """CUP to the 0-based cell ``x, y``; the column is left out when it is the first."""
    return f"\x1b[{y + 1}H" if x == 0 else f"\x1b[{y + 1};{x + 1}H"


class _Unit:
    """One character cell (two for a wide character) with the zero-width ones after it."""

    __slots__ = ("codes", "style", "text", "width", "x")

    def __init__(self, x: int, text: str, width: int, style: Style | None, codes: str) -> None:
        self.x, self.text, self.width, self.style, self.codes = x, text, width, style, codes


def _units(x: int, strips: Iterable[Strip], color_system: ColorSystem) -> list[_Unit]:
    units: list[_Unit] = []
    for strip in strips:
        for text, style, _ in strip:
            if not text:
                continue
            codes = _codes(style, color_system)
            if text.isascii() and text.isprintable():  # most cells: one character, one cell
                units.extend(_Unit(x + n, char, 1, style, codes) for n, char in enumerate(text))
                x += len(text)
                continue
            # By grapheme, as Rich and Textual's compositor measure: "⚠️" (a sign and the
            # emoji selector U+FE0F) takes two cells, not the sign's one.
            for start, end, width in split_graphemes(text)[0]:
                if width == 0 and units:
                    units[-1].text += text[start:end]
                    continue
                units.append(_Unit(x, text[start:end], width, style, codes))
                x += width
    return units


def _codes(style: Style | None, color_system: ColorSystem) -> str:
    if style is None:
        return ""
    codes = style._ansi
    return Strip.render_ansi(style, color_system) if codes is None else codes


class _Pen:
    """Writes cells and colour codes, remembering the look in effect."""

    def __init__(self, color_system: ColorSystem, style: Style | None, codes: str) -> None:
        self.color_system = color_system
        self.out: list[str] = []
        self.style = style  # the look in effect; None after a reset
        self.codes = codes

    def put(self, unit: _Unit) -> None:
        style, codes = unit.style, unit.codes
        if style is None or style._link:
            self.reset()  # a link's codes and reset come with it (rare: Markdown)
            text = unit.text
            self.out.append(text if style is None else self._linked(style, text))
            return
        if not codes:
            self.reset()
        elif codes != self.codes:
            prefix = "0;" if self.style is not None and _needs_reset(self.style, style) else ""
            self.out.append(f"\x1b[{prefix}{codes}m")
            self.style, self.codes = style, codes
        self.out.append(unit.text)

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


class _Writer:
    """One update's output: moves, cells, and (when remembering) the shadow kept true."""

    def __init__(self, console: Console) -> None:
        terminal = TERMINAL
        self.remember = terminal.keep
        color_system = console._color_system or ColorSystem.TRUECOLOR
        if self.remember:
            self.pen = _Pen(color_system, terminal.style, terminal.codes)
        else:
            self.pen = _Pen(color_system, None, "")
        self.color_system = color_system
        self.shadow = terminal.shadow
        self.new_line = terminal.new_line
        self.last_line: int | None = None  # the line the last write was on

    def piece(self, x: int, y: int, strips: Iterable[Strip], skip_unchanged: bool) -> None:
        """Write the cells of ``strips`` from ``x, y``: those that changed, when asked."""
        self.units(y, _units(x, strips, self.color_system), skip_unchanged)

    def units(self, y: int, units: list[_Unit], skip_unchanged: bool) -> None:
        """Write ``units`` on line ``y``: those that changed, when asked."""
        if not units:
            return
        if not (self.remember and skip_unchanged):
            self._run(y, units)
            return
        line = self.shadow.line(y, units[-1].x + units[-1].width + 1)
        changed = [_differs(line, unit) for unit in units]
        start: int | None = None
        end = 0
        for index, unit in enumerate(units):
            if not changed[index]:
                continue
            if start is not None and unit.x - (units[end].x + units[end].width) > GAP:
                self._run(y, units[start : end + 1])
                start = None
            if start is None:
                start = index
            end = index
        if start is not None:
            self._run(y, units[start : end + 1])

    def _run(self, y: int, units: list[_Unit]) -> None:
        x = units[0].x
        # A new line reaches the start of the next line from anywhere on this one (no
        # scroll: the next line is on the screen).
        at_next_line = x == 0 and self.last_line == y - 1
        self.pen.out.append(self.new_line if at_next_line else move_to(x, y))
        for unit in units:
            self.pen.put(unit)
        self.last_line = y
        if self.remember:
            last = units[-1]
            self._record(self.shadow.line(y, last.x + last.width + 1), units)

    @staticmethod
    def _record(line: list[Cell | None], units: list[_Unit]) -> None:
        first, last = units[0], units[-1]
        if line[first.x] is not None and line[first.x][0] == CONTINUED:  # type: ignore[index]
            line[first.x - 1] = None  # half a wide character was overwritten: the terminal
        end = last.x + last.width  # may show either half; unknown until written again
        if line[end] is not None and line[end][0] == CONTINUED:  # type: ignore[index]
            line[end] = None
        for unit in units:
            known = unit.style is None or not unit.style._link
            line[unit.x] = (unit.text, unit.codes) if known else None
            if unit.width == 2:
                line[unit.x + 1] = (CONTINUED, unit.codes) if known else None

    def finish(self) -> str:
        terminal = TERMINAL
        pen = self.pen
        if self.remember:
            terminal.style, terminal.codes, terminal.ours = pen.style, pen.codes, True
        else:
            pen.reset()
        return "".join(pen.out)


def _differs(line: list[Cell | None], unit: _Unit) -> bool:
    if line[unit.x] != (unit.text, unit.codes) or (unit.style is not None and unit.style._link):
        return True
    return unit.width == 2 and line[unit.x + 1] != (CONTINUED, unit.codes)


def _render_chops(self: ChopsUpdate, console: Console) -> str:
    """Like Textual's, with the savings the module docstring lists; an empty crop writes
    nothing (not even a cursor move)."""
    writer = _Writer(console)
    pieces = [(y, _units(x, [piece], writer.color_system)) for x, y, piece in _pieces(self)]
    if writer.remember and TERMINAL.size is not None:
        scrolled = _scroll(writer, pieces, TERMINAL.size[0])
        if scrolled is not None:
            return _painted(scrolled)
    for y, units in pieces:
        writer.units(y, units, skip_unchanged=True)
    return _painted(writer.finish())


def _pieces(self: ChopsUpdate) -> Iterable[tuple[int, int, Strip]]:
    """The update's pieces of lines to write: (x, y, strip)."""
    chops = self.chops
    chop_ends = self.chop_ends
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
            yield x + start, y, piece


# --- a scrolled block: the terminal moves the lines (issue 29) --------------------------------

SCROLL_MIN_ROWS = 4  # a block of fewer lines is cheaper written than scrolled
SCROLL_MAX = 3  # lines moved at most (a key scrolls by one or three)
SCROLL_SAVES = 0.6  # scroll only when it writes at most this share of the cells it saves
_UNKNOWN_LOOK = Style(bold=True, italic=True, underline=True, reverse=True, color="red")


def _scroll(writer: _Writer, pieces: list[tuple[int, list[_Unit]]], width: int) -> str | None:
    """When the update is a block of lines whose content moved up or down by a few lines (a
    scrolled conversation), have the terminal move them: a scroll region (DECSTBM) and IND /
    RI, as every VT100 descendant (tmux, screen, xterm) does them, then only the cells that
    still differ: the new lines, and the cells of those lines outside the update (a panel
    beside) put back from what the terminal was known to show. None: write it as usual."""
    rows: dict[int, list[_Unit]] = {}
    for y, units in pieces:
        rows.setdefault(y, []).extend(units)
    if not rows:
        return None
    top, bottom = min(rows), max(rows)
    if bottom - top + 1 < SCROLL_MIN_ROWS or len(rows) != bottom - top + 1:
        return None
    shadow = writer.shadow
    old = {y: list(shadow.line(y, width)[:width]) for y in range(top, bottom + 1)}
    new: dict[int, list[Cell | None]] = {}
    covered: dict[int, list[bool]] = {}
    for y, units in rows.items():
        line, mask = list(old[y]), [False] * width
        for unit in units:
            if unit.x + unit.width > width or (unit.style is not None and unit.style._link):
                return None
            line[unit.x], mask[unit.x] = (unit.text, unit.codes), True
            if unit.width == 2:
                line[unit.x + 1], mask[unit.x + 1] = (CONTINUED, unit.codes), True
        new[y], covered[y] = line, mask
    blank: list[Cell | None] = [None] * width
    spans = {y: (units[0].x, units[-1].x + units[-1].width) for y, units in rows.items() if units}

    def likely(shift: int) -> bool:
        """Whether at least half the lines' updated cells are the ones ``shift`` lines away
        (compared as slices: cheap enough to ask of every update)."""
        same = 0
        for y, (x1, x2) in spans.items():
            source = y + shift
            if top <= source <= bottom and new[y][x1:x2] == old[source][x1:x2]:
                same += 1
        return same * 2 >= len(spans)

    def cost(shift: int, limit: float) -> int | None:
        """Cells to write once the block's content moved up by ``shift`` lines (down when
        negative); None if one of them cannot be put back, or more than ``limit``."""
        total = 0
        for y in range(top, bottom + 1):
            source = y + shift
            before = old[source] if top <= source <= bottom else blank
            after = new[y]
            if after == before:
                continue
            mask = covered[y]
            for x in range(width):
                want, was = after[x], before[x]
                if want == was:
                    continue
                total += 1
                if mask[x]:
                    continue
                # A cell outside the update, put back: known, and not half of a wide
                # character whose other half the update writes (or skips).
                if want is None or (want[0] == CONTINUED and (x == 0 or mask[x - 1])):
                    return None
                if x + 1 < width and mask[x + 1] and after[x + 1] == (CONTINUED, want[1]):
                    return None
            if total > limit:
                return None
        return total

    still = cost(0, width * (bottom - top + 1))
    if still is None or still < SCROLL_MIN_ROWS * 4:
        return None
    best: tuple[int, int] | None = None
    for shift in (1, -1, *range(2, SCROLL_MAX + 1), *range(-2, -SCROLL_MAX - 1, -1)):
        if abs(shift) >= bottom - top or not likely(shift):
            continue
        moved = cost(shift, still * SCROLL_SAVES if best is None else best[1] - 1)
        if moved is not None:
            best = (shift, moved)
    if best is None:
        return None
    shift = best[0]
    pen = writer.pen
    pen.reset()  # the lines the terminal brings in are blank in the default look
    out = pen.out
    out.append(f"\x1b[{top + 1};{bottom + 1}r")
    if shift > 0:
        out.append(f"\x1b[{bottom + 1}H" + "\x1bD" * shift)
    else:
        out.append(f"\x1b[{top + 1}H" + "\x1bM" * -shift)
    out.append("\x1b[r")  # the whole screen again (the cursor goes home)
    writer.last_line = None
    for y in range(top, bottom + 1):
        source = y + shift
        line = shadow.line(y, width)
        line[:width] = list(old[source]) if top <= source <= bottom else blank
    for y in range(top, bottom + 1):
        _put_back(writer, y, old[y], covered[y], width)
    for y, units in pieces:
        writer.units(y, units, skip_unchanged=True)
    return writer.finish()


def _put_back(
    writer: _Writer, y: int, want: list[Cell | None], covered: list[bool], width: int
) -> None:
    """Write the cells of line ``y`` outside the update that the move changed, as they were
    (their look from its codes: the next change of look starts with a reset)."""
    line = writer.shadow.line(y, width)
    x = 0
    while x < width:
        cell = want[x]
        if covered[x] or cell is None or line[x] == cell or cell[0] == CONTINUED:
            x += 1
            continue
        start, texts = x, []
        while x < width and not covered[x] and want[x] is not None and line[x] != want[x]:
            text, codes = want[x]  # type: ignore[misc]
            if text != CONTINUED:
                texts.append((text, codes))
            line[x] = want[x]
            x += 1
        _restore_run(writer, start, y, texts)


def _restore_run(writer: _Writer, x: int, y: int, cells: list[tuple[str, str]]) -> None:
    pen = writer.pen
    at_next_line = x == 0 and writer.last_line == y - 1
    pen.out.append(writer.new_line if at_next_line else move_to(x, y))
    for text, codes in cells:
        if codes != pen.codes:
            if codes:
                pen.out.append(f"\x1b[0;{codes}m")
                pen.style, pen.codes = _UNKNOWN_LOOK, codes  # any change of look resets first
            else:
                pen.reset()
        pen.out.append(text)
    writer.last_line = y


def _render_layout(self: LayoutUpdate, console: Console) -> str:
    """A full repaint (start, resize, another screen, a screen's layout changed). At the size
    the terminal's cells are known at, only the cells that changed (a screen pushed over the
    queue shares its top bar and footer; a view with the same columns, its header); else
    every cell, remembered anew (a resize may have reflowed what the terminal showed)."""
    terminal = TERMINAL
    region = self.region
    size = (region.right, region.bottom)
    at_origin = (region.x, region.y) == (0, 0)
    # The cells are known at the size they were written at, and so are those written since
    # the last reset (size None: any resize forgets every cell): the start's first frames are
    # partial updates, and the first full repaint after them wrote every cell a second time.
    known = terminal.keep and at_origin and _fits(terminal, size)
    if terminal.keep:
        if not known:
            terminal.shadow.clear()
        terminal.size = size if at_origin else None
    writer = _Writer(console)
    for y, line in enumerate(self.strips, region.y):
        writer.piece(region.x, y, line, skip_unchanged=known)
    return _painted(writer.finish())


def _fits(terminal: _Terminal, size: tuple[int, int]) -> bool:
    """Whether the remembered cells are where they show at ``size``: written at that size, or
    since the last reset and inside it (an update drawn for the old size just after a
    shrink lands past the new edge, where the terminal squeezes it into the last column)."""
    if terminal.size is not None:
        return terminal.size == size
    width, height = size
    return all(y < height and not any(line[width:]) for y, line in terminal.shadow.lines.items())


def _painted(output: str) -> str:
    if output:
        TERMINAL.painted = True
    return output


def _cuts_cleanly(strip: Strip, offset: int) -> bool:
    """Whether ``offset`` falls between characters (not inside a double-width one)."""
    position = 0
    for segment in strip:
        text = segment.text
        width = cell_len(text)
        if position + width <= offset:
            position += width
            continue
        for _, _, cells in split_graphemes(text)[0]:
            if position == offset:
                return True
            position += cells
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
    if terminal.ours:  # the update rendered above: its look and cells are recorded
        terminal.ours = False
        if data.endswith(PARK) and driver_app(driver).cursor_position == Offset(0, 0):
            data = data[: -len(PARK)]
        return data
    if not _MODES_ONLY.fullmatch(data):
        terminal.shadow.clear()  # it may have drawn or erased: no cell is known any more
    if terminal.style is not None:  # it starts from a reset, as Textual expects
        data = RESET + data
        terminal.style, terminal.codes = None, ""
    return data


def redraw_everything() -> None:
    """Forget what the terminal shows: the next full repaint writes every cell (after
    something outside the app wrote over the screen, or the terminal was resized)."""
    TERMINAL.shadow.clear()
    TERMINAL.size = None
    TERMINAL.painted = False


def painted_since_redraw() -> bool:
    """Whether an update was rendered for the terminal since the start or the last
    ``redraw_everything()``."""
    return TERMINAL.painted


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
            terminal.shadow.clear()
            terminal.keep = True

        def stop_application_mode(self: Any) -> None:
            TERMINAL.ours = False  # so its first write gets the reset
            driver_class.stop_application_mode(self)
            TERMINAL.keep = False
            TERMINAL.new_line = "\r\n"
            TERMINAL.shadow.clear()

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
