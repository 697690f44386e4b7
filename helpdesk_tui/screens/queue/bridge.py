"""The queue screen's bridge to its model (models/queue.py ``QueueModel``): the model built on
the app's store, its commands carried out, and the reads it asks for run in Textual's thread
workers, whose results come back to the model as typed messages. The screen (``__init__``)
adds the keys and the rendering (``render_rows``, ``show_counts``)."""

from __future__ import annotations

from collections.abc import Iterable

from bson import ObjectId
from textual import on, work
from textual.message import Message
from textual.widgets import DataTable

from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.models.queue import (
    AfterPaint,
    Command,
    Count,
    FetchMore,
    Load,
    Loaded,
    Page,
    Painted,
    QueueModel,
    Refill,
    ReleaseKeys,
    Render,
    ShowCounts,
)
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.presence import Presence, PresenceStore
from helpdesk_tui.store.queue_source import QueueSource
from helpdesk_tui.views import View, start_view
from helpdesk_tui.widgets.ticket_table import TicketTable
from helpdesk_tui.workers import WorkFailed


class QueueLoaded(Message):
    """The window a ``Load`` read."""

    def __init__(self, load: Load, result: Loaded) -> None:
        super().__init__()
        self.load, self.result = load, result


class QueueRefilled(Message):
    """The window a ``Refill`` completed."""

    def __init__(self, refill: Refill, page: Page) -> None:
        super().__init__()
        self.refill, self.page = refill, page


class MoreLoaded(Message):
    """The next page a ``FetchMore`` read."""

    def __init__(self, fetch: FetchMore, page: Page) -> None:
        super().__init__()
        self.fetch, self.page = fetch, page


class ViewsCounted(Message):
    """The view counts a ``Count`` read."""

    def __init__(self, count: Count, counts: dict[str, int]) -> None:
        super().__init__()
        self.count, self.counts = count, counts


class PresenceRead(Message):
    """Who else is on the rows shown."""

    def __init__(self, found: dict[ObjectId, list[Presence]]) -> None:
        super().__init__()
        self.found = found


