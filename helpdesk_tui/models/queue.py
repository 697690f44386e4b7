"""The queue's window of rows as plain Python: what to read, what to show, when to count.

``QueueModel`` holds what the queue screen used to keep in a dozen private fields: the rows
shown and the people they name, the load in flight (``Phase`` and a generation number), the
changes that wait for it, the page being added, the view counts due and being counted, and my
snoozes. The screen feeds it what happened (a key, a change event, a read's result, a tick)
and carries out the commands it returns: read this (``Load``, ``Refill``, ``FetchMore``,
``Count``: each runs against ``QueueStore`` in a worker, and its result comes back to the
matching method), show these rows (``Render``), the counts (``ShowCounts``), the keys
(``ReleaseKeys``), the work after the rows' first paint (``AfterPaint``).

A view's query is opaque here (``Query``): the store's rules (``QueueStore``: its filter, its
order, which fields its count reads, how a change event patches a window) say what it means.
Nothing here imports Textual, pymongo or the store (an import-linter contract keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from bson import ObjectId

from helpdesk_tui.domain.models import ForeignId, Ticket, User

# A view's query and a sort order, as the store defines them (store/queries.py).
Query = Any
Sort = Any

# Fetch the next page when the cursor comes this close to the end of the window.
PREFETCH_ROWS = 10
# More changed tickets than this in one delivery: reload the window (one query) instead of
# placing each row on the event loop.
PATCH_AT_MOST = 50
# Counts read the queue index, which the app holding its lease updates for another writer's
# change after that change's event: a count this soon after such an event is taken once more
# on the next pass, by when the holder has applied it.
COUNTS_SETTLE = timedelta(seconds=2)


class Phase(Enum):
    """What the window is waiting for. While not IDLE, change events wait (``waiting``) and are
    patched onto what the read brings, which may have been taken before they happened."""

    IDLE = "idle"  # the rows shown are the window: a change patches them at once
    LOADING = "loading"  # a load reads the whole window again
    REFILLING = "refilling"  # a refill reads the rows a patch left missing at the end


# --- what the model needs of the rest of the app ---------------------------------------------


class ViewLike(Protocol):
    """A queue view (views.View): its key and query."""

    @property
    def key(self) -> str: ...

    @property
    def query(self) -> Query: ...


class ChangeLike(Protocol):
    """One ticket's change event (store/live.py Change)."""

    @property
    def id(self) -> ObjectId: ...

    @property
    def kind(self) -> str: ...  # insert, update, replace, delete

    @property
    def doc(self) -> Mapping[str, Any] | None: ...

    @property
    def updated(self) -> frozenset[str]: ...  # the fields an update touched, empty if unknown


@dataclass(frozen=True)
class Loaded:
    """One load of the window."""

    tickets: tuple[Ticket, ...]
    has_more: bool
    users: Mapping[ObjectId, User]
    now: datetime
    snoozed: Mapping[ObjectId, datetime] = field(default_factory=dict)
    # The first screenful only (the early page): the rest of the window is read right after.
    partial: bool = False


@dataclass(frozen=True)
class Page:
    """Rows read after the window's end (a refill's or the next page's) and their people."""

    tickets: tuple[Ticket, ...]
    users: Mapping[ObjectId, User]
    has_more: bool = False


@dataclass(frozen=True)
class Patched:
    """The window after change events (store/window.py ``patch``)."""

    tickets: tuple[Ticket, ...]
    missing: int  # rows to fetch after the last one to fill the window again
    has_more: bool
    changed: bool  # a row of this view was added, moved, recoloured or removed


