"""Malformed ``queue_index`` entries: a page, the counts and the workload still fill; an entry
of another shape that a page reads is re-derived from its ticket (the index is ours, and
derived); ``init-db`` (which doctor names) re-derives the rest."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FakeClock, People, new_ticket
from garbage import cases, spoiled

from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.store.queries import QueueQuery, SortKey
from helpdesk_tui.store.tickets import TicketStore

FIELDS = [
    "updatedAt",
    "firstResponseAt",
    "messageCount",
    "lastMessageAt",
    "lastFromCustomer",
    "phase",
    "status",
    "rank",
    "due",
    "riskAt",
    "needsReply",
    "resolvedAt",
    "createdAt",
    "prio",
    "priority",
    "category",
    "tags",
    "ticketNumber",
]
# What each field may hold by type (a wrong value of the right type is for the page's
# freshness check, not this one): nullable fields, numbers, strings, the tags array.
ALLOWED: dict[str, list[str]] = {
    f: ["null"] for f in ("firstResponseAt", "lastMessageAt", "createdAt")
}
ALLOWED |= {f: ["string", "null"] for f in ("status", "priority", "category")}
ALLOWED |= {f: ["string"] for f in ("phase", "ticketNumber")}
ALLOWED |= {f: ["int"] for f in ("messageCount", "rank", "prio")}
ALLOWED |= {"tags": ["array"]}


@pytest.mark.parametrize(("field", "kind"), cases(FIELDS, ALLOWED))
def test_a_malformed_entry_beside_good_ones_leaves_pages_counts_and_workload_full(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    a, b, c = (store.create_ticket(new_ticket(people, assigned_to=people.agent)).id for _ in "abc")
    clock.advance(hours=1)
    store.queue.mark_synced(clock.now)  # c is older than the sync point: no catch-up reads it
    entry = db.queue_index.find_one({"_id": c})
    db.queue_index.replace_one({"_id": c}, spoiled(entry, field, kind))
    store.queue.held = True  # as in a second app: another holds the lease, nothing catches up
    views = {
        "open": QueueQuery(),
        "mine": QueueQuery(assignee=people.agent),
        "by number": QueueQuery(sort=SortKey.NUMBER),
        "by priority": QueueQuery(sort=SortKey.PRIORITY),
    }

    def rows() -> dict[str, dict[Any, Ticket]]:
        return {
            name: {t.id: t for t in store.list_queue(query).tickets}
            for name, query in views.items()
        }

    for name, shown in rows().items():  # a page reads the index as it is: never fails
        assert {a, b} <= shown.keys(), name
        if c in shown:  # a page that meets the entry re-derives it: the row is the ticket's
            assert not shown[c].problems, (name, shown[c].problems)
    assert all(n >= 2 for n in store.count_views(views).values())
    assert store.workload()[people.agent]["open"] >= 2

    # What doctor says to do about the entries no page meets (a garbage phase is in no view):
    store.init_db(rebuild=True)  # (the ticket's next write re-derives it too)

    assert db.queue_index.find_one({"_id": c}) == entry
    for name, shown in rows().items():
        assert shown.keys() == {a, b, c}, name
        assert not shown[c].problems
    assert store.count_views(views) == dict.fromkeys(views, 3)
    assert store.workload()[people.agent]["open"] == 3


@pytest.mark.parametrize("kind", ["array", "subdocument"])
def test_an_entry_whose_assignee_is_an_array_or_subdocument_leaves_the_workload(
    store: TicketStore, people: People, db: Any, kind: str
) -> None:
    """``assignedTo`` mirrors the ticket's, whatever it holds: not a key for the workload."""
    a, b = (store.create_ticket(new_ticket(people, assigned_to=people.agent)).id for _ in "ab")
    entry = db.queue_index.find_one({"_id": b})
    db.queue_index.replace_one({"_id": b}, spoiled(entry, "assignedTo", kind))
    store.queue.held = True

    assert store.workload()[people.agent]["open"] == 1
    assert {t.id for t in store.list_queue(QueueQuery()).tickets} == {a, b}
