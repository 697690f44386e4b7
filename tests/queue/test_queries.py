"""The queue: view filters, search, next-deadline order computed by the database, paging, counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import MaxKey, ObjectId, Regex, Timestamp
from conftest import NOW, FakeClock, People, as_service, new_ticket

from helpdesk_tui.domain.models import Category, Priority, Status, utc
from helpdesk_tui.domain.sla import SlaPolicy, evaluate, sort_key
from helpdesk_tui.store.queries import (
    QUEUE_FIELDS,
    Assignee,
    QueueQuery,
    SortKey,
    match_filter,
)
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


class AggregateSpy:
    """The tickets collection, recording every pipeline sent to the server."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pipelines: list[list[dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def aggregate(self, pipeline: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        self.pipelines.append(pipeline)
        return self.inner.aggregate(pipeline, *args, **kwargs)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.finds.append(args)
        return self.inner.find(*args, **kwargs)

    @property
    def finds(self) -> list[tuple[Any, ...]]:
        return self.__dict__.setdefault("_finds", [])


def create_at(
    store: TicketStore, clock: FakeClock, people: People, hours_ago: float, **fields: Any
) -> ObjectId:
    clock.now = NOW - timedelta(hours=hours_ago)
    ticket = store.create_ticket(new_ticket(people, **fields))
    assert ticket.id is not None
    return ticket.id


@pytest.fixture
def queue(store: TicketStore, clock: FakeClock, people: People) -> dict[str, ObjectId]:
    """Seven tickets whose urgency order differs from their creation and priority order.

    Next deadlines at NOW: B breached (-5h), G at risk (+10m), E +3h, D +6h, A +14h, C +21h
    (C has an agent reply, so its resolution clock is the one that runs); F is resolved.
    """
    t: dict[str, ObjectId] = {}
    t["A"] = create_at(
        store,
        clock,
        people,
        10,
        subject="Question about your warranty",
        priority=Priority.LOW,
        category=Category.OTHER,
    )
    t["F"] = create_at(
        store, clock, people, 8, subject="Refund not received", priority=Priority.MEDIUM
    )
    t["B"] = create_at(
        store,
        clock,
        people,
        6,
        subject="Charged twice for one order",
        priority=Priority.URGENT,
        category=Category.PAYMENT,
        tags=["vip", "refund"],
    )
    t["C"] = create_at(
        store,
        clock,
        people,
        3,
        subject="Parcel never arrived",
        priority=Priority.HIGH,
        category=Category.SHIPPING,
        tags=["courier"],
    )
    store.add_message(t["C"], sender=people.customer, content="Where is my parcel?")
    store.take(t["C"], people.agent)
    store.set_status(t["C"], Status.IN_PROGRESS)
    t["D"] = create_at(
        store,
        clock,
        people,
        2,
        subject="Refund for order #[12345] (no markup)",
        priority=Priority.MEDIUM,
        category=Category.ORDER,
    )
    store.assign(t["D"], people.other_agent)
    store.set_status(t["D"], Status.IN_PROGRESS)
    store.set_status(t["D"], Status.WAITING)
    clock.now = NOW - timedelta(hours=2)
    store.add_message(t["C"], sender=people.agent, content="Checking with the courier.")
    store.add_message(t["C"], sender=people.agent, content="note", internal=True)
    t["E"] = create_at(
        store,
        clock,
        people,
        1,
        subject="Cannot reset my password",
        priority=Priority.HIGH,
        category=Category.ACCOUNT,
        tags=["vip"],
    )
    store.add_message(t["E"], sender=people.customer, content="Still locked out")
    store.set_status(t["F"], Status.IN_PROGRESS)
    store.set_status(t["F"], Status.RESOLVED)
    t["G"] = create_at(
        store,
        clock,
        people,
        50 / 60,
        subject="Screen flickers after update",
        priority=Priority.URGENT,
        category=Category.PRODUCT,
    )
    clock.now = NOW
    return t


def names(page: Any, queue: dict[str, ObjectId]) -> list[str]:
    by_id = {v: k for k, v in queue.items()}
    return [by_id.get(t.id, t.ticket_number) for t in page.tickets]


# --- order -----------------------------------------------------------------------------------


