"""End to end on a real server (SecantusDB in a child process, see conftest.py).

The live feed across a server restart (resumed with its token: nothing missed, nothing doubled,
a write made while the app was cut off still arrives), presence expiring through a real TTL
index, and several processes writing one ticket set at once (true parallelism, not threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import procs
import pytest
from bson import ObjectId
from conftest import NOW, FakeClock, People, new_ticket
from helpers import Recorder  # the feed's emit, thread-safe
from pymongo import MongoClient, monitoring

from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.live import FeedMode, LiveFeed
from helpdesk_tui.store.presence import EXPIRE_AFTER_SECONDS, PresenceStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

WAIT = 30.0  # bound of every wait: a restart takes a few seconds on a loaded machine


def wait_until(condition: Callable[[], bool], what: str, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of this test's own, on disk, so it can be stopped and started again."""
    server = EmbeddedServer(storage=tmp_path / "data", log_path=tmp_path / "secantusd.log")
    server.start()
    yield server
    server.kill()  # no graceful 2 s stop: nobody reads its data again (servers.done)


@contextmanager
def following(feed: LiveFeed) -> Iterator[None]:
    thread = threading.Thread(target=feed.run, name="live-feed-e2e", daemon=True)
    thread.start()
    try:
        assert feed.ready.wait(WAIT), "the feed never became ready"
        yield
    finally:
        feed.stop()
        thread.join(WAIT)
        assert not thread.is_alive(), "the feed thread did not stop"


def open_store(uri: str, clock: FakeClock) -> tuple[MongoClient[Any], TicketStore]:
    client: MongoClient[Any] = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=WAIT * 1000)
    store = TicketStore(client["helpdesk"], StoreSettings(), clock=clock)
    return client, store


def test_the_feed_resumes_after_a_server_restart_missing_nothing_and_doubling_nothing(
    own_server: EmbeddedServer, clock: FakeClock
) -> None:
    app_client, app_store = open_store(own_server.uri, clock)
    other_client, other = open_store(own_server.uri, clock)
    app_store.init_db()
    people = People(ObjectId(), ObjectId(), ObjectId(), ObjectId())
    recorder = Recorder()
    feed = LiveFeed(app_store, emit=recorder, poll_interval=0.2)
    try:
        with following(feed):
            assert feed.mode is FeedMode.LIVE
            before = other.create_ticket(new_ticket(people, subject="before the restart"))
            wait_until(lambda: before.id in {c.id for c in recorder.changes}, "the first event")
            token = feed.resume_token
            assert token is not None

            pid = own_server.pid
            own_server.restart()
            assert own_server.pid != pid
            # Written by another client right after the restart, before the app's feed is back.
            during = other.create_ticket(new_ticket(people, subject="while the app was cut off"))
            other.add_message(during.id, sender=people.agent, content="and answered")
            wait_until(
                lambda: sum(c.id == during.id for c in recorder.changes) >= 2, "the missed writes"
            )
            after = other.create_ticket(new_ticket(people, subject="after"))
            wait_until(lambda: after.id in {c.id for c in recorder.changes}, "a later write")
            assert feed.mode is FeedMode.LIVE

        kinds = [(c.id, c.kind) for c in recorder.changes]
        assert kinds == [
            (before.id, "insert"),
            (during.id, "insert"),
            (during.id, "update"),
            (after.id, "insert"),
        ]
        # Resumed with the token (by the driver, or by the feed's own loop), not reopened
        # afresh: no batch asked the views to reload.
        assert not any(b.reload for b in recorder.batches)
        modes = [b.mode for b in recorder.batches if b.mode is not None]
        assert modes[-1] is FeedMode.LIVE
    finally:
        app_client.close()
        other_client.close()


def test_presence_of_a_client_that_died_is_removed_by_the_servers_ttl_index(db: Any) -> None:
    now = FakeClock(now=datetime.now(tz=UTC))  # the TTL monitor expires by the real clock
    presence = PresenceStore(db, clock=now)
    presence.init()
    ticket, alive, dead = ObjectId(), ObjectId(), ObjectId()
    presence.beat(ticket, alive, "Ana", "viewing")
    now.advance(seconds=-(EXPIRE_AFTER_SECONDS + 60))  # its last heartbeat, long ago
    presence.beat(ticket, dead, "Bo", "replying")
    assert db.presence.count_documents({}) == 2

    # The server's TTL monitor runs once a minute (as mongod's); SecantusDB's admin command runs
    # that same sweep now, so the test need not wait for it.
    db.client.admin.command({"secantusAdmin.pruneTtl": 1})

    assert db.presence.count_documents({"agent": dead}) == 0
    assert db.presence.count_documents({"agent": alive}) == 1
    assert db.presence.index_information()["presence_ttl"]["expireAfterSeconds"] == (
        EXPIRE_AFTER_SECONDS
    )


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=4, mp_context=get_context("spawn")) as executor:
        yield executor


