"""The queries the app really sends, explained by a server that executes them (issue 14).

The store's client is watched with pymongo's command monitoring while it loads a page and the
counts of every standard view (sorted each way the queue offers); each captured command is then
explained on the same server. MongoDB's index rules are what is asserted: a page's query names
(as a hint) an index whose keys are the view's equality fields followed by exactly its sort
(ESR), which a MongoDB server walks in order and stops after skip + limit keys, and the server
uses it; the rows of a page are read by ``_id`` (a page of documents); a count is an index scan
of the view's filter. SecantusDB itself does not stop early on an index that gives the order (it
sorts what the index matched, 'SORT' over 'IXSCAN'), so its documents examined per page are
the view's matching entries: benchmarks/bench_server_work.py reports that figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import NOW, FakeClock
from pymongo import MongoClient, monitoring

from helpdesk_tui.demo import seed
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.queries import SortKey, index_hint
from helpdesk_tui.store.queue_index import index_plan
from helpdesk_tui.store.snooze import SNOOZED_VIEW, snoozed_view_query, with_snoozes
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.views import standard_views

PAGE = 40
TICKETS = 1_200


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_names = itertools.count()


@pytest.fixture(scope="module")
def watched(server: EmbeddedServer) -> Iterator[tuple[TicketStore, Commands, ObjectId]]:
    """1,200 demo tickets (most of them resolved or closed, as in a helpdesk's history)."""
    commands = Commands()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[commands])
    db = client[f"plans_{next(_names)}"]
    clock = FakeClock(now=NOW)
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    data = seed.generate(NOW - timedelta(minutes=1), tickets=TICKETS, customers=300, seed=3)
    seed.load(store, data)
    me = store.user_by_email(seed.DEMO_AGENT_EMAIL).id
    assert me is not None
    yield store, commands, me
    client.drop_database(db.name)
    client.close()


def explain(store: TicketStore, command: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in command.items() if not k.startswith("$") and k != "lsid"}
    return store.db.command("explain", body, verbosity="executionStats")


def stages(plan: dict[str, Any]) -> list[str]:
    found = [plan.get("stage", "")]
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            found += stages(plan[key])
    for child in plan.get("inputStages", []):
        found += stages(child)
    return found


def winning(explained: dict[str, Any]) -> dict[str, Any]:
    if "queryPlanner" in explained:
        return explained["queryPlanner"]["winningPlan"]
    return explained["stages"][0]["$cursor"]["queryPlanner"]["winningPlan"]


def stats(explained: dict[str, Any]) -> dict[str, Any]:
    if "executionStats" in explained and "totalDocsExamined" in explained["executionStats"]:
        return explained["executionStats"]
    return explained["stages"][0]["$cursor"]["executionStats"]


def index_keys(store: TicketStore, name: str) -> list[tuple[str, int]]:
    info = store.queue.entries.index_information()[name]
    return [(k, int(d)) for k, d in info["key"]]


def is_operator(value: Any) -> bool:
    return isinstance(value, dict) and any(str(k).startswith("$") for k in value)


def index_used(plan: dict[str, Any]) -> str | None:
    if plan.get("stage") == "IXSCAN":
        return plan.get("indexName")
    child = plan.get("inputStage")
    return index_used(child) if isinstance(child, dict) else None


def page_finds(commands: Commands) -> list[dict[str, Any]]:
    """The page walks sent (sorted finds on ``queue_index``; the catch-up's reads by id are not)."""
    return [
        c
        for name, c in commands.seen
        if name == "find" and c["find"] == "queue_index" and "sort" in c
    ]


def views(me: ObjectId) -> list[Any]:
    """The six index-walked views (the Snoozed view is a lookup by ids: its own test below)."""
    return [v.query for v in standard_views(me) if v.key != SNOOZED_VIEW]


SHAPES = [(view, SortKey.DEADLINE) for view in range(6)]


