"""Figure 5 -- database work per action: commands the app sends and documents they return.

The demo's data (300 generated tickets, as ``helpdesk-tui demo`` builds them) on SecantusDB (a
MongoDB wire-compatible server in a child process, ``EmbeddedServer``), with the app's client
carrying a pymongo ``CommandListener``: every command the app sends is recorded with the action
it fell in, the thread that sent it, the function of the app that asked (the listener's
``started`` runs on the sending thread, so the stack names it), the documents in its reply
(``firstBatch`` / ``nextBatch``), their BSON size and whether they carried ``messages``.

Actions, each counted from the key press until the app is idle again: open the app, open a view
("3", All open), open a ticket (enter), back to the queue (escape), one change event while on
the queue, one change event on the open ticket (each observed until the queue's counts timer has
run once after it: the counts an event marks stale are read on that timer). SecantusDB is a
replica set, so the app's live feed follows a real change stream: the events are real writes by
another client (not counted) and arrive as the app really receives them, a ``FeedBatch`` from
the stream whose ``Change.doc`` carries the row fields. The feed thread's own commands (the
stream's ``getMore``, the queue index upkeep of the lease holder) are counted apart from the
app's: they do not scale with the screens open. These are counts of work; SecantusDB's timings
are not reported here.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson
from pymongo import MongoClient, monitoring

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_app, emit, fail, note

READS = ("find", "aggregate", "count", "distinct", "getMore")
WRITES = ("insert", "update", "delete", "findAndModify")
QUIET = ("hello", "isMaster", "ismaster", "endSessions", "ping", "killCursors")


@dataclass
class Entry:
    action: str
    collection: str
    op: str
    caller: str
    feed: bool
    docs: int = 0
    bytes: int = 0
    with_messages: int = 0


@dataclass
class Log(monitoring.CommandListener):
    action: str = "setup"
    entries: list[Entry] = field(default_factory=list)
    feed_thread: set[int] = field(default_factory=set)
    _pending: dict[tuple[Any, int], Entry] = field(default_factory=dict)

    def of(self, action: str, *, feed: bool = False) -> list[Entry]:
        return [e for e in self.entries if e.action == action and e.feed == feed]

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in QUIET:
            return
        target = event.command.get(event.command_name)
        collection = event.command.get("collection") if event.command_name == "getMore" else target
        entry = Entry(
            self.action,
            str(collection) if isinstance(collection, str) else "-",
            event.command_name,
            _caller(),
            threading.get_ident() in self.feed_thread,
        )
        self.entries.append(entry)
        self._pending[(event.connection_id, event.request_id)] = entry

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        entry = self._pending.pop((event.connection_id, event.request_id), None)
        if entry is None:
            return
        cursor = event.reply.get("cursor")
        if isinstance(cursor, dict):
            for doc in cursor.get("firstBatch", cursor.get("nextBatch", [])):
                entry.docs += 1
                entry.bytes += len(bson.encode(doc))
                entry.with_messages += isinstance(doc, dict) and "messages" in doc
        elif entry.op == "findAndModify" and isinstance(event.reply.get("value"), dict):
            entry.docs += 1
            entry.bytes += len(bson.encode(event.reply["value"]))
        elif entry.op == "count":
            entry.docs += 0

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._pending.pop((event.connection_id, event.request_id), None)


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if "helpdesk_tui" in path and "benchmarks" not in path:
            return f"{Path(path).stem}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


async def settle(app: Any, log: Log, quiet: float = 0.6, timeout: float = 30.0) -> None:
    """Until no worker but the feed runs and the app sent nothing for ``quiet`` seconds."""
    end = time.monotonic() + timeout
    seen = len([e for e in log.entries if not e.feed])
    since = time.monotonic()
    while time.monotonic() < end:
        await asyncio.sleep(0.05)
        now_seen = len([e for e in log.entries if not e.feed])
        busy = any(w.is_running and w.group != "feed" for w in app.workers)
        if now_seen != seen or busy:
            seen, since = now_seen, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def describe(entries: list[Entry]) -> str:
    counts = Counter(f"{e.op} {e.collection} ({e.caller})" for e in entries)
    return "; ".join(f"{n}x {what}" if n > 1 else what for what, n in counts.items())


async def measure() -> tuple[Log, dict[str, Any]]:
    from helpdesk_tui.cli import demo_store
    from helpdesk_tui.config import Config
    from helpdesk_tui.domain.models import Priority
    from helpdesk_tui.screens.queue import COUNTS_REFRESH_SECONDS, QueueScreen
    from helpdesk_tui.screens.ticket import TicketScreen
    from helpdesk_tui.store.tickets import TicketStore

    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    seeded, _, server = demo_store(config, tickets=300)  # seeding is not counted
    info: dict[str, Any] = {}
    try:
        log = Log()
        client: Any = MongoClient(
            server.uri, appname="helpdesk-tui", tz_aware=True, event_listeners=[log]
        )
        store = TicketStore(client[config.mongo.database], seeded.settings)
        other = seeded  # another agent / the Ticket Service, on its own client (not counted)
        received: list[Any] = []

        def event(ticket_id: Any) -> None:
            other.set_priority(ticket_id, Priority.URGENT)

        log.action = "open the app"
        app = build_app(store, config=config)
        original = app._from_feed

        def from_feed(batch: Any) -> None:
            received.extend(c.id for c in batch.changes)
            original(batch)

        app.feed.emit = from_feed
        run_feed = app.feed.run

        def feed_run() -> None:
            log.feed_thread.add(threading.get_ident())
            run_feed()

        app.feed.run = feed_run  # type: ignore[method-assign]
        painted = app.queue_painted

        def first_rows() -> None:  # what was asked before the first rows were painted
            info.setdefault("first_rows", len(log.entries))
            painted()

        app.queue_painted = first_rows  # type: ignore[method-assign]
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(400):
                screen = app.screen
                if isinstance(screen, QueueScreen) and screen.page is not None:
                    break
                await asyncio.sleep(0.05)
            await settle(app, log)
            info["feed_mode"] = str(app.feed.mode)

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

            for action, target in (
                ("one change event, on the queue", lambda: queue.table.current.id),
                ("one change event, on the open ticket", None),
            ):
                if target is None:
                    log.action = "setup"
                    await pilot.press("enter")
                    await settle(app, log)
                    ticket = app.screen
                    assert isinstance(ticket, TicketScreen)
                    ticket_id = ticket.ticket_id
                else:
                    ticket_id = target()
                assert ticket_id is not None
                received.clear()
                log.action = action
                event(ticket_id)
                end = time.monotonic() + 15
                while ticket_id not in received and time.monotonic() < end:
                    await asyncio.sleep(0.05)
                info[action] = ticket_id in received
                # An event marks the counts stale; the queue reads them on its timer: wait for
                # it, so that the work the event causes is in the action.
                await asyncio.sleep(COUNTS_REFRESH_SECONDS + 1)
                await settle(app, log)
            log.action = "setup"
        client.close()
    finally:
        seeded.db.client.close()
        server.stop()
    return log, info


def main() -> None:
    note("database work per action (SecantusDB + pymongo command monitoring)")
    try:
        log, info = asyncio.run(measure())
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
        (
            "db.event_queue",
            "one change event, on the queue",
            "0 queries (event has the doc; counts timer aside)",
            0,
        ),
        ("db.event_ticket", "one change event, on the open ticket", "<= 1 query", 1),
    ]
    for key, action, target, allowed in rows:
        entries = log.of(action)
        reads = [e for e in entries if e.op in READS]
        writes = [e for e in entries if e.op in WRITES]
        feed = log.of(action, feed=True)
        docs = sum(e.docs for e in reads)
        size = sum(e.bytes for e in reads)
        arrived = info.get(action, True)
        if not arrived:
            fail(key, f"DB work: {action}", "the change event never reached the app")
            continue
        # After an event the counts are read on the queue's timer (once per 5 s, however many
        # events came): shown, and not held against the event's own target.
        timer = [
            e
            for e in reads
            if key.startswith("db.event") and e.caller.endswith(("count_views", "_count_index"))
        ]
        early: list[Entry] = []
        if key == "db.open_app" and "first_rows" in info:
            early = [
                e
                for e in log.entries[: info["first_rows"]]
                if e.action == action and not e.feed and e.op in READS
            ]
        emit(
            key,
            f"DB work (commands counted, SecantusDB): {action}",
            target,
            (f"{len(early)} read commands before the first rows, " if early else "")
            + f"{len(reads)} read commands"
            + (" in all (counts, presence, alerts after the rows)" if early else "")
            + (f" ({len(timer)} of them the counts timer)" if timer else "")
            + f", {len(writes)} writes, {docs} docs, {size / 1024:.0f} KiB"
            + (f"; feed thread: {len(feed)} commands" if feed else ""),
            len(early or reads) - len(timer) <= allowed,
            len(early or reads),
            reads=describe(reads),
            before_first_rows=describe(early),
            writes=describe(writes),
            feed=describe(feed),
        )
    # The queue's own reads (page, counts, rows): never `messages`.
    queue_reads = [
        e
        for e in log.entries
        if not e.feed
        and e.op in READS
        and e.collection in ("tickets", "queue_index")
        and e.caller not in ("tickets.get_ticket", "opened.ticket_and_history")
    ]
    carried = [e for e in queue_reads if e.with_messages]
    emit(
        "db.queue_messages",
        "DB work: ticket docs with `messages` fetched by queue queries",
        "0",
        f"{sum(e.with_messages for e in carried)} of {sum(e.docs for e in queue_reads)} docs"
        + (f" ({describe(carried)})" if carried else ""),
        not carried,
        sum(e.with_messages for e in carried),
        feed_mode=info.get("feed_mode"),
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
