"""The view counts are index-only on MongoDB (issue 14: "counts examine no documents").

Decision: no maintained counters. Each count is a ``count_documents`` on ``queue_index`` whose
filter only names fields of one index ``init-db`` creates, equality on a prefix of its keys and
at most one range right after it (``riskAt`` for Breaching) or ``_id`` (the last key of every
deadline index, for my snoozed tickets). MongoDB answers such a count from the index alone
(a COUNT_SCAN, or a covered IXSCAN for ``_id $in``): keys, no documents. That is asserted here on
the commands the store really sends, for every standard view, with and without snoozed tickets.

SecantusDB does not count from an index alone (it FETCHes every matched entry:
``totalDocsExamined`` equals the view's size, see benchmarks/README.md); what it examines is the
view's own entries in ``queue_index`` (small documents), never ``tickets``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock
from pymongo import MongoClient, monitoring

from helpdesk_tui.demo import seed
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.queue_index import index_plan
from helpdesk_tui.store.snooze import with_snoozes
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.views import standard_views

RANGE = frozenset(("$lt", "$lte", "$gt", "$gte"))


class Counts(monitoring.CommandListener):
    def __init__(self) -> None:
        self.filters: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        if event.command_name == "aggregate" and command.get("aggregate") == "queue_index":
            stages = command["pipeline"]
            assert "$match" in stages[0] and "$group" in stages[-1], stages
            self.filters.append(stages[0]["$match"])
        elif event.command_name == "count":
            self.filters.append(command.get("query", {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def index_only(where: dict[str, Any], keys: list[str]) -> bool:
    """Whether an index with these keys answers a count of ``where`` without documents."""
    fields = list(where)
    if not set(fields) <= set(keys):
        return False
    prefix = 0
    while prefix < len(keys) and keys[prefix] in where and _equality(where[keys[prefix]]):
        prefix += 1
    rest = sorted((f for f in fields if keys.index(f) >= prefix), key=keys.index)
    if rest and keys.index(rest[0]) == prefix and _range(where[rest[0]]):
        rest = rest[1:]  # one range right after the equalities
    # Then at most ``_id``, the index's last key: its values are read from the keys (no fetch).
    return not rest or (rest == ["_id"] and keys[-1] == "_id" and _ids(where["_id"]))


def _equality(value: Any) -> bool:
    # Not null: MongoDB 6 cannot count ``{field: null}`` from the keys (null matches a missing
    # field too; "no fields in the query are equal to null" for a covered query).
    return not isinstance(value, dict) and value is not None


def _range(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= RANGE


def _ids(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= {"$in", "$nin"}


@pytest.fixture
def watched(server: EmbeddedServer, clock: FakeClock) -> Iterator[tuple[TicketStore, Counts]]:
    counts = Counts()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[counts])
    db = client[f"count_shapes_{ObjectId()}"]
    store = TicketStore(db, clock=clock)
    store.init_db()
    seed.load(store, seed.generate(clock.now, tickets=80, customers=20, seed=3))
    yield store, counts
    client.drop_database(db.name)
    client.close()


@pytest.mark.parametrize("snoozed", [False, True], ids=["no snoozes", "two snoozed"])
def test_every_views_count_is_answered_by_one_index_alone(
    watched: tuple[TicketStore, Counts], clock: FakeClock, snoozed: bool
) -> None:
    store, counts = watched
    me = store.user_by_email(seed.DEMO_AGENT_EMAIL).id
    views = standard_views(me)
    hidden = {}
    if snoozed:
        mine = store.list_queue(views[0].query, limit=2).tickets
        hidden = {t.id: clock.now + timedelta(hours=1) for t in mine if t.id}
        assert hidden
    store.count_views({v.key: with_snoozes(v.key, v.query, hidden) for v in views})

    assert counts.filters
    plan = [[k for k, _ in keys] for keys, _ in index_plan()] + [["_id"]]
    for where in counts.filters:
        assert any(index_only(where, keys) for keys in plan), where


def test_a_count_that_would_read_documents_is_told_apart() -> None:
    """The rule above is not vacuous: a filter outside an index, or a range before an equality."""
    keys = ["phase", "rank", "riskAt"]
    assert index_only({"phase": "active", "rank": 0, "riskAt": {"$lt": 1}}, keys)
    assert not index_only({"phase": "active", "subject": "x"}, keys)
    assert not index_only({"phase": "active", "riskAt": {"$lt": 1}}, keys)
    assert not index_only({"rank": {"$lt": 1}, "riskAt": {"$lt": 1}}, keys)
    assert not index_only({"phase": "active", "_id": {"$in": [1]}}, keys)  # no _id in it
    assert not index_only({"phase": None, "rank": 0}, keys)  # null: a fetch tells it apart


def test_init_db_replaces_the_older_breaching_index(watched: tuple[TicketStore, Counts]) -> None:
    store, _ = watched
    store.queue.entries.create_index(
        [("phase", 1), ("rank", 1), ("riskAt", 1)], name="qi_phase_risk"
    )
    store.init_db()
    names = set(store.queue.entries.index_information())
    assert "qi_phase_risk_id" in names and "qi_phase_risk" not in names