class QueueStore(Protocol):
    """What the queue needs of the store: reads (called in a worker thread) and a view's rules
    (called on the event loop, no I/O). ``store/queue_source.py`` implements it."""

    def now(self) -> datetime: ...

    def index_held(self) -> bool:
        """Whether this app keeps the queue index up to date itself (holds its lease)."""
        ...

    def query(
        self, view: ViewLike, sort: Sort | None, snoozed: Mapping[ObjectId, datetime]
    ) -> Query:
        """The view's query in this order (None: its own), my snoozed tickets left out."""
        ...

    def count_fields(self, query: Query) -> frozenset[str] | None:
        """The fields a change must touch to move this view's count (None: any change)."""
        ...

    def breaching(self, query: Query) -> bool:
        """Whether the view holds tickets by time alone (at risk), which no event says."""
        ...

    def patch(
        self,
        window: Sequence[Ticket],
        changes: Sequence[ChangeLike],
        query: Query,
        *,
        limit: int,
        has_more: bool,
    ) -> Patched | None:
        """The window after these changes, or None when the events cannot say (a free-text
        filter, a change without the row's fields): then the window is loaded again."""
        ...

    def load(self, view: ViewLike, sort: Sort | None, limit: int, *, early: bool) -> Loaded:
        """My snoozes, the view's first ``limit`` rows and their people (``early``: the page
        read while the app started, if it is this one)."""
        ...

    def refill(self, query: Query, window: Sequence[Ticket], missing: int, limit: int) -> Page:
        """The window with the ``missing`` rows after it read again (at most ``limit``)."""
        ...

    def more(self, query: Query, skip: int, limit: int) -> Page: ...

    def count_views(self, queries: Mapping[str, Query]) -> dict[str, int]: ...


# --- commands: what the screen carries out ---------------------------------------------------


@dataclass(frozen=True)
class Load:
    """Read the window (``QueueStore.load``); its result goes to ``QueueModel.loaded``."""

    generation: int
    view: ViewLike
    sort: Sort | None
    limit: int
    early: bool
    hold_keys: bool  # other rows are coming: the keys typed from now on are for them

    def run(self, store: QueueStore) -> Loaded:
        return store.load(self.view, self.sort, self.limit, early=self.early)


@dataclass(frozen=True)
class Refill:
    """Read the rows a patch left missing; the result goes to ``QueueModel.refilled``."""

    generation: int
    query: Query
    window: tuple[Ticket, ...]
    missing: int
    limit: int

    def run(self, store: QueueStore) -> Page:
        return store.refill(self.query, self.window, self.missing, self.limit)


@dataclass(frozen=True)
class FetchMore:
    """Read the next page; the result goes to ``QueueModel.more_loaded``."""

    generation: int
    query: Query
    skip: int
    limit: int

    def run(self, store: QueueStore) -> Page:
        return store.more(self.query, self.skip, self.limit)


@dataclass(frozen=True)
class Count:
    """Count these views; the result goes to ``QueueModel.counted``. A newer count replaces
    one still running, so it counts that one's views too."""

    token: int
    queries: Mapping[str, Query]

    def run(self, store: QueueStore) -> dict[str, int]:
        return store.count_views(self.queries)


@dataclass(frozen=True)
class Render:
    """Show these rows (``append``: after the rows shown); ``fresh``: a load, not a patch."""

    tickets: tuple[Ticket, ...]
    users: Mapping[ObjectId, User]
    now: datetime
    append: bool = False
    fresh: bool = False
    cursor_to_top: bool = False  # another view: its most urgent row, not the old position


@dataclass(frozen=True)
class ShowCounts:
    """The view bar and the info line, with the counts as they are now."""


@dataclass(frozen=True)
class ReleaseKeys:
    """The keys held for the new rows may act now."""


@dataclass(frozen=True)
class AfterPaint:
    """Call ``QueueModel.painted`` once these rows are on the terminal."""


@dataclass(frozen=True)
class Painted:
    """The rows are painted: the start-up work nobody waits for, and who else is on them."""


Command = (
    Load | Refill | FetchMore | Count | Render | ShowCounts | ReleaseKeys | AfterPaint | Painted
)


@dataclass(frozen=True)
class Window:
    """The rows shown and whether the view has more after them."""

    tickets: tuple[Ticket, ...]
    has_more: bool


