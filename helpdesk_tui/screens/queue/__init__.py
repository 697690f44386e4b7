"""The queue: views with counts, the SLA-coloured ticket table, sort, multi-select; `/` searches.

The screen is an adapter: its keys, its widgets, and Textual workers that run the reads the
queue's model (models/queue.py ``QueueModel``) asks for and bring their results back as
messages. What to read, what to show and when to count is the model's."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from helpdesk_tui.alerts import Alert, Alerts
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.domain.sla import SlaState
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import ClockTick, FeedStateChanged
from helpdesk_tui.models.queue import Render, Window
from helpdesk_tui.screens.actions import TicketActions
from helpdesk_tui.screens.queue.bridge import QueueBridge
from helpdesk_tui.store.queries import QueueQuery, SortKey
from helpdesk_tui.store.snooze import SNOOZED_VIEW
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.views import View
from helpdesk_tui.widgets.footer import KeyFooter
from helpdesk_tui.widgets.line import Line
from helpdesk_tui.widgets.queue_bars import TopBar, ViewBar
from helpdesk_tui.widgets.ticket_table import TicketTable
from helpdesk_tui.workers import WorkFailed

__all__ = ["SORT_CYCLE", "AgentQueueScreen", "QueueScreen", "TopBar", "ViewBar"]

SORT_CYCLE = (SortKey.DEADLINE, SortKey.PRIORITY, SortKey.UPDATED, SortKey.CREATED, SortKey.NUMBER)
PRESENCE_REFRESH_SECONDS = 15
# Live changes mark the view counts stale; they are counted again at most this often.
COUNTS_REFRESH_SECONDS = 5


class NextTaken(Message):
    """``n`` took this ticket for me (None: none left)."""

    def __init__(self, ticket: Ticket | None) -> None:
        super().__init__()
        self.ticket = ticket


class QueueScreen(QueueBridge, TicketActions):
    # Priority: each key acts on this screen as soon as it is current (see screens/base.py).
    BINDINGS = [
        Binding("enter", "open", "Open", show=False, priority=True, id="open"),
        Binding("r", "reply", "Reply", priority=True, id="reply"),
        Binding("i", "note", "Note", priority=True, id="note"),
        Binding("s", "status", "Status", priority=True, id="status"),
        Binding("p", "priority", "Priority", show=False, priority=True, id="priority"),
        Binding("a", "take", "Take", priority=True, id="take"),
        Binding("A", "assign", "Assign", show=False, priority=True, id="assign"),
        Binding("t", "tags", "Tags", show=False, priority=True, id="tags"),
        Binding("m", "macro", "Macro", show=False, priority=True, id="macro"),
        Binding("u", "undo", "Undo bulk", show=False, priority=True, id="undo"),
        Binding("z", "snooze", "Snooze", show=False, priority=True, id="snooze"),
        Binding("n", "next", "Next", priority=True, id="next"),
        Binding("slash", "search", "Search", priority=True, id="search"),
        Binding("space", "select", "Select", show=False, priority=True, id="select"),
        Binding("o", "sort", "Sort", show=False, priority=True, id="sort"),
        Binding("v", "next_view", "View", show=False, priority=True, id="next_view"),
        Binding("w", "workload", "Workload", show=False, priority=True, id="workload"),
        Binding("P", "pulse", "Pulse", show=False, priority=True, id="pulse"),
        Binding("y", "copy", "Copy", show=False, priority=True, id="copy"),
        Binding("f", "follow", "Follow", show=False, priority=True, id="follow"),
        Binding("F", "following", "Following", show=False, priority=True, id="following"),
        Binding("question_mark", "help", "Help", priority=True, id="help"),
        Binding("q", "quit", "Quit", priority=True, id="quit"),
        *[
            Binding(
                str(n), f"view({n - 1})", f"View {n}", show=False, priority=True, id=f"view_{n}"
            )
            for n in range(1, 10)
        ],
    ]

    # What the table shows: changing any of them reloads it (the watchers), one way only.
    view_index: reactive[int] = reactive(0, init=False)
    sort: reactive[SortKey | None] = reactive(None, init=False)

    def __init__(self, focus_view: View | None = None) -> None:
        super().__init__()
        self.focus_view = focus_view  # opened from the workload screen: one agent's queue
        self.last_search = ""  # `/` opens the search with it again

    def compose(self) -> ComposeResult:
        yield TopBar(id="top-bar")
        yield ViewBar(id="view-bar")
        yield TicketTable(id="queue-table")
        yield Line(id="queue-info")
        yield KeyFooter(first=("quit", "help", "reply", "note", "status", "take", "next", "search"))

    @property
    def views(self) -> list[View]:
        return cast(list[View], self.model.views)

    @property
    def view(self) -> View:
        return self.views[self.view_index]

    @property
    def page(self) -> Window | None:
        """The window shown (None until the first load came); a new one after each change."""
        return self.model.window

    @property
    def counts(self) -> dict[str, int]:
        return self.model.counts

    @counts.setter
    def counts(self, counts: dict[str, int]) -> None:
        self.model.counts = counts

    @property
    def snoozed(self) -> dict[ObjectId, datetime]:
        return dict(self.model.snoozed)

    def on_mount(self) -> None:
        # Presence changes are not ticket changes: look again now and then (one small query).
        self.set_interval(PRESENCE_REFRESH_SECONDS, self.refresh_presence)
        self.set_interval(COUNTS_REFRESH_SECONDS, self.refresh_counts)
        self.set_reactive(QueueScreen.view_index, self.model.index)
        self.set_focus(self.table)  # now, not on the next idle
        self.update_top_bar()
        self.load()

    def watch_view_index(self, index: int) -> None:
        # Another view opens on its most urgent row (`3 enter` opens that one), not on the
        # row the cursor was on in the last view.
        self.set_reactive(QueueScreen.sort, None)
        self._drop_selection("another view")
        self.query_one(ViewBar).show(self.views, index, self.counts)
        self._run(self.model.show_view(index))

    def watch_sort(self) -> None:
        self._drop_selection("the order changed")
        self._run(self.model.sort_by(self.sort))

    def _drop_selection(self, why: str) -> None:
        """A selection only holds rows the agent can see: when they change, it goes, out loud."""
        selected = self.table.selected
        if selected:
            count = len(selected)
            selected.clear()
            self.notify(
                f"Selection cleared ({count} ticket{'s' if count != 1 else ''}): {why}.",
                severity="warning",
                timeout=4,
            )

    def on_feed_state_changed(self, message: FeedStateChanged) -> None:
        self.update_top_bar()

    def on_clock_tick(self, message: ClockTick) -> None:
        self.tick(message.now)

    def update_top_bar(self) -> None:
        me = self.helpdesk.me
        role = f"{me.role.value}, {me.proof}" + (" · read-only" if me.read_only else "")
        self.query_one("#top-bar", TopBar).show(
            f"{one_line(me.user.display)} ({role})",
            self.helpdesk.feed_mode,
            self.helpdesk.feed_live,
        )

    def current_query(self) -> QueueQuery:
        return cast(QueueQuery, self.model.query())

    # --- rendering ------------------------------------------------------------------------

    def render_rows(self, render: Render) -> None:
        table = self.table
        assignee = None
        if render.fresh:
            assignee = not isinstance(self.current_query().assignee, ObjectId)
        sla = self.helpdesk.store.settings.sla
        table.show(
            render.tickets, render.users, render.now, sla, append=render.append, assignee=assignee
        )
        if render.cursor_to_top and table.row_count:
            table.move_cursor(row=0, animate=False)
        self.update_info()

    def show_counts(self) -> None:
        self.query_one(ViewBar).show(self.views, self.view_index, self.counts)
        self.update_info()

    def on_screen_resume(self) -> None:
        commands = self.model.resumed()
        self.update_top_bar()
        self._run(commands)  # a reload if changes came, the counts they made due

    def update_info(self) -> None:
        total = self.counts.get(self.view.key)
        shown = self.table.row_count
        if total is not None:  # counts come on a timer, rows from events: rows are a floor
            total = max(total, shown)
        parts = [
            f"{one_line(self.view.name)}: {shown}" + (f" of {total}" if total is not None else "")
        ]
        if self.view.key == SNOOZED_VIEW and not shown:  # a new user's "what is this?"
            parts.append(f"{self.key_for('snooze', 'z')} on a ticket snoozes it")
        parts.append(f"sort: {(self.sort or self.view.query.sort).label}")
        if self.table.selected:
            parts.append(f"{len(self.table.selected)} selected")
        self.query_one("#queue-info", Line).set_text(Text(" · ".join(parts)))

    def tick(self, now: datetime) -> None:
        self._run(self.model.tick(now))
        for ticket in self.table.tick(now):
            if ticket.assigned_to == self.helpdesk.me.id:
                state = (
                    "breached its SLA"
                    if self.table.state_of(ticket) == SlaState.BREACHED
                    else "is at risk of breaching"
                )
                self.helpdesk.alert(
                    Alert(
                        ticket.id,
                        f"{ticket.label} {state}",
                        one_line(ticket.subject, 80),
                        urgent=True,
                    )
                )

    # --- TicketActions ---------------------------------------------------------------------

    def targets(self) -> list[Ticket]:
        table = self.table
        if table.selected:
            return [table.tickets[k] for k in table.tickets if k in table.selected]
        current = table.current
        return [current] if current else []

    def after_change(self, tickets: list[Ticket]) -> None:
        self.table.selected.clear()
        self._reload_after_write()

    def _reload_after_write(self) -> None:
        """A write of ours: the window again, and every view counted once it is shown
        (``QueueModel.after_write``)."""
        self._run(self.model.after_write())

    def action_follow(self) -> None:
        """``f``: follow the highlighted ticket without owning it (again: stop following)."""
        if (current := self._highlighted()) is not None:
            self.toggle_follow(current)

    def action_following(self) -> None:
        """``F``: the tickets I follow."""
        self.open_following()

    def action_copy(self) -> None:
        """``y``: copy the highlighted ticket's number, customer e-mail or a message."""
        if (current := self._highlighted()) is not None:
            self.fetch_and_offer(current)

    def _highlighted(self) -> Ticket | None:
        """The row under the cursor (not the selection), or None after saying there is none."""
        current = self.table.current
        if current is None:
            self.notify("No ticket here.", severity="warning")
        return current

    # --- actions ---------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        ticket = self.table.current
        if ticket is None or not self._guarded(lambda: ticket.object_id):
            return
        self.helpdesk.open_ticket(ticket.object_id, ticket)

    def action_next(self) -> None:
        me = self.helpdesk.me
        if not self._guarded(me.require_write):
            return
        # Keys typed after `n` (`n r Hi`) act on the ticket it takes, not on the row under the
        # cursor here: held until that ticket's screen is pushed (or there is none).
        self.hold_keys()
        self._take_next(self.helpdesk.store, self.helpdesk.alerts, me.id)

    @work(thread=True, exit_on_error=False, group="take")
    def _take_next(self, store: TicketStore, alerts: Alerts, me: ObjectId) -> None:
        # The write's echo on the change stream is no news ("is yours now" says it), and it
        # can arrive before take_next returns: muted before each attempt.
        tried: list[ObjectId] = []

        def claiming(ticket_id: ObjectId) -> None:
            alerts.mine(ticket_id)
            tried.append(ticket_id)

        ticket = store.take_next(me, claiming=claiming)
        for ticket_id in tried:
            if ticket is None or ticket_id != ticket.id:
                alerts.own.discard(ticket_id)  # not ours after all: nothing to mute
        self.post_message(NextTaken(ticket))

    @on(NextTaken)
    def _next_taken(self, message: NextTaken) -> None:
        ticket = message.ticket
        if ticket is None:
            self.release_keys()
            self.notify("No unassigned open ticket left. Nice work.")
            return
        self.notify(f"{ticket.label} is yours now.")
        self._reload_after_write()  # counted when the agent is back on the queue
        self.helpdesk.open_ticket(ticket.object_id, ticket)  # taken by it
        self.release_keys()  # to the ticket screen, once it is up (the app holds them)

    @on(WorkFailed)
    def _take_failed(self, message: WorkFailed) -> None:
        if message.work == "_take_next":
            self.release_keys()  # reported already: the keys are the agent's again

    def action_search(self) -> None:
        """Search every ticket (screens/search.py); keys typed ahead (`/refund`) wait for its
        query box, so they never trigger `r` reply here."""

        def back(query: str | None) -> None:
            self.last_search = query or ""

        self.helpdesk.open_search(self.last_search, back)

    def action_select(self) -> None:
        if self.table.toggle_selected() is not None:
            self.table.action_cursor_down()
            self.update_info()

    def action_sort(self) -> None:
        current = self.sort or self.view.query.sort
        index = SORT_CYCLE.index(current) if current in SORT_CYCLE else -1
        new = SORT_CYCLE[(index + 1) % len(SORT_CYCLE)]
        self.notify(f"Sorted by {new.label}.", timeout=2)
        self.sort = new

    def action_view(self, index: int) -> None:
        if index >= len(self.views):
            self.notify(f"No view {index + 1}: the views are 1…{len(self.views)}.", timeout=3)
            return
        if index == self.view_index:
            return
        self.view_index = index

    def action_next_view(self) -> None:
        self.action_view((self.view_index + 1) % len(self.views))

    def action_help(self) -> None:
        self.helpdesk.show_help(self)

    def action_quit(self) -> None:
        if self.focus_view is not None:
            self.dismiss()  # back to the workload screen
        else:
            self.app.exit()

    def action_workload(self) -> None:
        if not self._guarded(lambda: self.helpdesk.me.require_supervisor("see the team workload")):
            return
        self.helpdesk.open_workload()

    def action_pulse(self) -> None:
        if not self.helpdesk.me.is_supervisor:
            self.notify("The pulse (P) is for supervisors: it shows the whole team's figures.")
            return
        self.helpdesk.open_pulse()


class AgentQueueScreen(QueueScreen):
    """One agent's queue, opened from the workload screen: ``q`` goes back, and says so."""

    BINDINGS = [Binding("q", "quit", "Back", priority=True, id="quit")]

    def __init__(self, focus_view: View) -> None:
        super().__init__(focus_view=focus_view)
