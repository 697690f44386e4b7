"""The team's load: one row per agent; open their queue or move their tickets to others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket, User
from helpdesk_tui.domain.people import spread
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.screens.bulk import BulkSafety
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.undo import Revert, revert_of
from helpdesk_tui.views import View
from helpdesk_tui.widgets.ticket_table import ago

SPREAD = "spread"
# (key, label, width) of the table's columns; below WIDE_LAYOUT terminal columns, the narrow set.
COLUMNS = (
    ("name", "Agent", 20),
    ("open", "Open", 5),
    ("in_progress", "In prog", 7),
    ("waiting", "Waiting", 7),
    ("active", "Active", 6),
    ("breached", "✖ Breached", 10),
    ("at_risk", "▲ At risk", 9),
    ("oldest", "Oldest", 7),
    ("role", "Role", 10),
)
NARROW_COLUMNS = (
    ("name", "Agent", 20),
    ("open", "Open", 4),
    ("in_progress", "Prog", 4),
    ("waiting", "Wait", 4),
    ("active", "Act", 4),
    ("breached", "✖ Brch", 6),
    ("at_risk", "▲ Risk", 6),
    ("oldest", "Oldest", 6),
)
WIDE_LAYOUT = 104


@dataclass(frozen=True)
class AgentLoad:
    user: User
    counts: dict[str, Any]

    @property
    def active(self) -> int:
        return sum(int(self.counts.get(s.value, 0)) for s in ACTIVE_STATUSES)


@dataclass
class LoadsRead(Message, bubble=False):
    """Every agent's load; ``generation``: which read (a later one replaces it)."""

    loads: list[AgentLoad]
    now: datetime
    generation: int


@dataclass
class Moved(Message, bubble=False):
    """One agent's tickets moved away: how many, which were refused, how to undo."""

    name: str
    moved: int = 0
    refused: list[str] = field(default_factory=list)
    reverts: list[Revert | None] = field(default_factory=list)


