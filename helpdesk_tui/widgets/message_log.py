"""A virtual log of boxed entries: only the lines on screen are rendered.

The conversation of a ticket can hold thousands of messages. Mounting a widget per message
costs a layout pass per widget on open; this draws the whole conversation as one line-based
``ScrollView``, as Textual's ``Log`` and ``RichLog`` do: each entry is wrapped once at the
current width into plain lines (cached; the width changes only on a resize), the offsets of
the entries give the virtual height, and ``render_line`` builds the ``Strip`` of a line that
is on screen, on demand (an LRU cache keeps the ones already built).

An entry is a box (a message: a border with a title and a subtitle, the text inside) or an
indented line of history. The text is given already made safe (``domain.text.literal``); it
is drawn as segments, never parsed as markup.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

# Boxes, as Textual draws ``border: round`` and ``border: heavy``.
ROUND = ("╭", "─", "╮", "│", "╰", "╯")
HEAVY = ("┏", "━", "┓", "┃", "┗", "┛")


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` cells: at spaces where it can, inside a
    word that is longer than a line. Plain Python string searches for ASCII paragraphs (most of
    them): a 5,000-message conversation is laid out in milliseconds."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if "\t" in paragraph:
            paragraph = paragraph.expandtabs(8)
        if paragraph.isascii():
            end = len(paragraph)
            if end <= width:
                lines.append(paragraph)
                continue
            start = 0
            while end - start > width:
                cut = paragraph.rfind(" ", start, start + width + 1)
                if cut <= start:
                    lines.append(paragraph[start : start + width])
                    start += width
                else:
                    lines.append(paragraph[start:cut])
                    start = cut + 1
            lines.append(paragraph[start:])
        else:
            lines.extend(_wrap_cells(paragraph, width))
    return lines


def _wrap_cells(paragraph: str, width: int) -> list[str]:
    """``wrap`` for a paragraph with wide or combining characters: measured in cells."""
    if cell_len(paragraph) <= width:
        return [paragraph]
    lines: list[str] = []
    line, used = "", 0
    for word in paragraph.split(" "):
        size = cell_len(word)
        if line and used + 1 + size <= width:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line or used:
            lines.append(line)
        if size <= width:
            line, used = word, size
            continue
        *whole, line = chop_cells(word, width)
        lines.extend(whole)
        used = cell_len(line)
    lines.append(line)
    return lines


@dataclass(eq=False)
class LogEntry:
    """One entry: ``chunks`` are (text, style role) pieces, each starting on a new line.

    ``box``: drawn in a border (``decorations``: a title top left, a subtitle bottom right);
    else a line of history, indented. ``look`` names the component classes of its border and
    background.
    """

    chunks: list[tuple[str, str]]
    box: bool = True
    look: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # laid out: (text, role)
    laid_width: int = 0  # the width ``lines`` are laid out at (0: not yet)

    @property
    def height(self) -> int:
        return len(self.lines) + (3 if self.box else 1)

    def lay_out(self, width: int, *, again: bool = False) -> None:
        if width == self.laid_width and not again:
            return
        self.laid_width = width
        inner = width - 4 if self.box else width - 2
        self.lines = [
            (line, role) for text, role in self.chunks for line in wrap(text, max(inner, 1))
        ]

    def decorations(self) -> tuple[Text, str]:
        """The box's title and subtitle (asked only when its border is drawn)."""
        return Text(), ""


