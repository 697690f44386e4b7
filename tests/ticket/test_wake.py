"""A customer's reply wakes a waiting ticket (issue 15, item 1).

The agents' turn again: its SLA clock runs, it sorts by its deadline (queue index and SLA
engine agree), it is marked ↩ and listed in "Needs reply"; and, by default, the first app to
see the reply moves it ``waiting → open`` with a compare-and-set: three apps on one database
seeing the same message make one transition and one audit entry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from bson import ObjectId
from conftest import FakeClock, People, as_service, new_ticket
from helpers import Recorder, assert_mongoose_valid

from helpdesk_tui.domain.models import Status, Ticket, mongo_time, new_message_doc
from helpdesk_tui.domain.sla import SlaPolicy, SlaState, evaluate, sort_key
from helpdesk_tui.store.live import Change, LiveFeed
from helpdesk_tui.store.queries import QueueQuery, row_fields
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.store.wake import WAKE_ACTION, Waker
from helpdesk_tui.store.window import matches

PAUSING = SlaPolicy(pause_when_waiting=True)
WAIT = 15.0


@contextmanager
def following(feed: LiveFeed) -> Iterator[None]:
    thread = threading.Thread(target=feed.run, name="wake-feed", daemon=True)
    thread.start()
    try:
        assert feed.ready.wait(WAIT), "the feed never became ready"
        yield
    finally:
        feed.stop()
        thread.join(WAIT)
        assert not thread.is_alive(), "the feed thread did not stop"


def pausing_store(db: Any, clock: FakeClock) -> TicketStore:
    store = TicketStore(db, StoreSettings(sla=PAUSING), clock=clock)
    store.init_db()
    return store


def customer_writes(store: TicketStore, ticket_id: ObjectId, sender: ObjectId, text: str) -> Any:
    """The Ticket Service appends the customer's message (not through our store)."""
    message = new_message_doc(sender=sender, content=text, now=store.clock())
    store.tickets.update_one(
        {"_id": ticket_id},
        {
            "$push": {"messages": message},
            "$inc": {"__v": 1},
            "$set": {"updatedAt": mongo_time(store.clock())},
        },
    )
    return message


def waiting_ticket(store: TicketStore, people: People, clock: FakeClock, **kw: Any) -> ObjectId:
    """A ticket an agent answered and set waiting on the customer."""
    ticket = store.create_ticket(new_ticket(people, **kw))
    assert ticket.id is not None
    clock.advance(minutes=10)
    store.set_status(ticket.id, Status.IN_PROGRESS, actor=people.agent)
    store.add_message(
        ticket.id, sender=people.agent, content="Which address?", set_status=Status.WAITING
    )
    return ticket.id


def wakes(store: TicketStore, ticket_id: ObjectId) -> list[dict[str, Any]]:
    return list(store.events.find({"ticket": ticket_id, "action": WAKE_ACTION}))


# --- the agents' turn: clock, order, mark, view ------------------------------------------