class QueueBridge(HelpdeskScreen):
    """The queue's model and the workers that read for it (a base of QueueScreen)."""

    focus_view: View | None = None  # one agent's queue (the workload screen's), after the views
    _model: QueueModel | None = None
    _reads: QueueSource | None = None

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def render_rows(self, render: Render) -> None:
        """Show the rows the model says."""
        raise NotImplementedError

    def show_counts(self) -> None:
        """Show the view counts as the model has them."""
        raise NotImplementedError

    @property
    def model(self) -> QueueModel:
        """The queue's state (built once the screen is on the app, which has the store)."""
        if self._model is None:
            helpdesk = self.helpdesk
            self._reads = QueueSource(
                helpdesk.store,
                helpdesk.me.id,
                feed_ready=helpdesk.feed.ready,
                early=helpdesk.early,
            )
            views = list(helpdesk.views)
            if self.focus_view is not None:
                # One agent's queue: a tab after the usual ones, so 1…6 keep their meaning.
                views.append(self.focus_view)
                index = len(views) - 1
            else:
                index = self.start_index(views)
            self._model = QueueModel(self._reads, views, index, helpdesk.config.ui.page_size)
        return self._model

    @property
    def reads(self) -> QueueSource:
        assert self._reads is not None, "the model is built first"
        return self._reads

    def start_index(self, views: list[View]) -> int:
        """The configured start view of my role (config checked that it names a view)."""
        ui = self.helpdesk.config.ui
        key = ui.supervisor_start_view if self.helpdesk.me.is_supervisor else ui.start_view
        return start_view(views, key)

    @property
    def current(self) -> bool:
        """The queue is the screen on top (not under a ticket or a dialog)."""
        return self.app.screen is self

    # --- the model's commands --------------------------------------------------------------

    def _run(self, commands: Iterable[Command]) -> None:
        for command in commands:
            match command:
                case Render():
                    self.render_rows(command)
                case ShowCounts():
                    self.show_counts()
                case Load():
                    if command.hold_keys:
                        self.hold_keys()  # other rows are coming: the next keys are for them
                    self._load(command)
                case Refill():
                    self._refill(command)
                case FetchMore():
                    self._fetch_more(command)
                case Count():
                    self._count(command)
                case ReleaseKeys():
                    self.release_keys()
                case AfterPaint():
                    self.call_after_refresh(self._after_rows)
                case Painted():
                    self.helpdesk.queue_painted()
                    self.refresh_presence(force=True)

    # The reads, in Textual's thread workers; a newer load or count replaces one running
    # (its late result is dropped by the model: generation, token).

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _load(self, load: Load) -> None:
        self.post_message(QueueLoaded(load, load.run(self.reads)))

    @work(thread=True, exit_on_error=False, group="refill", exclusive=True)
    def _refill(self, refill: Refill) -> None:
        self.post_message(QueueRefilled(refill, refill.run(self.reads)))

    @work(thread=True, exit_on_error=False, group="more")
    def _fetch_more(self, fetch: FetchMore) -> None:
        self.post_message(MoreLoaded(fetch, fetch.run(self.reads)))

    @work(thread=True, exit_on_error=False, group="counts", exclusive=True)
    def _count(self, count: Count) -> None:
        self.post_message(ViewsCounted(count, count.run(self.reads)))

    @on(QueueLoaded)
    def _loaded(self, message: QueueLoaded) -> None:
        self._run(self.model.loaded(message.load, message.result, current=self.current))

    @on(QueueRefilled)
    def _refilled(self, message: QueueRefilled) -> None:
        self._run(self.model.refilled(message.refill, message.page, current=self.current))

    @on(MoreLoaded)
    def _more_loaded(self, message: MoreLoaded) -> None:
        self._run(self.model.more_loaded(message.fetch, message.page))

    @on(ViewsCounted)
    def _counted(self, message: ViewsCounted) -> None:
        self._run(self.model.counted(message.count, message.counts))

    @on(WorkFailed)
    def _read_failed(self, message: WorkFailed) -> None:
        """Reported already (report_error): undo what waited for the read."""
        model = self.model
        undo = {
            "_load": model.load_failed,
            "_refill": model.refill_failed,
            "_fetch_more": model.more_failed,
            "_count": model.count_failed,
        }.get(message.work)
        if undo is not None:
            self._run(undo())

    # --- what the screen tells the model ---------------------------------------------------

    def load(self, *, keep_window: bool = False) -> None:
        """(Re)load the current view's first window (``keep_window``: as many rows as shown).

        Only what the rows need is read before they are shown (issue 14: the view's query and
        its people); who else is on those tickets is asked right after they are painted, and
        the view counts after the first rows and then on their timer."""
        self._run(self.model.load(keep_window=keep_window))

    def _after_rows(self) -> None:
        """Once the rows are painted: the app's start-up work nobody waits for (the first
        time), who else is on the rows, and the counts (the first time, or when due)."""
        self._run(self.model.painted(current=self.current))

    def refresh_counts(self) -> None:
        """The view counts, at most every COUNTS_REFRESH_SECONDS while changes came in."""
        self._run(self.model.refresh_counts(current=self.current))

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """Live changes: the model patches the window from the events themselves."""
        self._run(self.model.changed(changed.changes, reload=changed.reload, current=self.current))

    @on(DataTable.RowHighlighted)
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        self._run(self.model.near_end(event.cursor_row))

    def on_screen_suspend(self) -> None:
        if self.model.painting:
            # A key typed ahead (enter) put a ticket over the rows before they were painted:
            # Textual runs the after-paint callback when the ticket's screen idles, which may
            # be never. What waited for the paint is done now instead.
            self.call_later(self._after_rows)

    def refresh_presence(self, *, force: bool = False) -> None:
        if not self.table.tickets or (not self.current and not force):
            return
        ids = [t.id for t in self.table.tickets.values() if isinstance(t.id, ObjectId)]
        self._read_presence(self.helpdesk.presence, ids, self.helpdesk.me.id)

    @work(thread=True, exit_on_error=False, group="presence")
    def _read_presence(self, presence: PresenceStore, ids: list[ObjectId], me: ObjectId) -> None:
        self.post_message(PresenceRead(presence.others(ids, me)))

    @on(PresenceRead)
    def _presence_read(self, message: PresenceRead) -> None:
        table = self.table
        notes = {
            str(t): one_line(entries[0].text, 24)
            for t, entries in message.found.items()
            if str(t) in table.tickets
        }
        if notes != table.notes:
            changed = set(notes) ^ set(table.notes) | {
                k for k in notes if notes[k] != table.notes.get(k)
            }
            table.notes = notes
            for key in changed:
                table.refresh_row_cells(key)
