"""Which views an update can move (issue 14): the queue recounts only the views that filter on a
field the update touched (``queries.count_fields``). The oracle is the queue index itself on a
real server: for every view, a ticket's membership before and after each kind of write the
Ticket Service or an agent makes; whenever it changed, the write must have touched one of the
fields the view is said to depend on. A missing dependency would leave a count wrong until the
next unrelated write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId
from conftest import FakeClock, People, as_service, new_ticket

from helpdesk_tui.config import ViewConfig
from helpdesk_tui.domain.models import Category, Priority, Status
from helpdesk_tui.store.queries import count_fields, index_filter
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.views import standard_views


def message(sender: ObjectId, moment: Any, *, internal: bool = False) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "sender": sender,
        "content": "…",
        "isInternal": internal,
        "createdAt": moment,
    }


def test_a_write_moves_a_ticket_only_in_views_that_depend_on_a_field_it_touched(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    custom = [
        ViewConfig(name="VIP", tags=["vip"]),
        ViewConfig(name="Urgent pay", priorities=[Priority.URGENT], categories=[Category.PAYMENT]),
        ViewConfig(name="Bo's", assignee="me", statuses=[Status.IN_PROGRESS]),
    ]
    views = standard_views(people.agent, custom, lambda email: people.agent)
    views = [v for v in views if not v.query.ids]  # Snoozed: its ids come from my snoozes
    now = clock()
    # Each write as (update, the top-level fields it touches), applied in turn to each ticket.
    writes: list[tuple[dict[str, Any], set[str]]] = [
        ({"$push": {"messages": message(people.customer, now)}}, {"messages"}),
        ({"$set": {"createdAt": now - timedelta(days=3)}}, {"createdAt"}),
        ({"$set": {"assignedTo": people.agent}}, {"assignedTo"}),
        ({"$set": {"status": Status.IN_PROGRESS.value}}, {"status"}),
        ({"$push": {"messages": message(people.agent, now, internal=True)}}, {"messages"}),
        ({"$push": {"messages": message(people.agent, now)}}, {"messages"}),
        ({"$set": {"subject": "Still nothing"}}, {"subject"}),
        ({"$set": {"priority": Priority.URGENT.value}}, {"priority"}),
        ({"$set": {"category": Category.PAYMENT.value}}, {"category"}),
        ({"$set": {"tags": ["vip"]}}, {"tags"}),
        ({"$set": {"status": Status.WAITING.value}}, {"status"}),
        ({"$push": {"messages": message(people.customer, now)}}, {"messages"}),
        ({"$unset": {"assignedTo": ""}}, {"assignedTo"}),
        ({"$set": {"status": Status.RESOLVED.value}}, {"status"}),
        ({"$set": {"updatedAt": now}}, {"updatedAt"}),
    ]
    tickets = [
        store.create_ticket(new_ticket(people, priority=p)).id
        for p in (Priority.LOW, Priority.HIGH)
    ]

    def members(ticket: Any) -> set[str]:
        entries = store.queue.entries
        return {
            v.key
            for v in views
            if entries.count_documents({"$and": [index_filter(v.query, now), {"_id": ticket}]})
        }

    moved_somewhere = 0
    for ticket in tickets:
        for update, touched in writes:
            before = members(ticket)
            store.tickets.update_one({"_id": ticket}, update)
            as_service(store, ticket)
            after = members(ticket)
            for view in views:
                if (view.key in before) != (view.key in after):
                    moved_somewhere += 1
                    fields = count_fields(view.query)
                    assert fields is None or fields & touched, (
                        f"{update} moved the ticket in {view.name!r}, "
                        f"which is said to depend only on {sorted(fields)}"
                    )
    assert moved_somewhere >= 20  # the writes do move tickets between views (not vacuous)


def test_a_text_search_depends_on_any_field() -> None:
    from helpdesk_tui.store.queries import QueueQuery

    assert count_fields(QueueQuery(text="refund")) is None
    assert count_fields(QueueQuery(needs_reply=True)) == {"status", "user", "messages"}