def test_a_customer_reply_restarts_the_paused_clock_of_a_waiting_ticket(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    before = store.get_ticket(ticket_id)
    assert evaluate(before, clock.now, PAUSING).row_state is SlaState.PAUSED
    assert not before.woken

    customer_writes(store, ticket_id, people.customer, "Flat 3, 12 High St")
    after = store.get_ticket(ticket_id)

    assert after.woken and after.customer_turn
    status = evaluate(after, clock.now, PAUSING)
    assert status.row_state is not SlaState.PAUSED
    assert status.resolution.running and status.next is not None
    assert sort_key(status)[0] == 0  # among the running tickets, by its deadline


def test_an_internal_note_after_the_customer_does_not_answer_them(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    customer_writes(store, ticket_id, people.customer, "Still nothing?")
    store.add_message(ticket_id, sender=people.agent, content="asking the carrier", internal=True)
    assert store.get_ticket(ticket_id).woken

    store.add_message(ticket_id, sender=people.agent, content="The carrier says Friday.")
    answered = store.get_ticket(ticket_id)
    assert not answered.woken
    assert evaluate(answered, clock.now, PAUSING).row_state is SlaState.PAUSED


def test_woken_tickets_sort_by_deadline_in_the_index_as_in_the_sla_engine(
    db: Any, people: People, clock: FakeClock
) -> None:
    store = pausing_store(db, clock)
    ids = [waiting_ticket(store, people, clock, priority=p) for p in ("low", "urgent", "high")]
    running = store.create_ticket(new_ticket(people, priority="medium")).id
    clock.advance(minutes=5)
    for ticket_id in ids[:2]:  # two of three waiting tickets hear back from the customer
        customer_writes(store, ticket_id, people.customer, "here you go")
        as_service(store, ticket_id)

    now = store.now()
    docs = store.tickets.find({"status": {"$in": ["open", "in_progress", "waiting"]}})
    oracle = sorted(
        (Ticket.from_mongo(d) for d in docs),
        key=lambda t: (sort_key(evaluate(t, now, PAUSING)), t.id),
    )
    shown = [t.id for t in store.list_queue(QueueQuery()).tickets]
    assert shown == [t.id for t in oracle]
    # The woken ones run among the open tickets; the one still waiting stays paused, last.
    assert shown[-1] == ids[2]
    assert set(shown[:3]) == {ids[0], ids[1], running}
    # The aggregation that serves a text search ranks them the same way.
    searched = [t.id for t in store.list_queue(QueueQuery(text="Parcel")).tickets]
    assert searched == shown


def test_needs_reply_lists_and_counts_tickets_whose_customer_spoke_last(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    woken = waiting_ticket(store, people, clock)
    still_waiting = waiting_ticket(store, people, clock)
    fresh = store.create_ticket(new_ticket(people)).id
    assert fresh is not None
    customer_writes(store, woken, people.customer, "answer")
    customer_writes(store, fresh, people.customer, "any news?")
    as_service(store, woken, fresh)
    query = QueueQuery(needs_reply=True)

    listed = [t.id for t in store.list_queue(query).tickets]
    assert set(listed) == {woken, fresh}
    assert still_waiting not in listed
    assert store.count_views({"reply": query}) == {"reply": 2}
    assert {
        t.id for t in store.list_queue(QueueQuery(needs_reply=True, text="Parcel")).tickets
    } == {
        woken,
        fresh,
    }
    # The queue's live patching agrees (window.matches), from the event's row fields.
    raw = store.tickets.find_one({"_id": still_waiting}, {"messages": 0}) or {}
    row = Ticket.from_mongo({**raw, "_lastFromCustomer": False, "_firstResponseAt": None})
    assert not matches(query, row, raw, clock.now, store.settings.sla)
    woken_row = Ticket.from_mongo({**raw, "_lastFromCustomer": True, "_firstResponseAt": None})
    assert matches(query, woken_row, raw, clock.now, store.settings.sla)


def test_the_needs_reply_view_is_a_standard_view_with_its_own_key() -> None:
    from helpdesk_tui.views import find_view, standard_views

    views = standard_views(ObjectId())
    view = find_view(views, "reply")
    assert view.name == "Needs reply" and view.query.needs_reply
    assert [v.key for v in views][:6] == [
        "mine",
        "unassigned",
        "open",
        "breaching",
        "waiting",
        "resolved",
    ]  # the number keys of the views before it are unchanged


# --- the wake-up write ----------------------------------------------------------------------


def change_for(store: TicketStore, ticket_id: ObjectId, message: Any) -> Change:
    """What every app's change stream delivers for the customer's message."""
    pipeline = [
        {"$match": {"_id": ticket_id}},
        {"$addFields": row_fields()},
        {"$project": {"messages": 0, "description": 0}},
    ]
    doc = next(iter(store.tickets.aggregate(pipeline)))
    return Change(ticket_id, "update", doc, frozenset({"messages"}), (message,))


def test_three_apps_seeing_one_customer_reply_make_one_transition_and_one_audit_entry(
    db: Any, people: People, clock: FakeClock
) -> None:
    stores = [TicketStore(db, StoreSettings(), clock=clock) for _ in range(3)]
    stores[0].init_db()
    ticket_id = waiting_ticket(stores[0], people, clock)
    clock.advance(minutes=30)
    message = customer_writes(stores[0], ticket_id, people.customer, "Flat 3, 12 High St")
    change = change_for(stores[0], ticket_id, message)

    results: list[list[ObjectId]] = [[] for _ in stores]
    barrier = threading.Barrier(len(stores))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = Waker(stores[index])((change,))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    assert sorted(len(r) for r in results) == [0, 0, 1]
    doc = stores[0].tickets.find_one({"_id": ticket_id})
    assert doc is not None and doc["status"] == "open"
    assert_mongoose_valid(doc)
    (entry,) = wakes(stores[0], ticket_id)
    assert (entry["from"], entry["to"], entry["actor"]) == ("waiting", "open", None)
    # Its queue entry moved with it: the Waiting view no longer lists it.
    waiting = stores[1].list_queue(QueueQuery(statuses=(Status.WAITING,))).tickets
    assert ticket_id not in [t.id for t in waiting]


def test_three_live_apps_wake_a_ticket_once_when_the_service_adds_the_customers_reply(
    db: Any, people: People, clock: FakeClock
) -> None:
    """End to end: three feeds on real change streams, the write made by another program."""
    stores = [TicketStore(db, StoreSettings(), clock=clock) for _ in range(3)]
    stores[0].init_db()
    ticket_id = waiting_ticket(stores[0], people, clock)
    recorders = [Recorder() for _ in stores]
    feeds = [
        LiveFeed(s, emit=r, poll_interval=0.2, waker=Waker(s))
        for s, r in zip(stores, recorders, strict=True)
    ]
    with ExitStack() as stack:
        for feed in feeds:
            stack.enter_context(following(feed))
        clock.advance(minutes=30)
        customer_writes(stores[0], ticket_id, people.customer, "Flat 3, 12 High St")
        # Each feed hands on the transition's own event only after its waker has run on the
        # customer's (one batch at a time): then all three have had their go.
        for recorder in recorders:
            recorder.wait_for(
                lambda changes: any(
                    c.id == ticket_id and c.doc is not None and c.doc.get("status") == "open"
                    for c in changes
                ),
                "the wake-up's event",
            )

    assert len(wakes(stores[0], ticket_id)) == 1
    doc = stores[0].tickets.find_one({"_id": ticket_id})
    assert doc is not None and doc["status"] == "open"
    assert_mongoose_valid(doc)


def test_setting_waiting_while_the_customer_spoke_last_does_not_bounce_back(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    assert ticket.id is not None
    store.set_status(ticket.id, Status.IN_PROGRESS)
    customer_writes(store, ticket.id, people.customer, "I'll call you")
    store.set_status(ticket.id, Status.WAITING)  # the agent waits for the call
    change = change_for(store, ticket.id, None)
    change = Change(ticket.id, "update", change.doc, frozenset({"status"}), ())

    assert Waker(store)((change,)) == []
    assert store.get_ticket(ticket.id).status is Status.WAITING
    assert wakes(store, ticket.id) == []


def test_an_event_seen_after_the_agent_answered_wakes_nothing(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    message = customer_writes(store, ticket_id, people.customer, "Flat 3")
    change = change_for(store, ticket_id, message)  # seen, but handled late:
    clock.advance(minutes=1)
    store.set_status(ticket_id, Status.OPEN)
    store.set_status(ticket_id, Status.IN_PROGRESS)
    store.add_message(ticket_id, sender=people.agent, content="Thanks", set_status=Status.WAITING)

    assert Waker(store)((change,)) == []
    assert store.get_ticket(ticket_id).status is Status.WAITING
    assert wakes(store, ticket_id) == []


def test_an_unrelated_write_in_between_does_not_cost_the_wake_up(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    message = customer_writes(store, ticket_id, people.customer, "Flat 3")
    change = change_for(store, ticket_id, message)
    clock.advance(seconds=1)
    store.change_tags(ticket_id, add=["vip"])  # updatedAt moves: the first try misses

    assert Waker(store)((change,)) == [ticket_id]
    assert store.get_ticket(ticket_id).status is Status.OPEN
    assert len(wakes(store, ticket_id)) == 1


def test_a_polled_change_without_row_fields_is_checked_against_the_ticket(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    message = customer_writes(store, ticket_id, people.customer, "Flat 3")
    doc = store.tickets.find_one({"_id": ticket_id}, {"messages": 0}) or {}
    polled = Change(ticket_id, "update", doc, frozenset(), (message,))

    assert Waker(store)((polled,)) == [ticket_id]
    assert len(wakes(store, ticket_id)) == 1


def test_wake_on_customer_reply_is_on_by_default_and_off_for_observers(
    db: Any, people: People, clock: FakeClock, tmp_path: Any
) -> None:
    from helpdesk_tui.app import HelpdeskApp
    from helpdesk_tui.config import Config
    from helpdesk_tui.domain.people import Identity
    from helpdesk_tui.drafts import Drafts

    store = TicketStore(db, StoreSettings(), clock=clock)
    user = store.user_by_email("ann@helpdesk.test")

    def app(config: Config, read_only: bool = False) -> HelpdeskApp:
        me = Identity.from_user(
            user, agent_roles=["agent"], supervisor_roles=[], read_only=read_only
        )
        return HelpdeskApp(store=store, config=config, me=me, drafts=Drafts(tmp_path, me.id))

    assert Config().workflow.wake_on_customer_reply is True
    assert isinstance(app(Config()).feed.waker, Waker)
    assert app(Config(), read_only=True).feed.waker is None
    off = Config.model_validate({"workflow": {"wake_on_customer_reply": False}})
    assert app(off).feed.waker is None


def test_the_conversation_names_the_customer_as_the_cause_of_a_wake_up() -> None:
    from helpdesk_tui.widgets.conversation import describe_event

    text = describe_event({"action": WAKE_ACTION, "from": "waiting", "to": "open"}, {})
    assert text == "the customer replied: status waiting → open"


def test_a_woken_ticket_is_marked_in_the_queue(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket_id = waiting_ticket(store, people, clock)
    customer_writes(store, ticket_id, people.customer, "answer")
    as_service(store, ticket_id)
    (row,) = [t for t in store.list_queue(QueueQuery()).tickets if t.id == ticket_id]
    assert row.woken and row.last_message_from_customer