def test_processes_replying_to_one_ticket_at_once_lose_no_message(
    store: TicketStore, people: People, server: EmbeddedServer, pool: ProcessPoolExecutor
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    agents = [str(ObjectId()) for _ in range(4)]

    jobs = [
        pool.submit(procs.reply_many, server.uri, store.db.name, str(ticket.id), agent, 15)
        for agent in agents
    ]
    assert [job.result(timeout=120) for job in jobs] == [15] * 4

    doc = store.tickets.find_one({"_id": ticket.id})
    assert doc is not None
    contents = [m["content"] for m in doc["messages"]]
    assert sorted(contents) == sorted(f"{a} #{i}" for a in agents for i in range(15))
    assert len({m["_id"] for m in doc["messages"]}) == 60
    assert doc["__v"] == 60
    for agent in agents:  # each writer's messages in its own order
        mine = [c for c in contents if c.startswith(agent)]
        assert mine == [f"{agent} #{i}" for i in range(15)]


def test_processes_taking_the_same_tickets_get_one_winner_each(
    store: TicketStore, people: People, server: EmbeddedServer, pool: ProcessPoolExecutor
) -> None:
    tickets = [str(store.create_ticket(new_ticket(people)).id) for _ in range(30)]
    agents = [str(ObjectId()) for _ in range(4)]

    jobs = [pool.submit(procs.take_each, server.uri, store.db.name, tickets, a) for a in agents]
    won = {agent: job.result(timeout=120) for agent, job in zip(agents, jobs, strict=True)}

    winners = [t for ids in won.values() for t in ids]
    assert sorted(winners) == sorted(tickets)  # every ticket taken exactly once
    for agent, ids in won.items():
        for ticket in ids:
            doc = store.tickets.find_one({"_id": ObjectId(ticket)})
            assert doc is not None and doc["assignedTo"] == ObjectId(agent)
    assigns = store.db.ticket_events.count_documents({"action": "assign"})
    assert assigns == 30


def test_processes_taking_next_share_the_unassigned_tickets_without_overlap(
    store: TicketStore, people: People, server: EmbeddedServer, pool: ProcessPoolExecutor
) -> None:
    tickets = {str(store.create_ticket(new_ticket(people)).id) for _ in range(24)}
    agents = [str(ObjectId()) for _ in range(4)]

    jobs = [pool.submit(procs.take_next_until_empty, server.uri, store.db.name, a) for a in agents]
    won = [job.result(timeout=120) for job in jobs]

    taken = [t for ids in won for t in ids]
    assert len(taken) == len(set(taken)) == 24
    assert set(taken) == tickets
    assert store.tickets.count_documents({"assignedTo": None, "status": Status.OPEN.value}) == 0


def test_an_event_carries_everything_a_queue_row_shows(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    """The stream's own expressions give the row's message-derived fields: no read per event."""
    ticket = store.create_ticket(new_ticket(people))
    recorder = Recorder()
    feed = LiveFeed(store, emit=recorder, poll_interval=0.2)
    with following(feed):
        # Each event seen before the next write: ``updateLookup`` gives the document as it is
        # when the event is read, so events read together would all show the last state.
        for sender, content, internal in [
            (people.customer, "more detail", False),
            (people.agent, "note", True),
            (people.agent, "on it", False),
            (people.customer, "thanks", False),
        ]:
            seen = len(recorder.changes)
            clock.advance(minutes=5)
            store.add_message(ticket.id, sender=sender, content=content, internal=internal)
            wait_until(lambda seen=seen: len(recorder.changes) > seen, f"the event of {content!r}")
        store.tickets.delete_one({"_id": ticket.id})
        wait_until(lambda: len(recorder.changes) >= 5, "the delete")

    from helpdesk_tui.domain.models import Ticket

    rows = [Ticket.from_mongo(c.doc) for c in recorder.changes[:4] if c.doc is not None]
    assert len(rows) == 4
    last = rows[-1]
    assert last.message_count == 4
    assert last.first_response_at == NOW + timedelta(minutes=15)
    assert last.last_message_at == NOW + timedelta(minutes=20)
    assert last.last_message_from_customer is True
    # An internal note was last, but notes answer nobody: still the customer's turn.
    assert rows[1].last_message_from_customer is True
    assert rows[1].first_response_at is None
    assert recorder.changes[-1].kind == "delete" and recorder.changes[-1].doc is None


class GetMores(monitoring.CommandListener):
    """Counts the getMore commands a client sends."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count += event.command_name == "getMore"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_writes_elsewhere_in_the_database_do_not_make_the_feed_ask_again_each_time(
    server: EmbeddedServer, store: TicketStore, people: People, clock: FakeClock
) -> None:
    """A waiting getMore is answered by any write to the database (the queue index, presence,
    audit), mostly with nothing for the feed; each app asking again at once multiplied the
    server's work per ticket update by the writes that follow it. Every event still arrives."""
    tickets = [store.create_ticket(new_ticket(people)).id for _ in range(10)]
    asks = GetMores()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[asks])
    recorder = Recorder()
    feed = LiveFeed(TicketStore(client[store.db.name], StoreSettings(), clock=clock), recorder)
    try:
        with following(feed):
            before = asks.count
            for ticket in tickets:
                store.add_message(ticket, sender=people.customer, content="still broken")
                for n in range(3):  # what an update brings: other collections written after it
                    time.sleep(0.02)
                    store.db.elsewhere.update_one({"_id": n}, {"$inc": {"n": 1}}, upsert=True)
            wait_until(lambda: len(recorder.changes) >= len(tickets), "an event per update")
            during = asks.count - before
    finally:
        client.close()
    assert [c.id for c in recorder.changes] == tickets
    # Asked again at every write: four getMores or more per update (40 here).
    assert during < 2 * len(tickets), f"{during} getMores for {len(tickets)} updates"
