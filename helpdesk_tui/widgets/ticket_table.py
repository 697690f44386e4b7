"""The queue's table: one row a ticket, coloured by SLA, columns fitted to the terminal width.

It holds one window of the view (a page or a few), never the whole view; the queue screen
asks for the next page when the cursor nears the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeGuard

from bson import ObjectId
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowDoesNotExist, RowKey

from helpdesk_tui.domain.models import ForeignId, Priority, Status, Ticket, User
from helpdesk_tui.domain.sla import SlaPolicy, SlaState, evaluate
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.textual_seam import (
    cell_cache_state,
    cell_region,
    cell_render_cache,
    column_index_of,
    column_key_at,
    default_render_cell,
    default_row_style,
    hide_hover_cursor,
    invalidate_table_caches,
    refresh_table_region,
    replace_table_rows,
    resize_table_later,
    row_index_of,
    row_key_at,
    row_labels_shown,
    row_renderables,
    scroll_update,
    styles_to_render_cell,
    table_cells,
)
from helpdesk_tui.widgets.sla_badge import badge, row_style

PRIORITY_SHORT = {
    Priority.URGENT: "urg",
    Priority.HIGH: "high",
    Priority.MEDIUM: "med",
    Priority.LOW: "low",
}
STATUS_SHORT = {
    Status.OPEN: "open",
    Status.IN_PROGRESS: "in prog",
    Status.WAITING: "waiting",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    min_terminal: int  # shown only on terminals at least this wide
    wide: int = 0  # width on terminals of WIDE columns or more (0: same)


COLUMNS = (
    Column("mark", " ", 1, 0),
    Column("sla", "SLA", 10, 0),
    Column("number", "Ticket", 10, 0),
    Column("priority", "Pri", 4, 0),
    Column("status", "Status", 8, 0),
    Column("subject", "Subject", 0, 0),  # takes what is left
    Column("customer", "Customer", 16, 100),
    Column("assignee", "Assignee", 10, 0, wide=16),
    Column("category", "Category", 8, 140),
    Column("updated", "Updated", 7, 100),
    Column("tags", "Tags", 14, 140),
)
MIN_SUBJECT = 12
NARROW_CUSTOMER = 12  # the Customer column in the Assignee column's place on a narrow terminal
WIDE = 120
# Rows out of sight are re-evaluated this often (the visible ones on every tick).
FULL_TICK = timedelta(seconds=15)


def ago(delta: timedelta) -> str:
    """Coarse relative time, so the cell changes rarely: ``now``, ``12m``, ``3h``, ``5d``."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "now"
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


def row_key(ticket: Ticket) -> str:
    """A ticket's row key: its ``_id``. A foreign one (a hand-written ``_id: "hand-1"``) is
    keyed by its type and value, never equal to an ObjectId's: two such tickets are two rows."""
    if isinstance(ticket.id, ForeignId):
        return f"foreign:{ticket.id.key}"
    return str(ticket.id)


