"""The queue's table: one row a ticket, coloured by SLA, columns fitted to the terminal width.

It holds one window of the view (a page or a few), never the whole view; the queue screen
asks for the next page when the cursor nears the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bson import ObjectId
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist, RowKey

from helpdesk_tui.domain.models import Priority, Status, Ticket, User
from helpdesk_tui.domain.sla import SlaPolicy, SlaState, evaluate
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.widgets.sla_badge import badge, row_style

PRIORITY_SHORT = {
    Priority.URGENT: "urg",
    Priority.HIGH: "high",
    Priority.MEDIUM: "med",
    Priority.LOW: "low",
}
PRIORITY_STYLE = {
    Priority.URGENT: "bold",
    Priority.HIGH: "bold",
    Priority.MEDIUM: "",
    Priority.LOW: "dim",
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
WIDE = 120


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
    """A ticket's row key: its ``_id``; without a readable one (a hand-written string ``_id``),
    what the document has, so two such tickets stay two rows."""
    if ticket.id is not None:
        return str(ticket.id)
    return f"no-id:{ticket.problem_with('_id') or ''}:{ticket.ticket_number}:{ticket.created_at}"


class TicketTable(DataTable[Text]):
    """Rows keyed by ticket id; ``show`` replaces the window, ``tick`` advances the clocks."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
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
        self._states: dict[str, SlaState] = {}

    # --- layout --------------------------------------------------------------------------

    def _fit(self, width: int) -> tuple[tuple[Column, ...], int]:
        columns = tuple(
            replace(c, width=c.wide) if c.wide and width >= WIDE else c
            for c in COLUMNS
            if width >= c.min_terminal
        )
        fixed = sum(c.width + 2 for c in columns if c.key != "subject") + 2 + 2  # pad, scrollbar
        return columns, max(width - fixed, MIN_SUBJECT)

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
        self._add(self.tickets.values())
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
    ) -> None:
        """Show this window of the view, keeping the cursor on the same ticket if it is here."""
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
        if not self._layout:
            self._layout, self._subject_width = self._fit(self.size.width or self.app.size.width)
            self._rebuild()
            return
        self.clear()
        self._add(fresh.values())
        self.restore_cursor(cursor, fallback=row)

    def _add(self, tickets: Iterable[Ticket]) -> None:
        if self._now is None or not self._layout:
            return
        rows, keys = [], []
        for ticket in tickets:
            key = row_key(ticket)
            rows.append(self._cells(key, ticket))
            keys.append(key)
        for key, cells in zip(keys, rows, strict=True):
            self.add_row(*cells, key=key)

    def _cells(self, key: str, ticket: Ticket) -> list[Text]:
        assert self._now is not None
        sla = evaluate(ticket, self._now, self.policy)
        self._states[key] = sla.row_state
        style = row_style(sla.row_state)
        values = {
            "mark": Text("●" if key in self.selected else " ", style="bold magenta"),
            "sla": badge(sla),
            "number": Text(one_line(ticket.ticket_number or "?"), style=style),
            "priority": Text(
                PRIORITY_SHORT[ticket.priority], style=PRIORITY_STYLE[ticket.priority]
            ),
            "status": Text(STATUS_SHORT[ticket.status], style=style),
            "subject": self._subject(key, ticket),
            "customer": Text(one_line(self._person(ticket.user), 16), style=style),
            "assignee": Text(
                one_line(self._person(ticket.assigned_to, "—"), self._width("assignee")),
                style=style,
            ),
            "category": Text(ticket.category.value, style=style),
            "updated": Text(
                ago(self._now - ticket.updated_at) if ticket.updated_at else "?", style=style
            ),
            "tags": Text(one_line(" ".join(ticket.tags), 14), style="cyan"),
        }
        return [values[c.key] for c in self._layout]

    def _width(self, key: str) -> int:
        return next((c.width for c in self._layout if c.key == key), 10)

    def _subject(self, key: str, ticket: Ticket) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if ticket.is_broken:
            text.append("⚠ ", style="bold yellow")
        if ticket.last_message_from_customer and not ticket.status.is_done:
            text.append("↩ ", style="bold cyan")  # the customer spoke last
        note = self.notes.get(key)
        if note:
            text.append(f"[{note}] ", style="bold magenta")
        text.append(one_line(ticket.subject or "(no subject)"))
        text.truncate(self._subject_width, overflow="ellipsis")
        return text

    def _person(self, user_id: ObjectId | None, missing: str = "?") -> str:
        if user_id is None:
            return missing
        user = self.users.get(user_id)
        return user.display if user else str(user_id)[-6:]

    # --- updates in place ------------------------------------------------------------------

    def state_of(self, ticket: Ticket) -> SlaState | None:
        return self._states.get(row_key(ticket))

    def tick(self, now: datetime) -> list[Ticket]:
        """Advance the clocks, repainting only cells whose text or colour changes.

        Returns the tickets that have just turned at risk or breached.
        """
        self._now = now
        worse: list[Ticket] = []
        for key, ticket in self.tickets.items():
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
            cells = {"sla": badge(sla)}
            if ticket.updated_at is not None:
                cells["updated"] = Text(
                    ago(now - ticket.updated_at), style=row_style(sla.row_state)
                )
            for column, value in cells.items():
                if (
                    any(c.key == column for c in self._layout)
                    and self._cell_text(key, column) != value.plain
                ):
                    self._set_cell(key, column, value)
        return worse

    def _set_cell(self, key: str, column: str, value: Text) -> None:
        """Like ``update_cell`` but repaint only this cell, not the whole table: a ticking
        countdown must cost a few bytes on the wire, not a screenful (widths are fixed)."""
        row_key, column_key = RowKey(key), ColumnKey(column)
        if row_key not in self._row_locations or column_key not in self._column_locations:
            return
        self._data[row_key][column_key] = value
        self._update_count += 1  # invalidates the row caches (CPU), not the terminal
        self.refresh_coordinate(
            Coordinate(self._row_locations.get(row_key), self._column_locations.get(column_key))
        )

    def _set_hover_cursor(self, active: bool) -> None:
        # Textual repaints the hover row on every cursor key; only a change needs a repaint.
        if active != self._show_hover_cursor:
            super()._set_hover_cursor(active)

    def _cell_text(self, key: str, column: str) -> str | None:
        try:
            value = self.get_cell(key, column)
        except Exception:
            return None
        return value.plain if isinstance(value, Text) else str(value)

    def refresh_row_cells(self, key: str) -> None:
        ticket = self.tickets.get(key)
        if ticket is None:
            return
        for column, value in zip(self._layout, self._cells(key, ticket), strict=True):
            self._set_cell(key, column.key, value)

    def toggle_selected(self) -> str | None:
        key = self.current_key
        if key is None:
            return None
        self.selected ^= {key}
        self._set_cell(
            key, "mark", Text("●" if key in self.selected else " ", style="bold magenta")
        )
        return key