class QueueModel:
    """The queue screen's state and its rules, driven by events, answered with commands."""

    def __init__(
        self, store: QueueStore, views: Sequence[ViewLike], index: int, page_size: int
    ) -> None:
        self.store = store
        self.views = list(views)
        self.index = index
        self.sort: Sort | None = None  # None: the view's own order
        self.page_size = page_size
        self.window: Window | None = None  # None until the first load came
        self.users: Mapping[ObjectId, User] = {}
        self.counts: dict[str, int] = {}
        self.snoozed: Mapping[ObjectId, datetime] = {}  # mine, as the last load read them
        self.phase = Phase.IDLE
        self.generation = 0  # bumped by every load: a read started before one is stale
        self.again = False  # missed changes came during a load: one more when it is done
        self.waiting: list[ChangeLike] = []  # changes that came while the window was read
        self.stale = False  # changes came while another screen was on top
        self.loading_more = False
        self.painting = False  # rows shown, the work after their first paint not yet done
        self.cursor_to_top = False  # the next load is of another view
        # The views whose counts changes may have moved since they were read, and those
        # being counted now (under ``count_token``).
        self.counts_due: set[str] = set()
        self.counting: set[str] = set()
        self.count_token = 0
        # Views moved by changes this app did not apply to the queue index itself (another
        # app holds its lease), and when the last such change came.
        self.unsettled: set[str] = set()
        self.unsettled_at: datetime | None = None
        self.minute: int | None = None

    # --- what is shown ---------------------------------------------------------------------

    @property
    def view(self) -> ViewLike:
        return self.views[self.index]

    @property
    def rows(self) -> tuple[Ticket, ...]:
        return self.window.tickets if self.window is not None else ()

    def query(self) -> Query:
        """The current view's query, in the chosen order, my snoozed tickets left out."""
        return self.store.query(self.view, self.sort, self.snoozed)

    def view_keys(self) -> set[str]:
        return {view.key for view in self.views}

    # --- loading ---------------------------------------------------------------------------

    def show_view(self, index: int) -> list[Command]:
        """Another view: its first window, on its most urgent row, in its own order."""
        self.index, self.sort = index, None
        self.cursor_to_top = True
        return self.load()

    def sort_by(self, sort: Sort | None) -> list[Command]:
        self.sort = sort
        return self.load()

    def load(self, *, keep_window: bool = False) -> list[Command]:
        """(Re)load the current view's window: the first page, or (``keep_window``) as many
        rows as are shown. The keys wait for a new view's rows, not for a reload's."""
        limit = max(self.page_size, len(self.rows)) if keep_window else self.page_size
        early = self.window is None and not keep_window
        self.phase = Phase.LOADING
        self.generation += 1
        load = Load(self.generation, self.view, self.sort, limit, early, not keep_window)
        return [load]

    def loaded(self, load: Load, result: Loaded, *, current: bool = True) -> list[Command]:
        if load.generation != self.generation:
            return []  # a newer load replaced it: its rows are newer
        self.phase = Phase.IDLE
        commands: list[Command] = []
        # Changes were missed during this load, or it was the first screenful only: one more
        # (the whole window), then quiet.
        if self.again or result.partial:
            self.again = False
            self.waiting.clear()  # that load reads them
            commands += self.load(keep_window=True)
        if result.snoozed != self.snoozed:
            self.counts_due |= self.view_keys()  # the views hide my snoozed tickets
        self.snoozed = result.snoozed
        self.window = Window(result.tickets, result.has_more)
        self.users = result.users
        commands.append(
            Render(
                result.tickets,
                result.users,
                result.now,
                fresh=True,
                cursor_to_top=self.cursor_to_top,
            )
        )
        self.cursor_to_top = False
        commands.append(ShowCounts())
        if result.partial:
            return commands  # keys typed meanwhile wait for the whole window, as do the counts
        self.painting = True
        commands += [ReleaseKeys(), AfterPaint()]
        return commands + self._patch_waiting(current)

    def load_failed(self) -> list[Command]:
        self.phase = Phase.IDLE
        commands: list[Command] = [ReleaseKeys()]
        if self.again or self.waiting:
            self.again = False
            self.waiting.clear()
            commands += self.load(keep_window=True)
        return commands

    def painted(self, *, current: bool) -> list[Command]:
        """The rows are on the terminal (or a screen was pushed over them first): the work
        that waited for them, once, and the counts (the first time, or when changes made them
        due)."""
        if not self.painting:
            return []
        self.painting = False
        if not self.counts:
            self.counts_due |= self.view_keys()
        return [Painted(), *self.refresh_counts(current=current)]

    def after_write(self) -> list[Command]:
        """A write of ours: the window again, and every view counted once it is shown.

        The store upserts the write's queue-index entry before it returns, so the counts are
        right at once. Its echo on the feed comes when the feed next asks (later than this
        reload, mostly), and the views it makes due would wait for the counts timer: the bar
        said "Unassigned 7" beside six rows for seconds after a take (issue 28)."""
        self.counts_due |= self.view_keys()
        return self.load(keep_window=True)

    def resumed(self) -> list[Command]:
        """The queue is on top again: what changed meanwhile, and the counts it made due."""
        commands: list[Command] = []
        if self.stale:
            self.stale = False
            commands += self.load(keep_window=True)
        return commands + self.refresh_counts(current=True)

    # --- the next page ---------------------------------------------------------------------

    def near_end(self, cursor_row: int) -> list[Command]:
        """The cursor moved to ``cursor_row``: the next page when it comes close to the end."""
        window = self.window
        if (
            window is None
            or not window.has_more
            or self.loading_more
            or cursor_row < len(window.tickets) - PREFETCH_ROWS
        ):
            return []
        self.loading_more = True
        return [FetchMore(self.generation, self.query(), len(window.tickets), self.page_size)]

    def more_loaded(self, fetch: FetchMore, page: Page) -> list[Command]:
        self.loading_more = False
        if fetch.generation != self.generation or self.window is None:
            return []  # another load replaced the rows it would follow
        # Rows move between pages while they are read (another writer inserted or
        # re-prioritised a ticket): a row already shown is refreshed in place, not added twice.
        rows = {t.id: t for t in self.window.tickets}  # the row keys: ObjectId or ForeignId
        rows.update({t.id: t for t in page.tickets})
        self.window = Window(tuple(rows.values()), page.has_more)
        self.users = {**self.users, **page.users}
        return [Render(page.tickets, self.users, self.store.now(), append=True)]

    def more_failed(self) -> list[Command]:
        self.loading_more = False  # asked again when the cursor moves
        return []

    # --- live changes ----------------------------------------------------------------------

    def changed(
        self, changes: Sequence[ChangeLike], *, reload: bool, current: bool
    ) -> list[Command]:
        """Live changes: patch the window from the events themselves (no query), fetch only
        the rows missing after a row left a full window; load again only when the events
        cannot say (missed events, a free-text filter, a polled change without the row's
        fields, a burst). ``current``: the queue is the screen on top."""
        moved = self._views_moved_by(changes, reload)
        self.counts_due |= moved  # counted on the counts timer
        if moved and not self.store.index_held():
            self.unsettled |= moved
            self.unsettled_at = self.store.now()
        if not current:
            self.stale = True  # loaded again when the agent comes back to the queue
            return []
        if self.phase is not Phase.IDLE:  # patched onto what is read, or one more load
            if reload:
                self.again = True
            else:
                self.waiting += changes
            return []
        if self.snoozed.keys() & {c.id for c in changes}:
            return self.load(keep_window=True)  # a snoozed ticket moved: the customer wrote?
        patched = self._patch(changes, reload)
        return patched if patched is not None else self.load(keep_window=True)

    def _patch(self, changes: Sequence[ChangeLike], reload: bool) -> list[Command] | None:
        window = self.window
        if (
            reload
            or window is None
            or not changes
            or len({c.id for c in changes}) > PATCH_AT_MOST  # a burst: one query is cheaper
            # The server's order of a foreign _id is not known here (nor are its events): a reload.
            or any(isinstance(t.id, ForeignId) for t in window.tickets)
        ):
            return None
        query = self.query()
        limit = max(self.page_size, len(window.tickets))
        result = self.store.patch(
            window.tickets, changes, query, limit=limit, has_more=window.has_more
        )
        if result is None:
            return None
        if not result.changed:
            return []  # nothing of this view
        unknown = {
            i
            for t in result.tickets
            for i in (t.user, t.assigned_to)
            if isinstance(i, ObjectId) and i not in self.users
        }
        if not result.missing and not unknown:
            return self._show_patched(result.tickets, self.users, result.has_more)
        self.phase = Phase.REFILLING
        return [Refill(self.generation, query, result.tickets, result.missing, limit)]

    def refilled(self, refill: Refill, page: Page, *, current: bool = True) -> list[Command]:
        if refill.generation != self.generation:
            return []  # a load started meanwhile: its rows are newer, and it is in charge
        self.phase = Phase.IDLE
        more = len(page.tickets) >= refill.limit
        commands = self._show_patched(page.tickets, {**self.users, **page.users}, more)
        if self.again:  # events were missed meanwhile: only a load can say what they were
            self.again = False
            self.waiting.clear()
            return commands + self.load(keep_window=True)
        return commands + self._patch_waiting(current)

    def refill_failed(self) -> list[Command]:
        if self.phase is not Phase.REFILLING:
            return []  # a load is in charge
        self.phase = Phase.IDLE
        self.again = False
        self.waiting.clear()
        return self.load(keep_window=True)  # what the refill and the waiting changes said

    def _show_patched(
        self, tickets: Sequence[Ticket], users: Mapping[ObjectId, User], more: bool
    ) -> list[Command]:
        self.window = Window(tuple(tickets), more)
        self.users = users
        return [Render(tuple(tickets), users, self.store.now())]

    def _patch_waiting(self, current: bool) -> list[Command]:
        """The changes that arrived while the window was read, patched onto it (in order), or
        left for when the queue is back on top (``current``: it is now)."""
        if self.phase is not Phase.IDLE or not self.waiting:
            return []
        waiting, self.waiting = self.waiting, []
        return self.changed(waiting, reload=False, current=current)

    # --- counts and time -------------------------------------------------------------------

    def refresh_counts(self, *, current: bool) -> list[Command]:
        """The view counts due (the counts timer, at most every few seconds while changes
        came in; not while another screen is on top)."""
        if not self.counts_due or not current:
            return []
        # A newer count replaces one still running: it counts that one's views too.
        due = self.counts_due | self.counting
        self.counts_due = set()
        if self.unsettled_at is not None and self.store.now() - self.unsettled_at < COUNTS_SETTLE:
            self.counts_due = set(self.unsettled)  # the lease holder may not have applied it
        self.unsettled, self.unsettled_at = set(), None
        self.counting = due
        self.count_token += 1
        queries = {
            v.key: self.store.query(v, None, self.snoozed) for v in self.views if v.key in due
        }
        return [Count(self.count_token, queries)]

    def counted(self, count: Count, counts: Mapping[str, int]) -> list[Command]:
        if count.token == self.count_token:  # not an earlier count that finished late
            self.counting = set()
        self.counts = {**self.counts, **counts}
        return [ShowCounts()]

    def count_failed(self) -> list[Command]:
        self.counts_due |= self.counting  # counted again on the next pass
        self.counting = set()
        return []

    def tick(self, now: datetime) -> list[Command]:
        """A second passed: no event says that a ticket's at-risk moment passed (look again
        each minute) or that a snooze of mine ended (the ticket is back)."""
        commands: list[Command] = []
        minute = int(now.timestamp() // 60)
        if self.minute not in (None, minute):
            self.counts_due |= {v.key for v in self.views if self.store.breaching(v.query)}
            if self.store.breaching(self.query()):
                commands += self.load(keep_window=True)
        self.minute = minute
        if any(until <= now for until in self.snoozed.values()):
            commands += self.load(keep_window=True)
        return commands

    def _views_moved_by(self, changes: Iterable[ChangeLike], reload: bool) -> set[str]:
        """The views whose counts these changes may have moved: for an update, those that
        filter on a field it touched (a new message moves Needs reply and Breaching, not My
        tickets); for anything else (an insert, a delete, missed events), every view."""
        if reload:
            return self.view_keys()
        touched: set[str] = set()
        for change in changes:
            if change.kind != "update" or not change.updated:
                return self.view_keys()
            touched |= change.updated
        due = set()
        for view in self.views:
            fields = self.store.count_fields(view.query)
            if fields is None or fields & touched:
                due.add(view.key)
        return due