class TicketTable(DataTable[Text]):
    """Rows keyed by ticket id; ``show`` replaces the window, ``tick`` advances the clocks.

    Quiet on the wire (agents work over SSH): every change repaints only the rows or cells
    whose text or colour changed. Cells are plain text and each row takes one style (its SLA
    colour), so a painted row is one run of characters, not a styled segment per cell.
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("g", "scroll_top", "Top", show=False, id="scroll_top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="scroll_bottom"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.tickets: dict[str, Ticket] = {}
        self.users: Mapping[ObjectId, User] = {}
        self.selected: set[str] = set()
        self.notes: dict[str, str] = {}  # e.g. presence: "Bo replying"
        self.policy = SlaPolicy()
        self._now: datetime | None = None
        self._layout: tuple[Column, ...] = ()
        self._subject_width = 30
        self._assignee_shown = True
        self._states: dict[str, SlaState] = {}
        self._painted: dict[str, SlaState] = {}  # the state (colour) each row was painted in
        self._last_full: datetime | None = None  # the last tick that evaluated every row
        hide_hover_cursor(self)

    # --- layout --------------------------------------------------------------------------

    def _fit(self, width: int) -> tuple[tuple[Column, ...], int]:
        columns: list[Column] = []
        for column in COLUMNS:
            if column.key == "assignee" and not self._assignee_shown:
                continue
            if column.wide and width >= WIDE:
                column = replace(column, width=column.wide)
            if width >= column.min_terminal:
                columns.append(column)
            elif column.key == "customer" and not self._assignee_shown:
                columns.append(replace(column, width=NARROW_CUSTOMER))
        fixed = sum(c.width + 2 for c in columns if c.key != "subject") + 2  # its padding
        return tuple(columns), max(width - fixed, MIN_SUBJECT)

    def on_resize(self) -> None:
        layout, subject = self._fit(self.size.width or self.app.size.width)
        if (layout, subject) != (self._layout, self._subject_width):
            self._layout, self._subject_width = layout, subject
            self._rebuild()

    def _rebuild(self) -> None:
        cursor = self.current_key
        self.clear(columns=True)
        for column in self._layout:
            width = self._subject_width if column.key == "subject" else column.width
            self.add_column(column.label, width=width, key=column.key)
        # The rows in one swap (``_replace_rows``), not ``add_row`` one by one (a view switch
        # that shows or hides the Assignee column rebuilt its 200 rows that way).
        if self._now is not None:  # else no rows yet: ``show`` brings them
            self._replace_rows([(key, self._cells(key, t)) for key, t in self.tickets.items()])
        self.restore_cursor(cursor)

    # --- data ------------------------------------------------------------------------------

    @property
    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor is past the rows during a rebuild
            return None

    @property
    def current(self) -> Ticket | None:
        key = self.current_key
        return self.tickets.get(key) if key else None

    def restore_cursor(self, key: str | None, fallback: int = 0) -> None:
        if not self.row_count:
            return
        try:
            row = self.get_row_index(key) if key else fallback
        except RowDoesNotExist:
            row = fallback
        self.move_cursor(row=min(row, self.row_count - 1), animate=False)

    def show(
        self,
        tickets: Iterable[Ticket],
        users: Mapping[ObjectId, User],
        now: datetime,
        policy: SlaPolicy,
        *,
        append: bool = False,
        assignee: bool | None = None,
    ) -> None:
        """Show this window of the view, keeping the cursor on the same ticket if it is here.

        ``assignee``: whether the Assignee column is worth its width (not in a view of one
        agent's tickets, where it would say the same name on every row; the Customer column
        takes its place on a narrow terminal). A change rebuilds the table once, with these
        rows (not first with the rows it replaces).

        Rows that look the same as before at the same place are not repainted: a live update
        that changes one ticket repaints that row (and the rows it moved past), not the table.
        """
        self.users, self._now, self.policy = users, now, policy
        cursor, row = self.current_key, self.cursor_row
        fresh = {row_key(t): t for t in tickets}
        if append:
            # Rows move between pages while we read them (another writer inserted or
            # re-prioritised a ticket): a row already shown is refreshed, not added twice.
            for key in fresh.keys() & self.tickets.keys():
                self.tickets[key] = fresh.pop(key)
                self.refresh_row_cells(key)
            self.tickets.update(fresh)
            self._add(fresh.values())
            return
        self.tickets = fresh
        self.selected &= fresh.keys()
        if assignee is not None and assignee != self._assignee_shown:
            self._assignee_shown = assignee
            self._layout = ()  # other columns: laid out and filled below, once
        if not self._layout:
            self._layout, self._subject_width = self._fit(self.size.width or self.app.size.width)
            self._rebuild()
            return
        self._replace_rows([(key, self._cells(key, ticket)) for key, ticket in fresh.items()])
        self.restore_cursor(cursor, fallback=row)

    def _replace_rows(self, rows: list[tuple[str, list[Text]]]) -> None:
        """Swap the rows in place and repaint the positions whose row looks different."""
        before = [
            (key.value, [cell.plain for cell in table_cells(self)[key].values()])
            for key in (row.key for row in self.ordered_rows)
        ]
        old_states = dict(self._painted)
        columns = [c.key for c in self.ordered_columns]
        replace_table_rows(  # new keys for the render caches too (CPU, not the terminal)
            self,
            {RowKey(k): dict(zip(columns, cells, strict=True)) for k, cells in rows},
            {RowKey(k): i for i, (k, _) in enumerate(rows)},
        )
        self.rows = {RowKey(k): Row(RowKey(k), 1) for k, _ in rows}
        self._painted = {k: self._states[k] for k, _ in rows if k in self._states}
        if len(before) != len(rows):
            resize_table_later(self)
            self.check_idle()
        # A fresh table (a rebuild) is painted whole anyway: no line by line.
        for index in range(max(len(before), len(rows)) if before else 0):
            old = before[index] if index < len(before) else None
            new = (rows[index][0], [c.plain for c in rows[index][1]]) if index < len(rows) else None
            if (
                old == new
                and new is not None
                and old_states.get(new[0]) is self._states.get(new[0])
            ):
                continue
            self._refresh_line(index)
        if self.cursor_row >= len(rows) and rows:
            self.cursor_coordinate = Coordinate(len(rows) - 1, 0)

    def _refresh_region(self, region: Region) -> TicketTable:
        """Repaint a region of the rows, clipped to them: not the scrollbar beside them."""
        if not self.window_region.overlaps(region):
            return self
        rows = Region(0, 0, self.scrollable_content_region.width, self.size.height)
        region = region.translate(-self.scroll_offset).intersection(rows)
        if region:
            self.refresh(region)
        return self

    def _refresh_line(self, index: int) -> None:
        header = self.header_height if self.show_header else 0
        refresh_table_region(self, Region(0, header + index, self.size.width, 1))

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Rows are one line and columns have fixed widths: only the height can change, and
        a changed height must not repaint the whole table (Textual's ``virtual_size`` does)."""
        width = sum(c.get_render_width(self) for c in self.columns.values())
        height = self.row_count + (self.header_height if self.show_header else 0)
        size = Size(width, height)
        if size == self.virtual_size:
            return
        if size.width != self.virtual_size.width or not self.virtual_size.height:
            self.virtual_size = size
            return
        bars = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self.set_reactive(Widget.virtual_size, size)
        scroll_update(self, size)
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != bars:
            self.refresh(layout=True)  # a scrollbar came or went: the rows are wider or not

    def _add(self, tickets: Iterable[Ticket]) -> None:
        if self._now is None or not self._layout:
            return
        for ticket in tickets:
            key = row_key(ticket)
            self.add_row(*self._cells(key, ticket), key=key)
            self._painted[key] = self._states[key]

    def _cells(self, key: str, ticket: Ticket) -> list[Text]:
        """Plain text: the row's SLA colour is applied once, in ``_get_row_style``. Only the
        columns shown (a view switch fills 200 rows)."""
        now = self._now
        assert now is not None
        sla = evaluate(ticket, now, self.policy)
        self._states[key] = sla.row_state
        cells: list[Text] = []
        for column in self._layout:
            match column.key:
                case "mark":
                    value = "●" if key in self.selected else " "
                case "sla":
                    value = badge(sla).plain
                case "number":
                    value = one_line(ticket.ticket_number or "?")
                case "priority":
                    value = PRIORITY_SHORT[ticket.priority]
                case "status":
                    value = STATUS_SHORT[ticket.status]
                case "subject":
                    cells.append(self._subject(key, ticket))
                    continue
                case "customer":
                    value = one_line(self._person(ticket.user), column.width)
                case "assignee":
                    value = one_line(self._person(ticket.assigned_to, "—"), column.width)
                case "category":
                    value = ticket.category.value
                case "updated":
                    value = ago(now - ticket.updated_at) if ticket.updated_at else "?"
                case "tags":
                    value = one_line(" ".join(ticket.tags), column.width)
                case other:
                    raise ValueError(f"no cell for the column {other!r}")
            cells.append(Text(value))
        return cells

    def _subject(self, key: str, ticket: Ticket) -> Text:
        prefix = "⚠ " if ticket.is_broken else ""
        if ticket.last_message_from_customer and not ticket.status.is_done:
            prefix += "↩ "  # the customer spoke last
        note = self.notes.get(key)
        if note:
            prefix += f"[{note}] "
        text = Text(
            prefix + one_line(ticket.subject or "(no subject)"), no_wrap=True, overflow="ellipsis"
        )
        text.truncate(self._subject_width, overflow="ellipsis")
        return text

    def _person(self, user_id: ObjectId | None, missing: str = "?") -> str:
        if user_id is None:
            return missing
        user = self.users.get(user_id)
        return user.display if user else str(user_id)[-6:]

    # --- painting --------------------------------------------------------------------------

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        return self.row_look(row_index, base_style)

    def row_look(self, row_index: int, base_style: Style) -> Style:
        """A row's one style: its SLA colour (breached red, at risk yellow, ...)."""
        if row_index < 0:
            return default_row_style(self, row_index, base_style)
        key = row_key_at(self, row_index)
        state = self._painted.get(key.value or "") if key is not None else None
        return base_style + row_style(state) if state is not None else base_style

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A body cell as DataTable renders it, without its layers of Rich renderables.

        DataTable renders every cell through ``Styled(Padding(cell))`` and Rich's line
        splitting, and renders every visible cell again after any change to the table (its
        cache is keyed by the table's update count): at 36 rows that was 288 cells and most of
        the time from the first page read to the first rows painted. Our cells are one-line
        ``Text``: cropped (or ellipsised) and padded to the column, between the padding, with
        the same styles. Anything else goes the usual way."""
        row_key = row_key_at(self, row_index)
        column_key = column_key_at(self, column_index)
        if (
            row_index < self.fixed_rows
            or column_index < self.fixed_columns
            or row_key is None
            or column_key is None
        ):
            return default_render_cell(
                self, row_index, column_index, base_style, width, cursor, hover
            )
        # As DataTable's own key: hover shown, update count, pseudo-class state.
        cache_key = (row_key, column_key, base_style, cursor, hover, *cell_cache_state(self))
        cache = cell_render_cache(self)
        cached = cache.get(cache_key)
        if cached is not None:
            return cached
        cell = row_renderables(self, row_index)[1][column_index]
        pad = self.cell_padding
        room = width - 2 * pad
        if self.rows[row_key].height != 1 or not _one_line(cell, room):
            return default_render_cell(
                self, row_index, column_index, base_style, width, cursor, hover
            )
        component_style, post_style = styles_to_render_cell(self, hover, cursor)
        style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        plain = _plain_cell(cell, room)
        if plain is not None:
            # Most cells: text of one look, in one segment of the look the Text path gives
            # it (its style, then the component's, then the post style).
            lines = [
                [Segment(f"{' ' * pad}{plain}{' ' * pad}", style + component_style + post_style)]
            ]
            cache[cache_key] = lines
            return lines
        text = Text(end="")
        text.append_text(cell)  # its own style becomes a span, under its spans (as Rich does)
        text.truncate(room, overflow=cell.overflow or "fold", pad=True)
        padding = Segment(" " * pad)
        line = [padding, *text.render(self.app.console), padding]
        lines = [list(Segment.apply_style(line, style + component_style, post_style))]
        cache[cache_key] = lines
        return lines

    def render_line(self, y: int) -> Strip:
        """One segment per run of equal look: the cells' styles differ only by their
        position metadata, and each segment would cost its own colour codes on the wire.

        A body row of plain cells (every row the queue shows) is painted here as that one
        run, straight from its cells' text (``_row_line``); anything else (the header, a
        styled cell) the way DataTable paints it, its runs merged."""
        row = self._row_line(y)
        return row if row is not None else _merge_runs(super().render_line(y))

    def _row_line(self, y: int) -> Strip | None:
        """Line ``y`` of the table, if it is a body row whose cells are all plain one-line
        ``Text``, painted as DataTable would paint it (the same text and looks; of the
        cells' position metadata the first cell's), without its per-cell segments, strips
        and caches: a view switch paints every visible row afresh. ``None``: not such a row.
        """
        header = self.header_height if self.show_header else 0
        scroll_x, scroll_y = self.scroll_offset
        if (
            y < header
            or scroll_x
            or self.fixed_rows
            or self.fixed_columns
            or self.cursor_type != "row"
            or row_labels_shown(self)
        ):
            return None
        index = y - header + scroll_y
        key = row_key_at(self, index)
        if key is None or key not in self.rows or self.rows[key].height != 1:
            return None
        cells = table_cells(self).get(key, {})
        pad = " " * self.cell_padding
        texts: list[str] = []
        table_width = 0
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            table_width += width
            text = _plain_cell(cells.get(column.key), width - 2 * self.cell_padding)
            if text is None:
                return None
            texts.append(f"{pad}{text}{pad}")
        width = self.size.width
        base_style = self.rich_style
        row_style = self.row_look(index, base_style)
        cursor, hover = self.cursor_coordinate.row == index, self.hover_coordinate.row == index
        component_style, post_style = styles_to_render_cell(self, hover, cursor)
        meta = {"row": index, "column": 0}
        look = row_style + Style.from_meta(meta) + component_style + post_style
        segments = [Segment("".join(texts), look)]
        remaining = max(0, width - table_width)
        if remaining:  # DataTable's extension of the row's look to the table's right edge
            extend = row_style + component_style + Style.from_meta({**meta, "out_of_bounds": True})
            segments.append(Segment(" " * remaining, extend))
        # Cut to the widget as DataTable cuts (a zero-width mark at the edge stays).
        strip = Strip(segments, table_width + remaining).adjust_cell_length(width, base_style)
        return _merge_runs(strip)

    def _set_hover_cursor(self, active: bool) -> None:
        # No hover highlight: the row under the mouse is never repainted for it.
        hide_hover_cursor(self)

    def watch_hover_coordinate(self, old: Coordinate, value: Coordinate) -> None:
        pass  # no hover highlight, so nothing to repaint

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        """Scroll by half a page when the cursor leaves the visible rows, not a row a step:
        a scroll repaints every visible row, so holding ``j`` pays for it once in half a page."""
        header = self.header_height if self.show_header else 0
        visible = max(self.scrollable_content_region.height - header, 1)
        top = round(self.scroll_y)
        row = self.cursor_row
        if top <= row < top + visible:
            return
        half = max(visible // 2, 1)
        target = row - half if row >= top + visible else row - visible + half + 1
        target = max(0, min(target, self.row_count - visible))
        self.scroll_to(y=target, animate=False, force=True, immediate=True)

    # --- updates in place ------------------------------------------------------------------

    def state_of(self, ticket: Ticket) -> SlaState | None:
        return self._states.get(row_key(ticket))

    def tick(self, now: datetime) -> list[Ticket]:
        """Advance the clocks, repainting only cells whose text or colour changes.

        Called every second: the visible rows are evaluated each time, so a countdown changes
        when its minute turns; the whole window every ``FULL_TICK`` (rows out of sight only
        need to be right when they scroll in, and for the alerts).
        Returns the tickets that have just turned at risk or breached.
        """
        self._now = now
        full = (
            self._last_full is None or now - self._last_full >= FULL_TICK or now < self._last_full
        )
        if full:
            self._last_full = now
            keys: Iterable[str] = list(self.tickets)
        else:
            keys = self._visible_keys()
        worse: list[Ticket] = []
        for key in keys:
            ticket = self.tickets.get(key)
            if ticket is None:
                continue
            sla = evaluate(ticket, now, self.policy)
            before = self._states.get(key)
            if sla.row_state is not before:
                self.refresh_row_cells(key)
                if sla.row_state in (SlaState.AT_RISK, SlaState.BREACHED) and before in (
                    SlaState.ON_TRACK,
                    SlaState.AT_RISK,
                ):
                    worse.append(ticket)
                continue
            cells = {"sla": Text(badge(sla).plain)}
            if ticket.updated_at is not None:
                cells["updated"] = Text(ago(now - ticket.updated_at))
            for column, value in cells.items():
                if (
                    any(c.key == column for c in self._layout)
                    and self._cell_text(key, column) != value.plain
                ):
                    self._set_cell(key, column, value)
        return worse

    def _visible_keys(self) -> list[str]:
        header = self.header_height if self.show_header else 0
        top = round(self.scroll_y)
        height = max(self.scrollable_content_region.height - header, 0)
        keys = []
        for index in range(top, min(top + height, self.row_count)):
            key = row_key_at(self, index)
            if key is not None and key.value is not None:
                keys.append(key.value)
        return keys

    def _set_cell(self, key: str, column: str, value: Text) -> None:
        """Like ``update_cell`` but repaint only this cell, not the whole table: a ticking
        countdown must cost a few bytes on the wire, not a screenful (widths are fixed)."""
        row_key, column_key = RowKey(key), ColumnKey(column)
        row, column_index = row_index_of(self, row_key), column_index_of(self, column_key)
        if row is None or column_index is None:
            return
        cells = table_cells(self)[row_key]
        before = cells.get(column_key)
        cells[column_key] = value
        invalidate_table_caches(self)  # the row caches (CPU), not the terminal
        cell = cell_region(self, Coordinate(row, column_index))
        old = before.plain if isinstance(before, Text) else ""
        start, end = _changed_span(old, value.plain)
        # Only the characters that differ ("2h 14m" -> "2h 13m": one), within the cell.
        x = cell.x + self.cell_padding + start
        width = min(end - start, cell.right - self.cell_padding - x)
        if width > 0:
            refresh_table_region(self, Region(x, cell.y, width, cell.height))

    def _cell_text(self, key: str, column: str) -> str | None:
        try:
            value = self.get_cell(key, column)
        except Exception:
            return None
        return value.plain if isinstance(value, Text) else str(value)

    def refresh_row_cells(self, key: str) -> None:
        """Rebuild one row's cells; repaint the row if it looks different (text or colour)."""
        ticket = self.tickets.get(key)
        row_key = RowKey(key)
        index = row_index_of(self, row_key)
        if ticket is None or index is None:
            return
        cells = self._cells(key, ticket)
        old = [cell.plain for cell in table_cells(self)[row_key].values()]
        state = self._states.get(key)
        if old == [c.plain for c in cells] and self._painted.get(key) is state:
            return
        columns = [c.key for c in self.ordered_columns]
        table_cells(self)[row_key] = dict(zip(columns, cells, strict=True))
        if state is not None:
            self._painted[key] = state
        invalidate_table_caches(self)
        self._refresh_line(index)

    def toggle_selected(self) -> str | None:
        key = self.current_key
        if key is None:
            return None
        self.selected ^= {key}
        self._set_cell(key, "mark", Text("●" if key in self.selected else " "))
        return key


