"""Shared fixtures: a real server, a fresh database per test, a fixed movable clock, a store.

Which backend a test gets (the rule):

* ``db`` is a fresh database on one SecantusDB server per test session (a real MongoDB
  wire-protocol server in a child process, on a free port, with change streams, started by this
  file, so the README's ``pytest`` needs nothing else). Every store, query, live-feed, app and CLI
  test runs on it through the real pymongo driver.
* mongomock is gone: it lacks operators our queries use (``$type``), change streams and
  per-operation atomicity, and the server is fast enough for every test. Pure logic (SLA,
  models, text, config, alerts) is tested without any database at all.
* ``standalone_db`` is a database on a second server started as a standalone (no replica set),
  for the polling fallback.
* tests/live/test_live_wire.py drives the real driver against a scripted mockupdb server, to pin the
  exact wire shapes (pipelines, resume tokens, error codes) that no real server lets us force.

The server's log is kept (its path is printed) when the session fails.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from bson import ObjectId
from pymongo import MongoClient
from servers import fresh_database, secantus

from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def pytest_configure(config: pytest.Config) -> None:
    """The cycle collector runs a fourteenth as often in a test process. A worker holds
    ~200,000 long-lived objects (the modules, Textual's classes, styles and caches) and every
    app a test drives allocates fast, so at the default threshold (700 allocations) a worker
    spent a fifth of its CPU in collections re-walking them; at 10,000, a tenth. Only when
    garbage is freed changes: no test depends on that (tests/cli/test_launch.py turns the
    collector off and on, not this)."""
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


@pytest.fixture(autouse=True)
def package_log_as_found() -> Iterator[None]:
    """Each test finds the package's logger as a fresh process has it: a test that ran the CLI
    in-process (``crash.route_log``: no propagation, a file handler) must not hide the log
    records of the tests after it in the same worker from ``caplog``."""
    logger = logging.getLogger("helpdesk_tui")
    propagate, handlers, level = logger.propagate, list(logger.handlers), logger.level
    yield
    for handler in [h for h in logger.handlers if h not in handlers]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate, logger.level = propagate, level


if TYPE_CHECKING:
    from helpers import MakeApp

# A Tuesday, mid-morning UTC: every snapshot and SLA figure in the tests counts from here. It lies
# in the future on purpose: a server's TTL monitor expires presence documents by the real clock.
NOW = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock tests move by hand; the store and the app read time only through it."""

    now: datetime = NOW
    calls: int = field(default=0)

    def __call__(self) -> datetime:
        self.calls += 1
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class People:
    customer: ObjectId
    agent: ObjectId
    other_agent: ObjectId
    supervisor: ObjectId


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One SecantusDB server for the whole test session (in-memory storage)."""
    with secantus(tmp_path_factory, "secantus") as server:
        yield server


@pytest.fixture(scope="session")
def client(server: EmbeddedServer) -> Iterator[MongoClient[Any]]:
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True)  # as the app opens its own
    yield client
    client.close()


@pytest.fixture
def db(client: MongoClient[Any]) -> Iterator[Any]:
    """A fresh database on the session's real server, dropped afterwards."""
    with fresh_database(client, "helpdesk_test") as database:
        yield database


@pytest.fixture(scope="session")
def standalone_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoClient[Any]]:
    """A second server that presents itself as a standalone (no change streams: the app polls)."""
    with secantus(tmp_path_factory, "secantus-standalone", standalone=True) as server:
        client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True)
        yield client
        client.close()


@pytest.fixture
def standalone_db(standalone_client: MongoClient[Any]) -> Iterator[Any]:
    with fresh_database(standalone_client, "helpdesk_test") as database:
        yield database


@pytest.fixture
def store(db: Any, clock: FakeClock) -> TicketStore:
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    return store


@pytest.fixture
def people(db: Any) -> People:
    ids = People(ObjectId(), ObjectId(), ObjectId(), ObjectId())
    db.users.insert_many(
        [
            {
                "_id": ids.customer,
                "name": "Carla Customer",
                "email": "carla@example.com",
                "role": "customer",
            },
            {"_id": ids.agent, "name": "Ann Agent", "email": "ann@helpdesk.test", "role": "agent"},
            {
                "_id": ids.other_agent,
                "name": "Bo Agent",
                "email": "bo@helpdesk.test",
                "role": "agent",
            },
            {
                "_id": ids.supervisor,
                "name": "Sam Super",
                "email": "sam@helpdesk.test",
                "role": "supervisor",
            },
        ]
    )
    return ids


def as_service(store: TicketStore, *ticket_ids: Any) -> None:
    """What the running app that holds the queue-index lease does when a write that bypassed our
    store (the Ticket Service's, a hand edit) arrives on its change stream: re-derive those
    tickets' queue-index entries. Tests that write ``tickets`` directly call it to stand in."""
    store.queue.refresh(ticket_ids)


def new_ticket(people: People, **overrides: Any) -> NewTicket:
    fields: dict[str, Any] = {
        "subject": "Parcel never arrived",
        "description": "Ordered two weeks ago, still nothing.",
        "user": people.customer,
        "category": Category.SHIPPING,
        "priority": Priority.HIGH,
    }
    fields.update(overrides)
    return NewTicket(**fields)


# --- the app -------------------------------------------------------------------------------


@pytest.fixture
def demo_store(db: Any, clock: FakeClock) -> TicketStore:
    """A store on the demo generator's data (small: 60 tickets), as of the fixed clock."""
    from helpdesk_tui.demo import seed

    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    # Without the seed's audit history: the tests read the trail the app writes.
    seed.load(store, seed.generate(clock.now, tickets=60, customers=30, seed=7), history=False)
    return store


@pytest.fixture
async def make_app(tmp_path: Any) -> AsyncIterator[MakeApp]:
    """Build a HelpdeskApp on a store as a given staff member, drafts in a temp dir.

    Every app's feed thread is stopped afterwards, even after a crash: a crashed app skips its
    own unmount, and a parked feed thread would keep the event loop from closing. (An async
    fixture, so its teardown runs before the loop closes.)
    """
    from helpdesk_tui.app import HelpdeskApp
    from helpdesk_tui.config import Config
    from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
    from helpdesk_tui.domain.people import Identity
    from helpdesk_tui.drafts import Drafts
    from helpdesk_tui.store.early import EarlyStart

    apps: list[HelpdeskApp] = []

    def make(
        store: TicketStore,
        email: str = DEMO_AGENT_EMAIL,
        *,
        read_only: bool = False,
        config: Config | None = None,
        undo_seconds: float | None = 0.0,
        early: EarlyStart | None = None,
    ) -> HelpdeskApp:
        """``undo_seconds``: the reply hold (undo send) is off unless a test asks for it, so
        ctrl+s writes at once; None keeps what ``config`` says."""
        config = config or Config()
        if undo_seconds is not None:
            reply = config.reply.model_copy(update={"undo_seconds": undo_seconds})
            config = config.model_copy(update={"reply": reply})
        user = store.user_by_email(email)
        me = Identity.from_user(
            user,
            agent_roles=config.roles.agent,
            supervisor_roles=config.roles.supervisor,
            read_only=read_only,
        )
        drafts = Drafts(tmp_path / "drafts", me.id)
        app = HelpdeskApp(store=store, config=config, me=me, demo=True, drafts=drafts, early=early)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.feed.stop()