class WorkloadScreen(BulkSafety):
    # Priority: each key acts on this screen as soon as it is current (see screens/base.py).
    BINDINGS = [
        Binding("enter", "open_queue", "Their queue", priority=True, id="open_queue"),
        Binding("m", "move", "Move tickets", priority=True, id="move"),
        Binding("u", "undo", "Undo move", priority=True, id="undo"),
        Binding("question_mark", "help", "Help", priority=True, id="help"),
        Binding("q,escape,backspace", "close", "Back", priority=True, id="close"),
        Binding("j", "cursor(1)", show=False, priority=True, id="cursor_down"),
        Binding("k", "cursor(-1)", show=False, priority=True, id="cursor_up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[AgentLoad] = []
        self._now: datetime | None = None
        self._layout: tuple[tuple[str, str, int], ...] = COLUMNS
        self._generation = 0  # the newest read of the loads

    def compose(self) -> ComposeResult:
        yield Static(Text("Team workload", style="bold"), id="top-bar")
        yield DataTable(id="workload-table", cursor_type="row")
        yield Static(id="workload-info")
        yield Footer()

    def on_mount(self) -> None:
        self._layout = self._fit(self.app.size.width)
        self._build()
        self.set_focus(self.query_one(DataTable))
        self.load()

    def on_resize(self) -> None:
        layout = self._fit(self.app.size.width)
        if layout != self._layout:
            self._layout = layout
            self._build()

    @staticmethod
    def _fit(width: int) -> tuple[tuple[str, str, int], ...]:
        """Every figure on any terminal: narrow ones get short labels and lose only the role."""
        return COLUMNS if width >= WIDE_LAYOUT else NARROW_COLUMNS

    def load(self) -> None:
        roles = [*self.helpdesk.config.roles.agent, *self.helpdesk.config.roles.supervisor]
        self._generation += 1
        self._read_loads(roles, self._generation)

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _read_loads(self, roles: list[str], generation: int) -> None:
        store = self.helpdesk.store
        staff = store.staff(roles)
        load = store.workload()
        rows = [AgentLoad(u, load.get(u.object_id, {})) for u in staff]
        self.post_message(LoadsRead(rows, store.now(), generation))

    @on(LoadsRead)
    def _loaded(self, message: LoadsRead) -> None:
        if message.generation != self._generation:
            return  # a later read replaces it
        self.loads, self._now = message.loads, message.now
        self._fill()
        total = sum(r.active for r in self.loads)
        self.query_one("#workload-info", Static).update(
            Text(f"{len(self.loads)} people · {total} active tickets assigned", style="dim")
        )

    def _build(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for key, label, width in self._layout:
            table.add_column(label, key=key, width=width)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        name_width = next(width for key, _, width in self._layout if key == "name")
        keys = [key for key, _, _ in self._layout]
        for row in self.loads:
            cells = self._cells(row, name_width)
            table.add_row(*(cells[key] for key in keys), key=str(row.user.id))
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _cells(self, row: AgentLoad, name_width: int) -> dict[str, str | Text]:
        c = row.counts
        oldest = c.get("oldest")
        breached = int(c.get("breached", 0))
        at_risk = int(c.get("at_risk", 0))
        now = self._now
        return {
            "name": Text(one_line(row.user.display, name_width)),
            "open": str(c.get("open", 0)),
            "in_progress": str(c.get("in_progress", 0)),
            "waiting": str(c.get("waiting", 0)),
            "active": Text(str(row.active), style="bold"),
            "breached": Text(
                f"✖ {breached}" if breached else "0", style="bold red" if breached else ""
            ),
            "at_risk": Text(
                f"▲ {at_risk}" if at_risk else "0", style="bold yellow" if at_risk else ""
            ),
            "oldest": ago(now - oldest) if isinstance(oldest, datetime) and now else "—",
            "role": Text(one_line(row.user.role, 10)),  # a str cell would be parsed as markup
        }

    def _current(self) -> AgentLoad | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.loads[table.cursor_row] if table.cursor_row < len(self.loads) else None

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        if self.app.screen is self:
            self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_queue()

    def action_open_queue(self) -> None:
        row = self._current()
        if row is None:
            return
        view = View(
            "agent",
            f"{row.user.display}'s tickets",
            "Agent",
            QueueQuery(assignee=row.user.object_id),
        )
        self.helpdesk.open_queue(view)

    def action_move(self) -> None:
        """Move all of one agent's active tickets: to one colleague, or spread evenly."""
        row = self._current()
        me = self.helpdesk.me
        if row is None:
            return
        if not self._guarded(lambda: me.require_supervisor("move another agent's tickets")):
            return
        if not row.active:
            self.notify(f"{row.user.display} has no active tickets.")
            return
        source = row.user.object_id  # staff: each has one
        others = [r for r in self.loads if r.user.object_id != source]
        agents = self.helpdesk.config.roles.agent
        loads = {r.user.object_id: r.active for r in others if r.user.role in agents}
        options: list[tuple[str, Any, str]] = [
            (f"Spread across the other agents ({len(loads)}, least loaded first)", SPREAD, "")
        ]
        options += [
            (one_line(r.user.display), r.user.object_id, f"{r.active} active") for r in others
        ]

        names = {r.user.object_id: r.user.display for r in others}

        def chosen(target: Any) -> None:
            if target is None:
                return
            where = (
                f"spread across {len(loads)} other agents"
                if target == SPREAD
                else f"to {names.get(target, 'them')}"
            )
            body = Text(
                f"Move {row.active} active tickets of {row.user.display} {where}?\n\n"
                "Each ticket is reassigned on its own and logged in its audit trail."
            )

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._move(source, row.user.display, target, loads)
                else:
                    self.notify("Nothing moved.")

            self.app.push_screen(
                ConfirmDialog("Move tickets?", body, yes=f"move {row.active}", no="keep them"),
                confirmed,
            )

        self.app.push_screen(
            ChoiceDialog(
                f"Move {row.active} active tickets of {row.user.display} to…",
                options,
                filterable=True,
            ),
            chosen,
        )

    def _move(self, source: ObjectId, name: str, target: Any, loads: dict[ObjectId, int]) -> None:
        self._move_all(source, name, target, loads, self.helpdesk.me.id)

    @work(thread=True, exit_on_error=False, group="move")
    def _move_all(
        self, source: ObjectId, name: str, target: Any, loads: dict[ObjectId, int], me: ObjectId
    ) -> None:
        store = self.helpdesk.store
        query = QueueQuery(statuses=ACTIVE_STATUSES, assignee=source)
        tickets: list[Ticket] = []
        while True:  # every page: a sick agent may hold more than one page
            page = store.list_queue(query, skip=len(tickets), limit=500)
            tickets += page.tickets
            if not page.has_more:
                break
        moved = Moved(name)
        seen: dict[ObjectId, Ticket] = {}
        for ticket in tickets:
            try:
                seen[ticket.object_id] = ticket
            except InvalidRequest as refused:  # a foreign _id: stays where it is, said why
                moved.refused.append(str(refused))
        ids = list(seen)
        plan = spread(ids, loads) if target == SPREAD else [(i, target) for i in ids]
        numbers = {ticket_id: t.ticket_number for ticket_id, t in seen.items()}
        for ticket_id, agent in plan:
            try:
                after = store.assign(ticket_id, agent, actor=me, expected=source)
                moved.reverts.append(revert_of(seen[ticket_id], after))
                moved.moved += 1
            except Exception as error:  # each ticket on its own terms; report the rest
                moved.refused.append(f"{numbers.get(ticket_id)}: {error}")
        self.post_message(moved)

    @on(Moved)
    def _moved(self, message: Moved) -> None:
        moved, refused, name = message.moved, message.refused, message.name
        self.remember_undo(f"move of {moved} tickets away from {name}", message.reverts)
        text = f"Moved {moved} tickets away from {name}."
        if moved and self._undoable is not None:
            text += f" ({self.key_for('undo', 'u')} undoes)"
        if refused:
            text += f" {len(refused)} refused:\n" + "\n".join(refused[:8])
        self.notify(text, severity="warning" if refused else "information", timeout=10)
        self.load()

    def after_undo(self) -> None:
        self.load()

    def action_help(self) -> None:
        self.helpdesk.show_help(self)

    def action_close(self) -> None:
        self.dismiss()
