"""The queue: views with counts, the SLA-coloured ticket table, sort, multi-select; `/` searches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bson import ObjectId
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from helpdesk_tui.alerts import Alert
from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.sla import SlaState
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import ClockTick, FeedStateChanged, TicketsChanged
from helpdesk_tui.screens.actions import TicketActions
from helpdesk_tui.store.presence import Presence
from helpdesk_tui.store.queries import QueueQuery, SortKey, count_fields
from helpdesk_tui.store.snooze import SNOOZED_VIEW, with_snoozes
from helpdesk_tui.store.tickets import QueuePage
from helpdesk_tui.store.window import (
    can_patch,
    complete,
    merge_refill,
    patch,
    refill_span,
    row_doc,
)
from helpdesk_tui.views import View, start_view
from helpdesk_tui.widgets.footer import KeyFooter
from helpdesk_tui.widgets.line import Line
from helpdesk_tui.widgets.ticket_table import TicketTable

SORT_CYCLE = (SortKey.DEADLINE, SortKey.PRIORITY, SortKey.UPDATED, SortKey.CREATED, SortKey.NUMBER)
# Fetch the next page when the cursor comes this close to the end of the window.
PREFETCH_ROWS = 10
PRESENCE_REFRESH_SECONDS = 15
# More changed tickets than this in one delivery: reload the window (one query) instead of
# placing each row on the event loop.
PATCH_AT_MOST = 50
# Live changes mark the view counts stale; they are counted again at most this often.
COUNTS_REFRESH_SECONDS = 5
# Counts read the queue index, which the app holding its lease updates for another writer's
# change after that change's event: a count this soon after such an event is taken once more
# on the next pass, by when the holder has applied it.
COUNTS_SETTLE = timedelta(seconds=2)


@dataclass(frozen=True)
class Loaded:
    """One load of the queue, fetched off the event loop."""

    page: QueuePage
    users: dict[ObjectId, User]
    now: datetime
    snoozed: dict[ObjectId, datetime] = field(default_factory=dict)
    # The first screenful only (the early page): the rest of the window is read right after.
    partial: bool = False


class TopBar(Static):
    """``helpdesk-tui  Ana Lima (agent, …)  live``: the feed's state is never cut (a badge that
    says "⚠ not answering" must be read at 80 columns too); the name yields its room first."""

    _args: tuple[str, str, bool] | None = None

    def on_resize(self) -> None:
        if self._args is not None:
            self.show(*self._args)

    def show(self, who: str, feed: str, live: bool) -> None:
        self._args = (who, feed, live)
        head = Text("helpdesk-tui", style="bold")
        # Not live: bold, with its ⚠ (the symbol carries it without colour).
        state = Text(feed, style="dim" if live else "bold")
        room = self.content_region.width - head.cell_len - state.cell_len - 4
        person = Text(who)
        if room < 6:  # too narrow for a name: the state first, then the rest cut at the edge
            line = Text.assemble(head, "  ", state, no_wrap=True, overflow="ellipsis")
        else:
            person.truncate(room, overflow="ellipsis")
            line = Text.assemble(head, "  ", person, "  ", state, no_wrap=True)
        self.update(line)


class ViewBar(Line):
    """``1 Mine 12  2 Unassigned 40  …``: the current view highlighted, short names when narrow."""

    _args: tuple[list[View], int, dict[str, int]] | None = None

    def on_resize(self) -> None:
        if self._args is not None:
            self.show(*self._args)  # long or short names for the new width, now

    def show(self, views: list[View], current: int, counts: dict[str, int]) -> None:
        self._args = (views, current, counts)
        width = self.size.width
        # Long names; then the current view's long name and the others' short ones; then all
        # short; then only the current view named; each with and then without the gaps: the
        # first that fits (the counts at the end of the bar are what an agent looks for).
        narrow = bool(width and width < 100)
        layouts = [("long", " "), ("long", ""), ("current", " "), ("current", "")]
        layouts += [("short", " "), ("short", ""), ("numbers", " "), ("numbers", "")]
        for names, gap in layouts[4:] if narrow else layouts:
            text = self._text(views, current, counts, names, gap)
            if not width or text.cell_len <= width:
                break
        self.set_text(text)

    @staticmethod
    def _text(
        views: list[View], current: int, counts: dict[str, int], names: str, gap: str
    ) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        # Without the gap, only the highlighted view keeps the spaces around its label.
        tight = gap == ""
        for index, view in enumerate(views):
            if index:
                text.append(" " if tight else gap)
            count = counts.get(view.key)
            long = names == "long" or (names == "current" and index == current)
            # A view can be named after an agent (from the workload screen): database text.
            name = one_line(view.name if long else view.short)
            if names == "numbers" and index != current:
                name = ""  # the last resort on a narrow terminal: numbers and counts
            label = f"{index + 1} {name}" if name else f"{index + 1}"
            label += f" {count}" if count is not None else ""
            if index == current or not tight:
                label = f" {label} "
            style = "reverse bold" if index == current else ""
            if view.key == "breaching" and count:
                style += " red" if index != current else ""
            text.append(label, style=style.strip())
        return text


class QueueScreen(TicketActions):
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
        self.views: list[View] = []
        self.page: QueuePage | None = None
        self.counts: dict[str, int] = {}
        self._loading_more = False
        self._stale = False
        self._again = False  # missed changes came during a load: one more when it is done
        # The window is being fetched (a load or a refill): changes that arrive meanwhile wait
        # here and are patched onto what it shows (a load may have read before they happened).
        self._fetching = False
        self._waiting: list[TicketsChanged] = []
        self._generation = 0  # bumped by every load: a refill started before one is stale
        # The views whose counts changes may have moved since they were read, and those
        # being counted now (a newer count replaces that one, so it counts them too).
        self._counts_due: set[str] = set()
        self._counting: set[str] = set()
        # Views moved by changes this app did not apply to the queue index itself (another
        # app holds its lease), and when the last such change came.
        self._unsettled: set[str] = set()
        self._unsettled_at: datetime | None = None
        self._minute: int | None = None
        self._painting = False  # rows shown, the work after their first paint not yet done
        self.last_search = ""  # `/` opens the search with it again
        self.snoozed: dict[ObjectId, datetime] = {}  # mine, as the last load read them
        self._cursor_to_top = False  # the next load is of another view

    def compose(self) -> ComposeResult:
        yield TopBar(id="top-bar")
        yield ViewBar(id="view-bar")
        yield TicketTable(id="queue-table")
        yield Line(id="queue-info")
        yield KeyFooter(first=("quit", "help", "reply", "note", "status", "take", "next", "search"))

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    @property
    def view(self) -> View:
        return self.views[self.view_index]

    def on_mount(self) -> None:
        # Presence changes are not ticket changes: look again now and then (one small query).
        self.set_interval(PRESENCE_REFRESH_SECONDS, self.refresh_presence)
        self.set_interval(COUNTS_REFRESH_SECONDS, self.refresh_counts)
        self.views = self.helpdesk.views
        if self.focus_view is not None:
            # One agent's queue: a tab after the usual ones, so 1…6 keep their meaning.
            self.views = [*self.views, self.focus_view]
            self.set_reactive(QueueScreen.view_index, len(self.views) - 1)
        else:
            self.set_reactive(QueueScreen.view_index, self.start_index())
        self.set_focus(self.table)  # now, not on the next idle
        self.update_top_bar()
        self.load()

    def start_index(self) -> int:
        """The configured start view of my role (config checked that it names a view)."""
        ui = self.helpdesk.config.ui
        key = ui.supervisor_start_view if self.helpdesk.me.is_supervisor else ui.start_view
        return start_view(self.views, key)

    def watch_view_index(self, index: int) -> None:
        # Another view opens on its most urgent row (`3 enter` opens that one), not on the
        # row the cursor was on in the last view.
        self._cursor_to_top = True
        self.set_reactive(QueueScreen.sort, None)
        self._drop_selection("another view")
        self.query_one(ViewBar).show(self.views, index, self.counts)
        self.load()

    def watch_sort(self) -> None:
        self._drop_selection("the order changed")
        self.load()

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

    # --- loading ---------------------------------------------------------------------------

    def current_query(self) -> QueueQuery:
        return with_snoozes(self.view.key, self._base_query(), self.snoozed)

    def _base_query(self) -> QueueQuery:
        query = self.view.query
        return replace(query, sort=self.sort or query.sort)

    def load(self, *, keep_window: bool = False) -> None:
        """(Re)load the current view's first window and the people named in it.

        Only what the rows need is read before they are shown (issue 14: the view's query and
        its people); who else is on those tickets is asked right after they are painted, and
        the view counts after the first rows and then on their timer (a view switch or a
        reload changes no count).
        """
        store = self.helpdesk.store
        base, key = self._base_query(), self.view.key
        size = self.helpdesk.config.ui.page_size
        limit = max(size, self.table.row_count) if keep_window else size

        feed, me = self.helpdesk.feed, self.helpdesk.me.id
        # The start view's first page may have been read while the app was starting.
        early = self.helpdesk.early if self.page is None and not keep_window else None

        def fetch() -> Loaded:
            if early is not None and (first := early.take(key, base, limit)) is not None:
                partial = first.limit < limit and first.page.has_more
                return Loaded(first.page, first.users, first.now, first.snoozed, partial)
            feed.ready.wait(timeout=5)  # the stream is open before the view's first query
            snoozed = store.snoozes.active(me)
            query = with_snoozes(key, base, snoozed)
            page = store.list_queue(query, limit=limit)
            users = store.people_of(page.tickets)
            return Loaded(page, users, store.now(), snoozed)

        if not keep_window:
            self.hold_keys()  # other rows are coming: the next keys are for them
        self._fetching = True
        self._generation += 1
        self.call_store(fetch, self._loaded, group="load", exclusive=True, failed=self._load_failed)

    def _load_failed(self) -> None:
        self._fetching = False
        self.release_keys()
        if self._again or self._waiting:
            self._again = False
            self._waiting.clear()
            self.load(keep_window=True)

    def _loaded(self, result: Loaded) -> None:
        self._fetching = False
        # Changes were missed during this load, or it was the first screenful only: one more
        # (the whole window), then quiet.
        if self._again or result.partial:
            self._again = False
            self._waiting.clear()  # that load reads them
            self.load(keep_window=True)
        page, users, now = result.page, result.users, result.now
        if result.snoozed != self.snoozed:
            self._counts_due |= self._view_keys()  # the views hide my snoozed tickets
        self.snoozed = result.snoozed
        self.page = page
        self.table.show_assignee(not isinstance(self.current_query().assignee, ObjectId))
        self.table.show(page.tickets, users, now, self.helpdesk.store.settings.sla)
        if self._cursor_to_top:
            self._cursor_to_top = False
            if self.table.row_count:
                self.table.move_cursor(row=0, animate=False)
        self.query_one(ViewBar).show(self.views, self.view_index, self.counts)
        self.update_info()
        if result.partial:
            return  # keys typed meanwhile wait for the whole window, as do presence and counts
        self.release_keys()
        self._painting = True
        self.call_after_refresh(self._after_rows)
        self._patch_waiting()

    def _after_rows(self) -> None:
        """Once the rows are painted: the app's start-up work nobody waits for (the first
        time), who else is on the rows, and the counts (the first time, or when changes made
        them due)."""
        if not self._painting:
            return
        self._painting = False
        self.helpdesk.queue_painted()
        self.refresh_presence(force=True)
        if not self.counts:
            self._counts_due |= self._view_keys()
        self.refresh_counts()

    def _patch_waiting(self) -> None:
        """The changes that arrived while the window was fetched, patched onto it (in order)."""
        if self._fetching or not self._waiting:
            return
        merged = TicketsChanged()
        for waiting in self._waiting:
            merged.ids |= waiting.ids
            merged.changes += waiting.changes
            merged.reload |= waiting.reload
        self._waiting = []
        self.on_tickets_changed(merged)

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

    @on(DataTable.RowHighlighted)
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        page = self.page
        table = self.table
        if (
            page is None
            or not page.has_more
            or self._loading_more
            or event.cursor_row < table.row_count - PREFETCH_ROWS
        ):
            return
        self._loading_more = True
        store, query = self.helpdesk.store, self.current_query()
        skip, limit = table.row_count, self.helpdesk.config.ui.page_size

        def fetch() -> tuple[QueuePage, dict[ObjectId, User]]:
            more = store.list_queue(query, skip=skip, limit=limit)
            return more, store.people_of(more.tickets)

        def append(result: tuple[QueuePage, dict[ObjectId, User]]) -> None:
            more, users = result
            self._loading_more = False
            self.page = more
            table.show(
                more.tickets,
                {**table.users, **users},
                self.helpdesk.store.now(),
                self.helpdesk.store.settings.sla,
                append=True,
            )
            self.update_info()

        self.call_store(fetch, append, group="more")

    def refresh_presence(self, *, force: bool = False) -> None:
        if not self.table.tickets or (self.app.screen is not self and not force):
            return
        presence, me = self.helpdesk.presence, self.helpdesk.me.id
        ids = [t.id for t in self.table.tickets.values() if t.id is not None]

        def show(found: dict[ObjectId, list[Presence]]) -> None:
            notes = {
                str(t): one_line(entries[0].text, 24)
                for t, entries in found.items()
                if str(t) in self.table.tickets
            }
            if notes != self.table.notes:
                changed = set(notes) ^ set(self.table.notes) | {
                    k for k in notes if notes[k] != self.table.notes.get(k)
                }
                self.table.notes = notes
                for key in changed:
                    self.table.refresh_row_cells(key)

        self.call_store(lambda: presence.others(ids, me), show, group="presence")

    def tick(self, now: datetime) -> None:
        minute = int(now.timestamp() // 60)
        if self._minute not in (None, minute):
            # No event says that a ticket's at-risk moment passed: look again each minute.
            self._counts_due |= {view.key for view in self.views if view.query.breaching}
            if self.current_query().breaching:
                self.load(keep_window=True)
        self._minute = minute
        if any(until <= now for until in self.snoozed.values()):
            self.load(keep_window=True)  # a snooze ended: the ticket is back
        for ticket in self.table.tick(now):
            if ticket.assigned_to == self.helpdesk.me.id:
                state = (
                    "breached its SLA"
                    if self.table.state_of(ticket) == SlaState.BREACHED
                    else "is at risk of breaching"
                )
                self.helpdesk.alert(
                    Alert(
                        ticket.id or ObjectId(),
                        f"{ticket.label} {state}",
                        one_line(ticket.subject, 80),
                        urgent=True,
                    )
                )

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """Live changes: patch the window from the events themselves (no query), fetch only
        the rows missing after a row left a full window; re-query only when the events cannot
        say (missed events, free-text filter, a polled change without the row's fields)."""
        moved = self._views_moved_by(changed)
        self._counts_due |= moved  # counted on the counts timer
        if moved and not self.helpdesk.store.queue.held:
            self._unsettled |= moved
            self._unsettled_at = self.helpdesk.store.now()
        if self.app.screen is not self:
            self._stale = True  # refresh when the agent comes back to the queue
            return
        if self._fetching:  # patched onto the window it fetches, or one more load if missed
            if changed.reload:
                self._again = True
            else:
                self._waiting.append(changed)
            return
        if self.snoozed.keys() & {c.id for c in changed.changes}:
            self.load(keep_window=True)  # a snoozed ticket moved: the customer may have written
            return
        if not self._patch(changed):
            self.load(keep_window=True)

    def _patch(self, changed: TicketsChanged) -> bool:
        page, query = self.page, self.current_query()
        changes = [(c.id, c.kind, dict(c.doc) if c.doc else None) for c in changed.changes]
        if (
            changed.reload
            or page is None
            or not changes
            or len({c[0] for c in changes}) > PATCH_AT_MOST  # a burst: one query is cheaper
            or not can_patch(query)
            or any(kind != "delete" and not complete(doc) for _, kind, doc in changes)
        ):
            return False
        table, store = self.table, self.helpdesk.store
        window = list(table.tickets.values())
        if any(t.id is None for t in window):
            return False  # rows without an ObjectId _id: a reload keeps them apart
        limit = max(self.helpdesk.config.ui.page_size, len(window))
        result = patch(
            window,
            {t.id: row_doc(t) for t in window},
            changes,
            query,
            limit=limit,
            has_more=page.has_more,
            now=store.now(),
            policy=store.settings.sla,
        )
        if not result.changed:
            return True  # nothing of this view
        known = table.users
        unknown = {
            i
            for t in result.tickets
            for i in (t.user, t.assigned_to)
            if isinstance(i, ObjectId) and i not in known
        }
        if not result.missing and not unknown:
            self._show_patched(list(result.tickets), known, result.has_more)
            return True
        tickets, missing = result.tickets, result.missing

        def fetch() -> tuple[list[Ticket], dict[ObjectId, User]]:
            rows = list(tickets)
            if missing:
                skip, span = refill_span(len(rows), missing)
                fetched = store.list_queue(query, skip=skip, limit=span).tickets
                rows = merge_refill(rows, fetched, query, limit=limit, policy=store.settings.sla)
            return rows, {**known, **store.people_of(rows)}

        def show(result: tuple[list[Ticket], dict[ObjectId, User]]) -> None:
            if generation != self._generation:
                return  # a load started meanwhile: its rows are newer, and it is in charge
            self._fetching = False
            rows, users = result
            self._show_patched(rows, users, len(rows) >= limit)
            self._patch_waiting()

        def failed() -> None:
            if generation == self._generation:
                self._fetching = False
                self._waiting.clear()
                self.load(keep_window=True)  # what the refill and the waiting changes said

        generation = self._generation
        self._fetching = True
        self.call_store(fetch, show, group="refill", exclusive=True, failed=failed)
        return True

    def _show_patched(
        self, tickets: list[Ticket], users: Mapping[ObjectId, User], more: bool
    ) -> None:
        store = self.helpdesk.store
        # has_more is len == limit: a page that says "more" is exactly full.
        self.page = QueuePage(tuple(tickets), 0, len(tickets) if more else len(tickets) + 1)
        self.table.show(tickets, users, store.now(), store.settings.sla)
        self.update_info()

    def refresh_counts(self) -> None:
        """The view counts, at most every COUNTS_REFRESH_SECONDS while changes came in."""
        if not self._counts_due or self.app.screen is not self:
            return
        store, snoozed = self.helpdesk.store, self.snoozed
        # A newer count replaces one still running (exclusive group): it counts its views too.
        due = self._counts_due | self._counting
        self._counts_due = set()
        if self._unsettled_at is not None and store.now() - self._unsettled_at < COUNTS_SETTLE:
            self._counts_due = set(self._unsettled)  # the lease holder may not have applied it
        self._unsettled, self._unsettled_at = set(), None
        self._counting = due
        views = {v.key: with_snoozes(v.key, v.query, snoozed) for v in self.views if v.key in due}

        def show(counts: dict[str, int]) -> None:
            if self._counting is due:  # not an earlier count that finished as this one began
                self._counting = set()
            self.counts = {**self.counts, **counts}
            self.query_one(ViewBar).show(self.views, self.view_index, self.counts)
            self.update_info()

        def failed() -> None:  # counted again on the next tick
            if self._counting is due:
                self._counts_due |= due
                self._counting = set()

        self.call_store(
            lambda: store.count_views(views), show, group="counts", exclusive=True, failed=failed
        )

    def _view_keys(self) -> set[str]:
        return {view.key for view in self.views}

    def _views_moved_by(self, changed: TicketsChanged) -> set[str]:
        """The views whose counts these changes may have moved: for an update, those that
        filter on a field it touched (a new message moves Needs reply and Breaching, not My
        tickets); for anything else (an insert, a delete, missed events), every view."""
        if changed.reload:
            return self._view_keys()
        touched: set[str] = set()
        for change in changed.changes:
            if change.kind != "update" or not change.updated:
                return self._view_keys()
            touched |= change.updated
        due = set()
        for view in self.views:
            fields = count_fields(view.query)
            if fields is None or fields & touched:
                due.add(view.key)
        return due

    def on_screen_suspend(self) -> None:
        if self._painting:
            # A key typed ahead (enter) put a ticket over the rows before they were painted:
            # Textual runs the after-paint callback when the ticket's screen idles, which may
            # be never. What waited for the paint is done now instead.
            self.call_later(self._after_rows)

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.load(keep_window=True)
        self.update_top_bar()
        self.refresh_counts()  # those changes made due while another screen was on top

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
        """A write of ours: the window again, and every view counted once it is shown.

        The store upserts the write's queue-index entry before it returns, so the counts are
        right at once. Its echo on the feed comes when the feed next asks (later than this
        reload, mostly), and the views it makes due wait for the counts timer: the bar said
        "Unassigned 7" beside six rows for seconds after a take (issue 28)."""
        self._counts_due |= self._view_keys()
        self.load(keep_window=True)

    def action_follow(self) -> None:
        """``f``: follow the highlighted ticket without owning it (again: stop following)."""
        from helpdesk_tui.screens.following import toggle_follow

        if (current := self._highlighted()) is not None:
            toggle_follow(self, current)

    def action_following(self) -> None:
        """``F``: the tickets I follow."""
        from helpdesk_tui.screens.following import open_following

        open_following(self)

    def action_copy(self) -> None:
        """``y``: copy the highlighted ticket's number, customer e-mail or a message."""
        from helpdesk_tui.screens.clipboard import fetch_and_offer

        if (current := self._highlighted()) is not None:
            fetch_and_offer(self, current)

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
        if ticket is None:
            return
        if ticket.id is None:
            self.notify(
                f"{ticket.label}: malformed document (its _id is not an ObjectId); "
                "it cannot be opened here",
                severity="warning",
            )
            return
        self.helpdesk.open_ticket(ticket.id, ticket)

    def action_next(self) -> None:
        me = self.helpdesk.me
        if not self._guarded(me.require_write):
            return
        store = self.helpdesk.store

        def opened(ticket: Ticket | None) -> None:
            if ticket is None or ticket.id is None:
                self.release_keys()
                self.notify("No unassigned open ticket left. Nice work.")
                return
            self.notify(f"{ticket.label} is yours now.")
            self._reload_after_write()  # counted when the agent is back on the queue
            self.helpdesk.open_ticket(ticket.id, ticket)
            self.release_keys()  # to the ticket screen, once it is up (the app holds them)

        # Keys typed after `n` (`n r Hi`) act on the ticket it takes, not on the row under the
        # cursor here: held until that ticket's screen is pushed (or there is none).
        self.hold_keys()
        alerts = self.helpdesk.alerts

        def take() -> Ticket | None:
            # The write's echo on the change stream is no news ("is yours now" says it), and
            # it can arrive before take_next returns: muted before each attempt.
            tried: list[ObjectId] = []

            def claiming(ticket_id: ObjectId) -> None:
                alerts.mine(ticket_id)
                tried.append(ticket_id)

            ticket = store.take_next(me.id, claiming=claiming)
            for ticket_id in tried:
                if ticket is None or ticket_id != ticket.id:
                    alerts.own.discard(ticket_id)  # not ours after all: nothing to mute
            return ticket

        self.call_store(take, opened, failed=self.release_keys)

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
        from helpdesk_tui.screens.pulse import PulseScreen

        self.app.push_screen(PulseScreen())


class AgentQueueScreen(QueueScreen):
    """One agent's queue, opened from the workload screen: ``q`` goes back, and says so."""

    BINDINGS = [Binding("q", "quit", "Back", priority=True, id="quit")]

    def __init__(self, focus_view: View) -> None:
        super().__init__(focus_view=focus_view)
