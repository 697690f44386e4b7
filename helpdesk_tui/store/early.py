"""The start view's first screenful, read while the UI is still being imported and built
(issue 14).

Before the first rows the interpreter spends most of a second importing Textual and building
the screens, and the database work those rows need (my snoozes, the view's page, the people it
names) needs none of that. So the CLI starts that work in a thread first, and the queue's first
load takes its result instead of asking again: the round trips to a distant server, and the
server's own time, overlap the start-up instead of following it. It reads one screenful (the
terminal's rows): the queue paints it and reads its whole window right after, holding the keys
typed meanwhile for that window.

Nothing falls between that page and the live feed: the thread opens a change stream *before*
it reads the page and keeps the stream's resume token; the feed's stream later resumes from
that token (``LiveFeed.starting_point``), so every write after the page was read arrives as an
event, and the queue patches it onto the window as it does any event. If there is no token (no
change streams: the feed polls) or anything fails, there is no early page and the queue reads
its first page the usual way, reporting what fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import User
from helpdesk_tui.store.live import stream_pipeline, supports_change_streams
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.snooze import with_snoozes
from helpdesk_tui.store.tickets import QueuePage, TicketStore

# How long the feed waits for the starting point, and the queue for the page, before each goes
# its usual way (a server that slow fails the usual way too, and says so).
WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class FirstPage:
    """The start view's first page, as the queue's first load would have read it."""

    key: str
    query: QueueQuery  # the view's query before my snoozes are taken out
    limit: int
    page: QueuePage
    users: dict[ObjectId, User]
    now: datetime
    snoozed: dict[ObjectId, datetime]


class EarlyStart:
    """Reads the start view's first page in a thread; handed to the app (see the module doc)."""

    def __init__(
        self,
        store: TicketStore,
        me: ObjectId | None,
        start_view: Callable[[], tuple[str, QueueQuery]],
        limit: int,
    ) -> None:
        self._store, self._me, self._start_view, self._limit = store, me, start_view, limit
        self._token: Mapping[str, Any] | None = None
        self._page: FirstPage | None = None
        self._token_ready = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._given_up = False  # the feed started without the token: the page may not be used
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="first page", daemon=True)

    def start(self) -> EarlyStart:
        self._thread.start()
        return self

    def _run(self) -> None:
        store = self._store
        try:
            if not supports_change_streams(store):
                return
            # The app's feed takes the lease (and catches the index up, reloading the views if
            # that changes an entry): the page reads the index as it is (IndexMaintainer.starting).
            store.queue.held = True
            with store.tickets.watch(stream_pipeline(), full_document="updateLookup") as stream:
                token = stream.resume_token  # where the server's history stands now
            if token is None:
                return
            self._token = token
            self._token_ready.set()
            key, base = self._start_view()
            snoozed = store.snoozes.active(self._me) if self._me is not None else {}
            page = store.list_queue(with_snoozes(key, base, snoozed), limit=self._limit)
            users = store.people_of(page.tickets)
            self._page = FirstPage(key, base, self._limit, page, users, store.now(), snoozed)
        except Exception:  # the queue's own first load asks again, and reports what fails
            self._page = None
        finally:
            self._token_ready.set()
            self._done.set()

    def wait(self, timeout: float = WAIT_SECONDS) -> bool:
        """Until the page is read (or given up on); False if still reading after ``timeout``."""
        return self._done.wait(timeout)

    def starting_point(self, timeout: float = WAIT_SECONDS) -> Mapping[str, Any] | None:
        """The resume token the feed's stream starts from (None: start from now, and then the
        early page is not used)."""
        self._token_ready.wait(timeout)
        with self._lock:
            if self._token is None:
                self._given_up = True
            return self._token

    def take(
        self, key: str, query: QueueQuery, limit: int, timeout: float = WAIT_SECONDS
    ) -> FirstPage | None:
        """The early page if it is the one asked for (once): same view and query, at most
        ``limit`` rows (a first screenful, the rest read after it); None: read it the usual way."""
        with self._lock:
            if self._taken:
                return None
            self._taken = True
        self._done.wait(timeout)
        with self._lock:
            page = self._page if not self._given_up else None
        if page is None or (page.key, page.query) != (key, query) or page.limit > limit:
            return None
        return page