@pytest.mark.parametrize(("view", "sort"), SHAPES)
def test_a_page_of_every_view_is_served_by_an_index_in_its_order_and_reads_about_a_page(
    watched: tuple[TicketStore, Commands, ObjectId], view: int, sort: SortKey
) -> None:
    store, commands, me = watched
    query = views(me)[view]
    if query.sort is not SortKey.RESOLVED:
        query = query.__class__(**{**query.__dict__, "sort": sort})
    matching = store.queue.entries.count_documents({})
    commands.seen.clear()

    page = store.list_queue(query, skip=PAGE, limit=PAGE)  # the second page

    # The page's walk (sorted); the catch-up's comparison of entries (no app holds the lease
    # here) reads entries by id, and the catch-up's and the page's tickets by updatedAt / by id.
    finds = page_finds(commands)
    rows = [
        c
        for name, c in commands.seen
        if name == "find" and c["find"] == "tickets" and "_id" in c["filter"]
    ]
    assert len(finds) == 1 and len(rows) == 1, commands.seen
    assert not [c for name, c in commands.seen if c.get("aggregate") == "tickets"]
    find = finds[0]
    hint = index_hint(find["filter"], list(find["sort"].items()), index_plan())
    assert hint is not None, find
    keys = index_keys(store, hint)
    equality = {k for k, v in find["filter"].items() if not is_operator(v)}
    prefix = list(itertools.takewhile(lambda key: key[0] in equality, keys))
    rest = keys[len(prefix) :]
    sort = [(k, d) for k, d in find["sort"].items() if k not in equality]
    assert {k for k, _ in prefix} == equality, (keys, find)  # E: every equality field
    assert rest in (sort, [(k, -d) for k, d in sort]), (keys, find)  # S: then the sort
    # MongoDB is told to walk it (a hint); SecantusDB, where a hint costs more than it saves,
    # chooses its own plan, an index scan.
    assert find.get("hint") == (hint if store.hints else None)
    plan = explain(store, find)
    assert index_used(winning(plan)) is not None
    ids = rows[0]["filter"]["_id"]["$in"]
    assert len(ids) == len(page.tickets) <= PAGE
    row_plan = explain(store, rows[0])
    assert stats(row_plan)["totalDocsExamined"] <= PAGE
    assert matching == TICKETS


def test_counts_of_every_view_are_index_scans_of_the_view_filter(
    watched: tuple[TicketStore, Commands, ObjectId],
) -> None:
    store, commands, me = watched
    commands.seen.clear()

    counts = store.count_views({str(i): q for i, q in enumerate(views(me))})

    sent = [
        c for name, c in commands.seen if name == "aggregate" and c["aggregate"] == "queue_index"
    ]
    assert len(sent) == len(views(me))  # one per view, "Needs reply" included
    assert not [c for name, c in commands.seen if c.get("aggregate") == "tickets"]
    for command, count in zip(sent, counts.values(), strict=True):
        plan = explain(store, command)
        assert "IXSCAN" in stages(winning(plan)), winning(plan)
        assert stats(plan)["totalKeysExamined"] <= count + 1


def test_on_mongodb_a_page_names_its_index_and_the_server_walks_it(
    watched: tuple[TicketStore, Commands, ObjectId],
) -> None:
    """The MongoDB path (hints on), run here on SecantusDB, which accepts and honours them."""
    store, commands, me = watched
    store._hints = True
    try:
        for query in views(me):
            commands.seen.clear()
            store.list_queue(query, limit=PAGE)
            (find,) = page_finds(commands)
            hint = index_hint(find["filter"], list(find["sort"].items()), index_plan())
            assert find["hint"] == hint
            assert index_used(winning(explain(store, find))) == hint
    finally:
        store._hints = None


def test_snoozed_tickets_are_hidden_inside_the_page_query_and_the_snoozed_view_reads_only_them(
    watched: tuple[TicketStore, Commands, ObjectId], clock: FakeClock
) -> None:
    store, commands, me = watched
    query = views(me)[2]  # All open
    hidden = [e["_id"] for e in store.queue.entries.find({"phase": "active"}).limit(3)]
    store.snoozes.snooze(hidden, me, clock.now + timedelta(days=1))
    try:
        snoozed = store.snoozes.active(me)
        assert set(snoozed) == set(hidden)
        commands.seen.clear()
        store.list_queue(query, limit=PAGE)
        (find,) = page_finds(commands)
        baseline = stats(explain(store, find))
        commands.seen.clear()
        page = store.list_queue(with_snoozes("open", query, snoozed), limit=PAGE)
        assert not set(hidden) & {t.id for t in page.tickets}
        (find,) = page_finds(commands)
        assert find["filter"]["_id"] == {"$nin": sorted(hidden)}
        plan = explain(store, find)
        assert index_used(winning(plan)) is not None
        # What the same view costs without snoozes, plus at most the hidden entries.
        for key in ("totalKeysExamined", "totalDocsExamined"):
            assert stats(plan)[key] <= baseline[key] + len(hidden), (key, baseline, stats(plan))
        counts = store.count_views({"all": query, "mine": with_snoozes("open", query, snoozed)})
        assert counts["mine"] == counts["all"] - len(hidden)
        commands.seen.clear()
        page = store.list_queue(with_snoozes(SNOOZED_VIEW, snoozed_view_query(), snoozed))
        assert {t.id for t in page.tickets} == set(hidden)
        (find,) = page_finds(commands)
        assert stats(explain(store, find))["totalDocsExamined"] <= len(hidden)
    finally:
        store.snoozes.entries.delete_many({})
