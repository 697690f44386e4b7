"""Shared fixtures: a fresh mongomock database, a fixed movable clock, a store, seeded people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from bson import ObjectId

from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

# A Tuesday, mid-morning UTC: every snapshot and SLA figure in the tests counts from here. It lies
# in the future on purpose: mongomock expires TTL-indexed documents (presence) by the real clock.
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


@pytest.fixture
def db() -> Iterator[Any]:
    client: Any = mongomock.MongoClient(tz_aware=True)  # as the app opens its clients
    yield client["helpdesk_test"]
    client.close()


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
    seed.load(store, seed.generate(clock.now, tickets=60, customers=30, seed=7))
    return store


@pytest.fixture
async def make_app(tmp_path: Any) -> Any:
    """Build a HelpdeskApp on a store as a given staff member, drafts in a temp dir.

    Every app's feed thread is stopped afterwards, even after a crash: a crashed app skips its
    own unmount, and a parked feed thread would keep the event loop from closing. (An async
    fixture, so its teardown runs before the loop closes.)
    """
    apps: list[Any] = []
    from helpdesk_tui.app import HelpdeskApp
    from helpdesk_tui.config import Config
    from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
    from helpdesk_tui.domain.people import Identity
    from helpdesk_tui.drafts import Drafts

    def make(
        store: TicketStore,
        email: str = DEMO_AGENT_EMAIL,
        *,
        read_only: bool = False,
        config: Config | None = None,
    ) -> HelpdeskApp:
        config = config or Config()
        user = store.user_by_email(email)
        me = Identity.from_user(
            user,
            agent_roles=config.roles.agent,
            supervisor_roles=config.roles.supervisor,
            read_only=read_only,
        )
        drafts = Drafts(tmp_path / "drafts", me.id)
        app = HelpdeskApp(store=store, config=config, me=me, demo=True, drafts=drafts)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.feed.stop()
