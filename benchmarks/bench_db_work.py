"""Figure 5 -- database work per action: queries and documents fetched.

The demo's store (mongomock, 300 generated tickets, as ``helpdesk-tui demo`` builds it) with a
counting proxy around each collection the app uses (tickets, users, orders, ticket_events,
counters, presence). mongomock emits no command-monitoring events, so the proxy counts at the
collection API instead: every find / find_one / aggregate / count and every write, the
documents each returned, their BSON size, whether they carried ``messages``, and which
function of the app asked. (Figure 1 counts the same first paint with pymongo's command
monitoring over the wire.)

Actions, each counted from the key press until the app is idle again: open the app, open a
view ("3", All open), open a ticket (enter), back to the queue (escape), one change event
while on the queue, one change event on the open ticket. Polling is set to once an hour so the
feed's own queries (one ``find`` per poll interval) do not land inside an action.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_app, emit, fail, note

READS = ("find", "find_one", "aggregate", "count_documents", "find_one_and_update")
WRITES = ("insert_one", "insert_many", "update_one", "update_many", "delete_one")


@dataclass
class Entry:
    action: str
    collection: str
    op: str
    caller: str
    docs: int = 0
    bytes: int = 0
    with_messages: int = 0


@dataclass
class Log:
    action: str = "setup"
    entries: list[Entry] = field(default_factory=list)

    def of(self, action: str) -> list[Entry]:
        return [e for e in self.entries if e.action == action]


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if "helpdesk_tui" in path and "benchmarks" not in path:
            return f"{Path(path).stem}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


class CountingCursor:
    def __init__(self, cursor: Any, entry: Entry) -> None:
        self._cursor, self._entry = cursor, entry

    def sort(self, *args: Any, **kwargs: Any) -> CountingCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> CountingCursor:
        self._cursor = self._cursor.limit(n)
        return self

    def skip(self, n: int) -> CountingCursor:
        self._cursor = self._cursor.skip(n)
        return self

    def __iter__(self) -> Any:
        for doc in self._cursor:
            _count(self._entry, doc)
            yield doc


def _count(entry: Entry, doc: Any) -> None:
    if isinstance(doc, dict):
        entry.docs += 1
        entry.bytes += len(bson.encode(doc))
        entry.with_messages += "messages" in doc


class CountingCollection:
    """Counts what passes through a (mongomock) collection; delegates everything else."""

    def __init__(self, inner: Any, log: Log) -> None:
        self._inner, self._log = inner, log

    def _entry(self, op: str) -> Entry:
        entry = Entry(self._log.action, self._inner.name, op, _caller())
        self._log.entries.append(entry)
        return entry

    def find(self, *args: Any, **kwargs: Any) -> CountingCursor:
        return CountingCursor(self._inner.find(*args, **kwargs), self._entry("find"))

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        entry = self._entry("aggregate")
        docs = list(self._inner.aggregate(*args, **kwargs))
        for doc in docs:
            _count(entry, doc)
        return iter(docs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in READS + WRITES or not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            entry = self._entry(name)
            result = attr(*args, **kwargs)
            if name in READS:
                _count(entry, result)
            return result

        return counted


async def settle(app: Any, log: Log, quiet: float = 0.4, timeout: float = 20.0) -> None:
    """Until no worker but the feed runs and nothing was queried for ``quiet`` seconds."""
    end = time.monotonic() + timeout
    seen, since = len(log.entries), time.monotonic()
    while time.monotonic() < end:
        await asyncio.sleep(0.05)
        busy = any(w.is_running and w.group != "feed" for w in app.workers)
        if len(log.entries) != seen or busy:
            seen, since = len(log.entries), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def describe(entries: list[Entry]) -> str:
    counts = Counter(f"{e.op} {e.collection} ({e.caller})" for e in entries)
    return "; ".join(f"{n}x {what}" if n > 1 else what for what, n in counts.items())


async def measure() -> Log:
    from helpdesk_tui.app import FeedBatch
    from helpdesk_tui.cli import demo_store
    from helpdesk_tui.config import Config
    from helpdesk_tui.domain.models import Priority
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.screens.ticket import TicketScreen
    from helpdesk_tui.store.live import Batch, Change
    from helpdesk_tui.store.queries import QUEUE_FIELDS
    from helpdesk_tui.store.tickets import TicketStore

    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    store, _ = demo_store(config, tickets=300)
    log = Log()
    for name in ("tickets", "users", "orders", "events", "counters"):
        setattr(store, name, CountingCollection(getattr(store, name), log))
    # Another agent writing through its own store (not counted).
    other = TicketStore(store.db, store.settings)

    def event(ticket_id: Any) -> Any:
        doc = other.set_priority(ticket_id, Priority.URGENT)
        raw = other.tickets.find_one({"_id": ticket_id}, {k: 1 for k in QUEUE_FIELDS})
        assert raw is not None and doc is not None
        change = Change(
            id=ticket_id, kind="update", doc=raw, updated=frozenset({"priority", "updatedAt"})
        )
        return FeedBatch(Batch(changes=(change,)))

    log.action = "open the app"
    app = build_app(store, config=config)
    app.presence.collection = CountingCollection(app.presence.collection, log)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            screen = app.screen
            if isinstance(screen, QueueScreen) and screen.page is not None:
                break
            await asyncio.sleep(0.05)
        await settle(app, log)

        log.action = "open a view (3: All open)"
        await pilot.press("3")
        await settle(app, log)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.view_index == 2

        log.action = "open a ticket (enter)"
        await pilot.press("enter")
        await settle(app, log)
        assert isinstance(app.screen, TicketScreen)

        log.action = "back to the queue (escape)"
        await pilot.press("escape")
        await settle(app, log)

        current = queue.table.current
        assert current is not None and current.id is not None
        message = event(current.id)
        log.action = "one change event, on the queue"
        app.post_message(message)
        await settle(app, log)

        log.action = "setup"
        await pilot.press("enter")
        await settle(app, log)
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        message = event(ticket.ticket_id)
        log.action = "one change event, on the open ticket"
        app.post_message(message)
        await settle(app, log)
        log.action = "setup"
    return log


def main() -> None:
    note("database work per action (mongomock + counting proxies)")
    try:
        log = asyncio.run(measure())
    except Exception as error:
        import traceback

        traceback.print_exc()
        fail("db", "Database work per action", repr(error))
        sys.exit(1)

    rows = [
        ("db.open_app", "open the app", "1 query for the view (+ who am I)", 2),
        ("db.open_view", "open a view (3: All open)", "1 query", 1),
        ("db.open_ticket", "open a ticket (enter)", "1 query", 1),
        ("db.back", "back to the queue (escape)", "0 queries (nothing changed)", 0),
        ("db.event_queue", "one change event, on the queue", "0 queries (event has the doc)", 0),
        ("db.event_ticket", "one change event, on the open ticket", "<= 1 query", 1),
    ]
    for key, action, target, allowed in rows:
        entries = log.of(action)
        reads = [e for e in entries if e.op in READS]
        writes = [e for e in entries if e.op in WRITES]
        docs = sum(e.docs for e in reads)
        size = sum(e.bytes for e in reads)
        emit(
            key,
            f"DB work: {action}",
            target,
            f"{len(reads)} reads, {len(writes)} writes, {docs} docs, {size / 1024:.0f} KiB",
            len(reads) <= allowed,
            len(reads),
            reads=describe(reads),
            writes=describe(writes),
        )
    # The queue's own queries (page, counts): never `messages`. The polling feed is another
    # matter: it asks for the newest message of each changed ticket ($slice: -1), for alerts.
    queue_reads = [
        e
        for e in log.entries
        if e.collection == "tickets"
        and e.op in READS
        and not e.caller.startswith("live.")
        and e.caller not in ("tickets.get_ticket",)
    ]
    carried = [e for e in queue_reads if e.with_messages]
    polled = [e for e in log.entries if e.caller.startswith("live.") and e.with_messages]
    emit(
        "db.queue_messages",
        "DB work: ticket docs with `messages` fetched by queue queries",
        "0",
        f"{sum(e.with_messages for e in carried)} of {sum(e.docs for e in queue_reads)} docs"
        + (f" ({describe(carried)})" if carried else "")
        + f"; feed poll: {sum(e.with_messages for e in polled)} docs with the newest message",
        not carried,
        sum(e.with_messages for e in carried),
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