class MessageLog(ScrollView, can_focus=True):
    """Entries in order; only the lines in view are rendered (see the module's docstring)."""

    COMPONENT_CLASSES = {
        "log--border",
        "log--border-customer",
        "log--border-internal",
        "log--internal",
        "log--title",
        "log--title-internal",
        "log--subtitle-internal",
        "log--subtitle",
        "log--event",
        "log--when",
        "log--more",
        "log--attachment",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: list[LogEntry] = []
        self._starts: list[int] = [0]  # the first line of each entry, then the total
        self._width = 0  # the width the entries are laid out at
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}

    # --- layout ---------------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return self._starts[-1]

    def _full_width(self) -> int:
        """The width of the content with no vertical scrollbar."""
        width = self.scrollable_content_region.width
        if self.show_vertical_scrollbar and not self._gutter_kept():
            width += self.styles.scrollbar_size_vertical
        return width

    def _gutter_kept(self) -> bool:
        """``scrollbar-gutter: stable``: the bar's columns are never the content's, shown or
        not (the width to lay out at never depends on the height)."""
        return self.styles.scrollbar_gutter == "stable"

    def _fit_width(self, entries: Sequence[LogEntry]) -> int:
        """The width to lay out at: without the scrollbar's columns when the entries will not
        fit in the height (checked cheaply first: each box is at least four lines)."""
        full, height = self._full_width(), self.scrollable_content_region.height
        bar = self.styles.scrollbar_size_vertical if self.styles.overflow_y != "hidden" else 0
        if self._gutter_kept():
            return full
        if len(entries) * 4 > height and bar:
            return max(full - bar, 1)
        for entry in entries:
            entry.lay_out(full)
        if sum(entry.height for entry in entries) > height and bar:
            return max(full - bar, 1)
        return full

    def _index(self) -> None:
        self._starts = [0, *accumulate(entry.height for entry in self.entries)]
        self._strips.clear()
        self.virtual_size = Size(self._width, self.line_count)

    def relayout(self) -> None:
        """Lay every entry out at the width there is now (keeping the line at the top)."""
        if not self.size.width:
            return
        anchor = self._anchor()
        self._lay_out_all()
        self._index()
        self._restore(anchor)
        self.refresh()

    def _lay_out_all(self) -> None:
        """Every entry at the width there is now (an entry laid out at it already is kept)."""
        self._width = self._fit_width(self.entries)
        for entry in self.entries:
            entry.lay_out(self._width)

    def _lay_out_now(self) -> None:
        """Entries given before the log had a size (a ticket read before its screen's first
        frame) are laid out when that frame asks for the first lines: the frame shows them,
        the newest at the bottom, instead of a blank log that the resize fills a frame later."""
        if self._width or not self.entries or not self.size.width:
            return
        self._lay_out_all()
        self._index()
        # Straight to the end (the newest at the bottom), as set here: ``scroll_to`` would do
        # nothing while the layout still says that nothing overflows (no scrollbar yet).
        end = max(self.line_count - self.scrollable_content_region.height, 0)
        self.scroll_target_y = end
        self.scroll_y = end
        # The scrollbar is not shown yet, so it did not follow: once it is, it does.
        self.call_after_refresh(self._bar_follows)

    def _bar_follows(self) -> None:
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def render_lines(self, crop: Region) -> list[Strip]:
        self._lay_out_now()
        return super().render_lines(crop)

    def _anchor(self) -> tuple[bool, int, int]:
        """Where the view is: at the end, or (entry, line within it) at the top."""
        if not self.entries or self.is_vertical_scroll_end:
            return (True, 0, 0)
        top = round(self.scroll_y)
        index = max(bisect_right(self._starts, top) - 1, 0)
        index = min(index, len(self.entries) - 1)
        return (False, index, top - self._starts[index])

    def _restore(self, anchor: tuple[bool, int, int], shift: int = 0) -> None:
        at_end, index, offset = anchor
        if at_end:
            # Now, and again once the new height is laid out (a resize may still be under way).
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            self.scroll_end(animate=False, x_axis=False)
        elif index < len(self.entries):
            line = self._starts[index + shift] + min(offset, self.entries[index].height - 1)
            self.scroll_to(y=line, animate=False, immediate=True)

    def set_entries(self, entries: list[LogEntry]) -> None:
        """Show ``entries`` (in order) instead of what is shown; the view goes to the end."""
        self.entries = list(entries)
        self._width = 0
        if self.size.width:
            self._lay_out_all()
        self._index()
        self._restore((True, 0, 0))
        self.refresh()

    def insert(self, position: int, entry: LogEntry) -> None:
        """Put ``entry`` at ``position``; the lines in view stay in view (or the end does)."""
        anchor = self._anchor()
        if self._width:
            entry.lay_out(self._width)
        self.entries.insert(position, entry)
        self._index()
        at_end, index, offset = anchor
        self._restore((at_end, index + (position <= index), offset))
        self.refresh()

    def replace_entries(self, entries: list[LogEntry]) -> None:
        """Show ``entries`` instead (the ones already shown among them, in the same order):
        the entry at the top of the view stays there (or the end stays in view). Only the new
        entries are laid out; one pass, however many were added (a page of older messages)."""
        at_end, index, offset = self._anchor()
        kept = self.entries[index] if not at_end and self.entries else None
        self.entries = list(entries)
        if self.size.width:
            self._lay_out_all()
        self._index()
        if kept is not None:
            found = next((n for n, e in enumerate(self.entries) if e is kept), None)
            if found is None:
                at_end = True
            else:
                index = found
        self._restore((at_end, index, offset))
        self.refresh()

    def entry_changed(self, entry: LogEntry) -> None:
        """``entry``'s chunks changed: lay it out again, keep the view where it is."""
        anchor = self._anchor()
        if self._width:
            entry.lay_out(self._width, again=True)
        self._index()
        self._restore(anchor)
        self.refresh()

    def clear_entries(self) -> None:
        self.entries = []
        self._index()
        self.refresh()

    def on_unmount(self) -> None:
        """Gone from the screen: let the entries go now. A closed screen is let go at once
        (contexts.py), but whatever still refers to it (a late message, a test) need not keep
        a conversation of thousands of entries with it."""
        self.entries = []
        self._starts = [0]
        self._strips.clear()

    def on_resize(self) -> None:
        if self.entries and self._width != self.scrollable_content_region.width:
            self.relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def start_of(self, entry: LogEntry) -> int:
        return self._starts[self.entries.index(entry)]

    def drawn(self, entry: LogEntry | None = None) -> list[str]:
        """The characters of the lines as they are drawn (of one entry, or all), borders
        included: what reaches the terminal, without the colours."""
        if entry is None:
            lines = range(self.line_count)
        else:
            start = self.start_of(entry)
            lines = range(start, start + entry.height)
        return ["".join(s.text for s in self._build_line(y)) for y in lines]

    # --- keys: a jump, not an animation (each frame of one would cross the SSH link) --------

    def action_scroll_up(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_up(animate=False)

    def action_scroll_down(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_page_down(animate=False)

    def action_scroll_home(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_home(animate=False, x_axis=False)

    def action_scroll_end(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_end(animate=False, x_axis=False)

    # --- rendering ------------------------------------------------------------------------------

    def _style(self, role: str) -> Style:
        """A role's whole style (``log--<role>``: colour blended over its background);
        ``""``: the widget's own."""
        style = self._styles.get(role)
        if style is None:
            style = self.get_component_rich_style(f"log--{role}") if role else self.rich_style
            self._styles[role] = style
        return style

    def _part(self, role: str) -> Style:
        """Only the rules a role sets (an ANSI colour, bold), to put over a line's background."""
        key = f"part-{role}"
        style = self._styles.get(key)
        if style is None:
            style = self.get_component_rich_style(f"log--{role}", partial=True)
            self._styles[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        strip = self._strips.get(line)
        if strip is None:
            strip = self._build_line(line)
            self._strips[line] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style).apply_offsets(
            scroll_x, line
        )

    def _build_line(self, line: int) -> Strip:
        width = self._width
        if not 0 <= line < self.line_count or width <= 0:
            return Strip.blank(width, self.rich_style)
        index = bisect_right(self._starts, line) - 1
        entry = self.entries[index]
        row = line - self._starts[index]
        if row == 0:  # the blank line between entries
            return Strip.blank(width, self.rich_style)
        if not entry.box:
            text, role = entry.lines[row - 1]
            segments = [
                Segment("  ", self._style("")),
                *self._chunk(text, role, self._style("event")),
            ]
            return Strip(segments).crop_extend(0, width, self.rich_style)
        internal = entry.look == "internal"
        suffix = "-internal" if internal else ""
        background = self._style("internal") if internal else self._style("")
        border = self._style(f"border-{entry.look}" if entry.look else "border")
        corner_l, across, corner_r, side, bottom_l, bottom_r = HEAVY if internal else ROUND
        if row == 1:
            room = width - 4
            title = entry.decorations()[0].copy()
            title.truncate(max(room - 2, 0), overflow="ellipsis")
            title_style = self._style(f"title{suffix}")
            segments = [Segment(corner_l + across, border)]
            used = 2
            if room > 2:  # as Textual draws a border title: " Title " in the title's style
                segments.append(Segment(" ", title_style))
                for piece in title.render(self.app.console):
                    segments.append(Segment(piece.text, title_style + piece.style))
                segments.append(Segment(" ", title_style))
                used += title.cell_len + 2
            segments.append(Segment(across * max(width - used - 1, 0), border))
            segments.append(Segment(corner_r, border))
            return Strip(segments).crop_extend(0, width, self.rich_style)
        if row == entry.height - 1:
            subtitle = entry.decorations()[1]
            if cell_len(subtitle) > width - 6:
                subtitle = ""
            fill = width - 2 - (cell_len(subtitle) + 3 if subtitle else 0)
            segments = [Segment(bottom_l + across * max(fill, 0), border)]
            if subtitle:
                subtitle_style = self._style(f"subtitle{suffix}")
                segments += [
                    Segment(f" {subtitle} ", subtitle_style),
                    Segment(across, border),
                ]
            segments.append(Segment(bottom_r, border))
            return Strip(segments).crop_extend(0, width, self.rich_style)
        text, role = entry.lines[row - 2]
        pad = max(width - 4 - cell_len(text), 0)
        segments = [
            Segment(side, border),
            Segment(" ", background),
            *self._chunk(text, role, background),
            Segment(" " * pad + " ", background),
            Segment(side, border),
        ]
        return Strip(segments).crop_extend(0, width, self.rich_style)

    def _chunk(self, text: str, role: str, base: Style) -> list[Segment]:
        """One laid-out line in its role's style; a history line has its time dim."""
        if role == "event":
            italic = base + Style(italic=True)
            if not text.startswith("· "):
                return [Segment(text, italic)]
            when, _, rest = text.partition("  ")
            return [
                Segment(when + "  ", self._style("when")),
                Segment(rest, italic),
            ]
        style = base + self._part(role) if role else base
        return [Segment(text, style)]