def _changed_span(old: str, new: str) -> tuple[int, int]:
    """The cells from the first to the last that differ between two left-aligned texts."""
    same = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        same += 1
    start, end = cell_len(new[:same]), max(cell_len(old), cell_len(new))
    if cell_len(old) == cell_len(new):
        tail = 0
        while tail < min(len(old), len(new)) - same and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        end -= cell_len(new[len(new) - tail :]) if tail else 0
    return start, end


def _one_line(cell: object, room: int) -> TypeGuard[Text]:
    """Whether DataTable would paint ``cell`` as one line of its text, cropped (or
    ellipsised) and padded to ``room`` cells: a ``Text``, left-aligned, not wrapped at words,
    no line breaks or tabs, in a column with room for a character."""
    return (
        isinstance(cell, Text)
        and cell.justify in (None, "default", "left")
        and cell.no_wrap is not False  # wrapped at words, then its first line: Rich's way
        and cell.overflow != "ignore"
        and "\n" not in cell.plain
        and "\t" not in cell.plain
        and room > 0
    )


def _plain_cell(cell: object, room: int) -> str | None:
    """A one-line cell of one look (no style, no spans) as DataTable paints it: its text
    cropped (or ellipsised) and padded to ``room`` cells; ``None`` for any other cell."""
    if not _one_line(cell, room) or cell.spans or cell.style:
        return None
    plain = cell.plain
    if plain.isascii() and plain.isprintable():  # one cell a character: Rich's truncate, quicker
        if len(plain) > room:
            return plain[: room - 1] + "…" if cell.overflow == "ellipsis" else plain[:room]
        return plain.ljust(room)
    text = Text(plain, end="")
    text.truncate(room, overflow=cell.overflow or "fold", pad=True)
    return text.plain


def _merge_runs(strip: Strip) -> Strip:
    """Join neighbouring segments that look the same, keeping the first one's metadata
    (its row, for mouse clicks)."""
    merged: list[Segment] = []
    look: Style | None = None
    for segment in strip:
        text, style, control = segment
        if control is not None or style is None:
            merged.append(segment)
            look = None
            continue
        plain = style.clear_meta_and_links()
        if merged and look is not None and plain == look:
            last = merged[-1]
            merged[-1] = Segment(last.text + text, last.style)
        else:
            merged.append(segment)
            look = plain
    return Strip(merged, strip.cell_length)
