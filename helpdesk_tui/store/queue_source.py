"""The queue's reads and a view's rules, as the queue's model asks for them
(``models/queue.py`` ``QueueStore``): the window, a refill, the next page, the view counts,
and how a change event patches a window (store/window.py)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bson import ObjectId

from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.models.queue import ChangeLike, Loaded, Page, Patched, Sort, ViewLike
from helpdesk_tui.store.early import EarlyStart
from helpdesk_tui.store.queries import QueueQuery, count_fields
from helpdesk_tui.store.snooze import with_snoozes
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.store.window import can_patch, complete, merge_refill, patch, refill_span, row_doc

# The view's first query waits at most this long for the change stream to open.
FEED_READY_SECONDS = 5


class QueueSource:
    """One agent's queue reads (``me``), on ``store``."""

    def __init__(
        self,
        store: TicketStore,
        me: ObjectId,
        *,
        feed_ready: threading.Event | None = None,
        early: EarlyStart | None = None,
    ) -> None:
        self._store = store
        self._me = me
        self._feed_ready = feed_ready
        self._early = early

    # --- a view's rules (the event loop) ---------------------------------------------------

    def now(self) -> datetime:
        return self._store.now()

    def index_held(self) -> bool:
        return self._store.queue.held

    def query(
        self, view: ViewLike, sort: Sort | None, snoozed: Mapping[ObjectId, datetime]
    ) -> QueueQuery:
        return with_snoozes(view.key, self._sorted(view, sort), dict(snoozed))

    @staticmethod
    def _sorted(view: ViewLike, sort: Sort | None) -> QueueQuery:
        query: QueueQuery = view.query
        return replace(query, sort=sort or query.sort)

    def count_fields(self, query: QueueQuery) -> frozenset[str] | None:
        return count_fields(query)

    def breaching(self, query: QueueQuery) -> bool:
        return query.breaching

    def patch(
        self,
        window: Sequence[Ticket],
        changes: Sequence[ChangeLike],
        query: QueueQuery,
        *,
        limit: int,
        has_more: bool,
    ) -> Patched | None:
        events = [(c.id, c.kind, dict(c.doc) if c.doc else None) for c in changes]
        if not can_patch(query) or any(
            kind != "delete" and not complete(doc) for _, kind, doc in events
        ):
            return None
        result = patch(
            window,
            {t.id: row_doc(t) for t in window},
            events,
            query,
            limit=limit,
            has_more=has_more,
            now=self._store.now(),
            policy=self._store.settings.sla,
        )
        return Patched(result.tickets, result.missing, result.has_more, bool(result.changed))

    # --- reads (a worker thread) -----------------------------------------------------------

    def load(self, view: ViewLike, sort: Sort | None, limit: int, *, early: bool) -> Loaded:
        store, base = self._store, self._sorted(view, sort)
        # The start view's first page may have been read while the app was starting.
        if early and self._early is not None:
            first = self._early.take(view.key, base, limit)
            if first is not None:
                partial = first.limit < limit and first.page.has_more
                page = first.page
                return Loaded(
                    page.tickets, page.has_more, first.users, first.now, first.snoozed, partial
                )
        if self._feed_ready is not None:
            self._feed_ready.wait(timeout=FEED_READY_SECONDS)  # the stream is open first
        snoozed = store.snoozes.active(self._me)
        page = store.list_queue(with_snoozes(view.key, base, snoozed), limit=limit)
        users = store.people_of(page.tickets)
        return Loaded(page.tickets, page.has_more, users, store.now(), snoozed)

    def refill(self, query: QueueQuery, window: Sequence[Ticket], missing: int, limit: int) -> Page:
        store, rows = self._store, list(window)
        if missing:
            skip, span = refill_span(len(rows), missing)
            fetched = store.list_queue(query, skip=skip, limit=span).tickets
            rows = merge_refill(rows, fetched, query, limit=limit, policy=store.settings.sla)
        return Page(tuple(rows), store.people_of(rows))

    def more(self, query: QueueQuery, skip: int, limit: int) -> Page:
        page = self._store.list_queue(query, skip=skip, limit=limit)
        return Page(page.tickets, self._store.people_of(page.tickets), page.has_more)

    def count_views(self, queries: Mapping[str, QueueQuery]) -> dict[str, int]:
        return self._store.count_views(queries)
