"""The customer's context on the ticket screen: other tickets, count, last contact, orders."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from pymongo import MongoClient, monitoring

from helpdesk_tui.domain.models import Status, new_message_doc
from helpdesk_tui.store.context import CONTEXT_SCAN, customer_context
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def make(store: TicketStore, people: People, clock: FakeClock, subject: str, **kw: Any) -> Any:
    clock.advance(minutes=10)
    ticket = store.create_ticket(new_ticket(people, subject=subject, **kw))
    assert ticket.id is not None
    return ticket.id


def test_context_lists_the_customers_other_tickets_open_first_then_recent(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    make(store, people, clock, "old but open")
    done = make(store, people, clock, "done")
    store.set_status(done, Status.IN_PROGRESS)
    store.set_status(done, Status.RESOLVED)
    waiting = make(store, people, clock, "waiting")
    store.set_status(waiting, Status.IN_PROGRESS)
    store.set_status(waiting, Status.WAITING)
    make(store, people, clock, "someone else's", user=people.other_agent)
    current = make(store, people, clock, "this one")
    clock.advance(minutes=5)
    store.add_message(done, sender=people.customer, content="thanks!")

    context = customer_context(store, store.get_ticket(current))

    assert context is not None
    assert [t.subject for t in context.others] == ["waiting", "old but open", "done"]
    assert context.total == 4  # this one included, the other customer's not
    assert context.open_count == 2
    assert context.last_contact == store.now()  # the "thanks!" just now
    assert all(t.messages == () for t in context.others)  # rows only, never messages
    assert context.orders == ()


def test_context_shows_the_orders_its_tickets_name(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    order = ObjectId()
    db.orders.insert_one({"_id": order, "orderNumber": "ORD-9", "status": "shipped", "total": 5})
    make(store, people, clock, "about the order", order=order)
    current = make(store, people, clock, "now")
    context = customer_context(store, store.get_ticket(current))
    assert context is not None
    assert [o["orderNumber"] for o in context.orders] == ["ORD-9"]


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_context_reads_are_bounded_by_the_customer_index_not_the_collection(
    server: EmbeddedServer, people: People, clock: FakeClock
) -> None:
    commands = Commands()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[commands])
    db = client[f"context_plan_{ObjectId()}"]
    try:
        store = TicketStore(db, StoreSettings(), clock=clock)
        store.init_db()
        others = [ObjectId() for _ in range(40)]
        docs = []
        numbers = store.reserve_numbers(CONTEXT_SCAN + 30 + 400)
        for n, number in enumerate(numbers):
            user = people.customer if n < CONTEXT_SCAN + 30 else others[n % 40]
            message = new_message_doc(sender=user, content=f"m{n}", now=clock.now)
            docs.append(
                {
                    "_id": ObjectId(),
                    "ticketNumber": number,
                    "subject": f"t{n}",
                    "user": user,
                    "category": "order",
                    "priority": "low",
                    "status": "closed" if n % 3 else "open",
                    "messages": [message],
                    "tags": [],
                    "createdAt": clock.advance(seconds=1),
                    "updatedAt": clock.now,
                    "__v": 0,
                }
            )
        store.insert_tickets(docs)
        current = store.get_ticket(docs[0]["_id"])
        commands.seen.clear()

        context = customer_context(store, current)

        assert context is not None and context.total == CONTEXT_SCAN + 30
        assert not context.scanned_all
        sent = [c for c in commands.seen if c.get("aggregate") == "tickets"]
        assert len(sent) == 2  # the rows, and the count (an aggregate under count_documents)
        for command in sent:
            body = {k: v for k, v in command.items() if not k.startswith("$") and k != "lsid"}
            plan = db.command("explain", body, verbosity="executionStats")
            cursor = plan["stages"][0]["$cursor"] if "stages" in plan else plan
            winning = cursor["queryPlanner"]["winningPlan"]
            assert "customer_tickets" in repr(winning), winning
            # SecantusDB reads the customer's entries (it sorts what the index matched);
            # MongoDB stops at the limit. Either way, never the 400 other tickets.
            assert cursor["executionStats"]["totalDocsExamined"] <= CONTEXT_SCAN + 30
    finally:
        client.drop_database(db.name)
        client.close()