def test_default_sort_is_most_urgent_next_deadline_first(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    page = store.list_queue(QueueQuery())

    assert names(page, queue) == ["B", "G", "E", "D", "A", "C"]


def test_default_order_agrees_with_the_sla_engine(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    page = store.list_queue(QueueQuery())

    keys = [sort_key(evaluate(t, store.now(), store.settings.sla)) for t in page.tickets]
    assert keys == sorted(keys)


def test_an_answered_high_ticket_ranks_after_an_unanswered_low_one_due_sooner(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    order = names(store.list_queue(QueueQuery()), queue)

    assert order.index("A") < order.index("C")


def test_the_database_sorts_before_paging_so_page_one_is_the_most_urgent(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    first = store.list_queue(QueueQuery(), limit=1)
    second = store.list_queue(QueueQuery(), skip=1, limit=2)

    assert names(first, queue) == ["B"]
    assert names(second, queue) == ["G", "E"]
    assert first.has_more


def test_a_page_reads_its_tickets_by_id_and_never_ranks_the_collection(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    spy = AggregateSpy(store.tickets)
    store.tickets = spy  # type: ignore[assignment]

    page = store.list_queue(QueueQuery(), skip=2, limit=3)

    assert not spy.pipelines  # nothing ranked or computed per row on the server
    ((where, _),) = spy.finds
    assert where == {"_id": {"$in": [t.id for t in page.tickets]}}
    assert names(page, queue) == ["E", "D", "A"]


def test_paging_through_ties_has_no_overlaps_and_no_gaps(
    store: TicketStore, people: People
) -> None:
    # Same instant, same priority: every deadline ties, only the tie-breaker orders them.
    ids = {store.create_ticket(new_ticket(people)).id for _ in range(30)}
    everything = store.list_queue(QueueQuery(), limit=100)

    pages = [store.list_queue(QueueQuery(), skip=skip, limit=7) for skip in range(0, 35, 7)]

    seen = [t.id for page in pages for t in page.tickets]
    assert seen == [t.id for t in everything.tickets]
    assert len(seen) == len(set(seen)) == 30
    assert set(seen) == ids
    assert [p.has_more for p in pages] == [True, True, True, True, False]


def test_priority_sort_puts_urgent_first_then_next_deadline(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    page = store.list_queue(QueueQuery(sort=SortKey.PRIORITY))

    assert names(page, queue) == ["B", "G", "E", "C", "D", "A"]


def test_number_sort_descending(store: TicketStore, queue: dict[str, ObjectId]) -> None:
    page = store.list_queue(QueueQuery(sort=SortKey.NUMBER, descending=True))

    numbers = [t.ticket_number for t in page.tickets]
    assert numbers == sorted(numbers, reverse=True)


def test_paused_waiting_tickets_rank_after_running_ones_when_pausing_is_on(
    db: Any, clock: FakeClock, queue: dict[str, ObjectId], people: People
) -> None:
    store = TicketStore(db, StoreSettings(sla=SlaPolicy(pause_when_waiting=True)), clock=clock)
    store.add_message(queue["C"], sender=people.agent, content="Please send a photo.")
    store.set_status(queue["C"], Status.WAITING)

    page = store.list_queue(QueueQuery())

    # Waiting pauses the resolution clock only. D is waiting without a first response, so that
    # clock still runs (+6h) and it ranks by it, as its badge shows; C (answered) is paused.
    assert names(page, queue) == ["B", "G", "E", "D", "A", "C"]
    keys = [sort_key(evaluate(t, store.now(), store.settings.sla)) for t in page.tickets]
    assert keys == sorted(keys) and keys[-1][0] == 1


def test_done_tickets_rank_after_every_active_one(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    page = store.list_queue(QueueQuery(statuses=()))

    assert names(page, queue)[-1] == "F"


def test_recently_resolved_view_lists_done_tickets(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    query = QueueQuery(statuses=(Status.RESOLVED, Status.CLOSED), sort=SortKey.RESOLVED)

    page = store.list_queue(query)

    assert names(page, queue) == ["F"]
    assert page.tickets[0].resolved_at == NOW - timedelta(hours=1)


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (QueueQuery(statuses=(Status.WAITING,)), ["D"]),
        (QueueQuery(statuses=(Status.OPEN,)), ["B", "G", "E", "A"]),
        (QueueQuery(priorities=(Priority.HIGH,)), ["E", "C"]),
        (QueueQuery(priorities=(Priority.URGENT, Priority.LOW)), ["B", "G", "A"]),
        (QueueQuery(categories=(Category.PAYMENT,)), ["B"]),
        (QueueQuery(categories=(Category.SHIPPING, Category.ORDER)), ["D", "C"]),
        (QueueQuery(tags=("vip",)), ["B", "E"]),
        (QueueQuery(tags=("vip", "refund")), ["B"]),
        (QueueQuery(tags=("nope",)), []),
        (QueueQuery(assignee=Assignee.UNASSIGNED), ["B", "G", "E", "A"]),
        (QueueQuery(breaching=True), ["B", "G"]),
    ],
    ids=lambda v: "" if isinstance(v, list) else repr(v)[:60],
)
def test_view_filters(
    store: TicketStore, queue: dict[str, ObjectId], query: QueueQuery, expected: list[str]
) -> None:
    assert names(store.list_queue(query), queue) == expected


def test_assignee_filter_shows_one_agents_tickets(
    store: TicketStore, queue: dict[str, ObjectId], people: People
) -> None:
    mine = store.list_queue(QueueQuery(assignee=people.agent))
    theirs = store.list_queue(QueueQuery(assignee=people.other_agent))

    assert names(mine, queue) == ["C"]
    assert names(theirs, queue) == ["D"]


def test_unassigned_includes_tickets_the_service_stored_with_a_null_assignee(
    store: TicketStore, queue: dict[str, ObjectId], db: Any
) -> None:
    db.tickets.update_one({"_id": queue["A"]}, {"$set": {"assignedTo": None}})
    as_service(store, queue["A"])

    page = store.list_queue(QueueQuery(assignee=Assignee.UNASSIGNED))

    assert "A" in names(page, queue)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parcel", ["C"]),
        ("PASSWORD", ["E"]),
        ("TKT-000003", ["B"]),
        ("000003", ["B"]),
        ("tkt-000003", ["B"]),
        ("#vip", ["B", "E"]),
        ("#courier", ["C"]),
        ("vip", ["B", "E"]),
        ("#[12345]", []),
        ("#[12345] (no", []),  # a leading # always means a tag
        ("order #[12345]", ["D"]),
        (".*", []),
        ("  warranty  ", ["A"]),
        ("nothing like this", []),
    ],
)
def test_search_by_subject_number_or_tag(
    store: TicketStore, queue: dict[str, ObjectId], text: str, expected: list[str]
) -> None:
    assert names(store.list_queue(QueueQuery(text=text)), queue) == expected


def test_search_combines_with_the_view_filter(
    store: TicketStore, queue: dict[str, ObjectId], people: People
) -> None:
    page = store.list_queue(QueueQuery(assignee=Assignee.UNASSIGNED, text="#vip"))
    none = store.list_queue(QueueQuery(assignee=people.agent, text="#vip"))

    assert names(page, queue) == ["B", "E"]
    assert none.tickets == ()


def test_match_filter_escapes_regex_in_search_text() -> None:
    clause = match_filter(QueueQuery(statuses=(), text="a.b*"))

    patterns = [c["subject"]["$regex"] for c in clause["$or"] if "subject" in c]
    assert patterns == [r"a\.b\*"]


# --- what the queue reads --------------------------------------------------------------------


def test_queue_never_returns_messages_or_description(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    spy = AggregateSpy(store.tickets)
    store.tickets = spy  # type: ignore[assignment]

    page = store.list_queue(QueueQuery(statuses=()))

    assert len(page.tickets) == 7
    for ticket in page.tickets:
        assert ticket.messages == ()
        assert ticket.description == ""
    assert not spy.pipelines
    ((where, project),) = spy.finds
    assert set(project.values()) == {1}, "an inclusion list, so new fields stay on the server"
    assert "messages" not in project and "description" not in project
    assert set(project) == set(QUEUE_FIELDS)  # the conversation's fields: the entries'
    for doc in store.db.tickets.find(where, project):
        assert "messages" not in doc and "description" not in doc


def test_queue_still_knows_message_count_first_response_and_who_wrote_last(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    page = store.list_queue(QueueQuery())
    by_name = dict(zip(names(page, queue), page.tickets, strict=True))

    answered, waiting_on_us = by_name["C"], by_name["E"]
    assert answered.message_count == 3
    assert answered.first_response_at == NOW - timedelta(hours=2)
    assert answered.last_message_from_customer is False
    assert waiting_on_us.message_count == 1
    assert waiting_on_us.first_response_at is None
    assert waiting_on_us.last_message_from_customer is True
    assert by_name["A"].message_count == 0


def test_queue_rows_carry_what_the_table_shows(
    store: TicketStore, queue: dict[str, ObjectId], people: People
) -> None:
    page = store.list_queue(QueueQuery(assignee=people.agent))

    (row,) = page.tickets
    assert row.ticket_number == "TKT-000004"
    assert row.subject == "Parcel never arrived"
    assert row.status is Status.IN_PROGRESS
    assert row.priority is Priority.HIGH
    assert row.category is Category.SHIPPING
    assert row.tags == ("courier",)
    assert row.user == people.customer
    assert row.assigned_to == people.agent
    assert row.created_at == NOW - timedelta(hours=3)
    assert row.problems == ()


# --- documents the service (or a script) left odd ------------------------------------------


def odd(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ticketNumber": "TKT-000900",
        "subject": "odd one",
        "user": ObjectId(),
        "category": "order",
        "priority": "high",
        "status": "open",
        "messages": [],
        "tags": [],
        "createdAt": NOW - timedelta(hours=1),
        "updatedAt": NOW - timedelta(hours=1),
        "__v": 0,
    }
    for key, value in fields.items():
        if value is DROP:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


DROP = object()


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        pytest.param({"status": "open"}, "subject: missing", id="almost-empty"),
        pytest.param(odd(subject=DROP), "subject: missing", id="missing-subject"),
        pytest.param(odd(category=DROP), "category: missing", id="missing-category"),
        pytest.param(odd(priority="critical"), "priority", id="priority-critical"),
        pytest.param(odd(tags="not-a-list"), "tags", id="tags-string"),
        pytest.param(odd(legacyField={"imported": True}), None, id="extra-field"),
        pytest.param(odd(messages=["a string"]), None, id="message-string"),
        pytest.param(odd(messages=None), None, id="messages-null"),
        pytest.param(odd(createdAt=DROP), "createdAt: missing", id="missing-createdAt"),
        pytest.param(
            odd(messages="hello"),
            None,
            id="messages-string",
        ),
        pytest.param(
            odd(createdAt="2026-11-24T09:00:00Z"),
            None,
            id="createdAt-string",
        ),
    ],
)
def test_queue_lists_an_odd_document_without_failing_and_flags_it(
    store: TicketStore,
    queue: dict[str, ObjectId],
    doc: dict[str, Any],
    problem: str | None,
) -> None:
    odd_id = store.db.tickets.insert_one(doc).inserted_id
    as_service(store, odd_id)

    page = store.list_queue(QueueQuery())
    counts = store.count_views({"open": QueueQuery(), "breaching": QueueQuery(breaching=True)})

    listed = {t.id: t for t in page.tickets}
    assert odd_id in listed
    assert len(page.tickets) == 7
    assert counts["open"] == 7
    if problem is not None:
        assert any(p.startswith(problem) for p in listed[odd_id].problems)


@pytest.mark.parametrize("status", ["pending", None])
def test_unknown_or_null_status_is_in_the_active_views_flagged_not_in_no_view(
    store: TicketStore, queue: dict[str, ObjectId], status: str | None
) -> None:
    # Issue 12: a ticket whose status we cannot read must show somewhere (with ⚠), so it
    # sits in the views of tickets not done, never in a specific-status one.
    odd_id = store.db.tickets.insert_one(odd(status=status)).inserted_id
    as_service(store, odd_id)

    active = store.list_queue(QueueQuery())
    waiting = store.list_queue(QueueQuery(statuses=(Status.WAITING,)))

    (shown,) = [t for t in active.tickets if t.id == odd_id]
    assert shown.problem_with("status") is not None
    assert odd_id not in {t.id for t in waiting.tickets}


# --- counts ----------------------------------------------------------------------------------


def test_count_views_counts_every_view_from_the_queue_index_without_reading_tickets(
    store: TicketStore, queue: dict[str, ObjectId], people: People
) -> None:
    spy = AggregateSpy(store.tickets)
    store.tickets = spy  # type: ignore[assignment]
    views = {
        "mine": QueueQuery(assignee=people.agent),
        "unassigned": QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED),
        "open": QueueQuery(),
        "breaching": QueueQuery(breaching=True),
        "waiting": QueueQuery(statuses=(Status.WAITING,)),
        "resolved": QueueQuery(statuses=(Status.RESOLVED, Status.CLOSED)),
        "vip": QueueQuery(tags=("vip",)),
        "empty": QueueQuery(tags=("nope",)),
    }

    counts = store.count_views(views)

    assert counts == {
        "mine": 1,
        "unassigned": 4,
        "open": 6,
        "breaching": 2,
        "waiting": 1,
        "resolved": 1,
        "vip": 2,
        "empty": 0,
    }
    assert spy.pipelines == []


def test_count_views_agree_with_the_lists(
    store: TicketStore, queue: dict[str, ObjectId], people: People
) -> None:
    views = {
        "breaching": QueueQuery(breaching=True),
        "unassigned": QueueQuery(assignee=Assignee.UNASSIGNED),
        "search": QueueQuery(text="#vip"),
    }

    counts = store.count_views(views)

    for name, query in views.items():
        assert counts[name] == len(store.list_queue(query).tickets)


def test_count_views_of_nothing_is_empty_without_a_query(store: TicketStore) -> None:
    spy = AggregateSpy(store.tickets)
    store.tickets = spy  # type: ignore[assignment]

    assert store.count_views({}) == {}
    assert spy.pipelines == []


def test_breaching_view_follows_the_clock(
    store: TicketStore, queue: dict[str, ObjectId], clock: FakeClock
) -> None:
    clock.advance(hours=2, minutes=30)  # E (due +3h, target 4h): 30m of 4h left, at risk

    page = store.list_queue(QueueQuery(breaching=True))

    assert names(page, queue) == ["B", "G", "E"]
    assert store.count_views({"b": QueueQuery(breaching=True)}) == {"b": 3}


def test_queue_created_at_values_are_utc(store: TicketStore, queue: dict[str, ObjectId]) -> None:
    page = store.list_queue(QueueQuery())

    for ticket in page.tickets:
        assert isinstance(ticket.created_at, datetime)
        assert utc(ticket.created_at) == ticket.created_at


def test_a_ticket_without_created_at_does_not_outrank_tickets_with_deadlines(
    store: TicketStore, queue: dict[str, ObjectId]
) -> None:
    undated = store.db.tickets.insert_one(odd(createdAt=DROP)).inserted_id
    as_service(store, undated)

    page = store.list_queue(QueueQuery())

    assert page.tickets[0].id != undated
    keys = [sort_key(evaluate(t, store.now(), store.settings.sla)) for t in page.tickets]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "value",
    [Timestamp(1_800_000_000, 1), Regex("^2030"), MaxKey(), "2030-11-26T09:00:00Z", 1_900_000_000],
    ids=["timestamp", "regex", "maxkey", "string", "number"],
)
def test_a_created_at_of_another_bson_type_ranks_last_and_the_queue_still_loads(
    store: TicketStore, queue: dict[str, ObjectId], value: Any
) -> None:
    """Only a BSON date is a date: Timestamps, Regex and MaxKey sort above dates in BSON order,
    so a range test on dates would let them into the date arithmetic and fail the whole page."""
    odd_id = store.db.tickets.insert_one(odd(createdAt=value)).inserted_id
    as_service(store, odd_id)

    page = store.list_queue(QueueQuery())

    ids = [t.id for t in page.tickets]
    assert odd_id in ids
    assert ids[-1] == odd_id or all(
        t.status.value in ("resolved", "closed") for t in page.tickets[ids.index(odd_id) + 1 :]
    )
