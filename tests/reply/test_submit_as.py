"""Submit as (issue 15, item 2): a reply and a status in one compare-and-set write.

Where the workflow needs intermediate steps (open → in_progress → waiting) they are taken in
that same write and each is audited; where no path exists, the refusal names what can follow
and nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from helpers import assert_mongoose_valid

from helpdesk_tui.domain.errors import InvalidTransition
from helpdesk_tui.domain.models import Status
from helpdesk_tui.domain.workflow import Workflow
from helpdesk_tui.store.tickets import TicketStore

W = Workflow()


@pytest.mark.parametrize(
    ("start", "target", "steps"),
    [
        ("open", "waiting", ("in_progress", "waiting")),
        ("open", "resolved", ("in_progress", "resolved")),
        ("waiting", "resolved", ("open", "in_progress", "resolved")),
        ("in_progress", "closed", ("resolved", "closed")),
        ("in_progress", "waiting", ("waiting",)),
        ("waiting", "waiting", ()),
    ],
)
def test_the_path_is_the_fewest_allowed_steps(start: str, target: str, steps: tuple[str]) -> None:
    assert W.path(Status(start), Status(target)) == tuple(Status(s) for s in steps)


def test_no_path_names_what_can_follow() -> None:
    with pytest.raises(InvalidTransition, match=r"no path from resolved to waiting.*only closed"):
        W.path(Status.RESOLVED, Status.WAITING)
    with pytest.raises(InvalidTransition, match="from closed only nothing \\(final state\\)"):
        W.path(Status.CLOSED, Status.WAITING)


def test_an_extra_transition_shortens_the_path() -> None:
    reopen = Workflow.with_extra({"resolved": ["open"]})
    assert reopen.path(Status.RESOLVED, Status.WAITING) == (
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING,
    )


def spy_writes(store: TicketStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    writes: list[dict[str, Any]] = []
    for name in ("find_one_and_update", "update_one", "update_many", "replace_one"):
        original = getattr(store.tickets, name)

        def spy(filter: Any, update: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            writes.append({"filter": filter, "update": update})
            return _original(filter, update, *args, **kw)

        monkeypatch.setattr(store.tickets, name, spy)
    return writes


def statuses(store: TicketStore, ticket_id: ObjectId) -> list[tuple[str, str]]:
    return [(e["from"], e["to"]) for e in store.history(ticket_id) if e["action"] == "status"]


def test_send_and_set_waiting_on_an_open_ticket_takes_both_steps_in_one_write(
    store: TicketStore, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    assert ticket.id is not None
    writes = spy_writes(store, monkeypatch)

    store.add_message(
        ticket.id, sender=people.agent, content="Which address?", set_status=Status.WAITING
    )

    (write,) = writes
    assert write["filter"]["status"] == "open"  # compare-and-set on what was read
    assert "messages" in write["update"]["$push"] and write["update"]["$set"]["status"] == "waiting"
    doc = store.tickets.find_one({"_id": ticket.id})
    assert doc is not None and doc["status"] == "waiting"
    assert doc["messages"][-1]["content"] == "Which address?"
    assert_mongoose_valid(doc)
    assert statuses(store, ticket.id) == [("open", "in_progress"), ("in_progress", "waiting")]


def test_send_and_resolve_from_waiting_goes_through_open_and_in_progress(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    assert ticket.id is not None
    store.add_message(ticket.id, sender=people.agent, content="Photo?", set_status=Status.WAITING)
    clock.advance(hours=1)

    store.add_message(
        ticket.id, sender=people.agent, content="Refunded.", set_status=Status.RESOLVED
    )

    doc = store.tickets.find_one({"_id": ticket.id})
    assert doc is not None and doc["status"] == "resolved"
    assert doc["resolvedAt"] == doc["updatedAt"] and "closedAt" not in doc
    assert_mongoose_valid(doc)
    assert statuses(store, ticket.id)[-3:] == [
        ("waiting", "open"),
        ("open", "in_progress"),
        ("in_progress", "resolved"),
    ]


def test_send_and_set_waiting_where_no_path_exists_writes_nothing(
    store: TicketStore, people: People
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    assert ticket.id is not None
    store.add_message(ticket.id, sender=people.agent, content="Done.", set_status=Status.RESOLVED)
    before = store.tickets.find_one({"_id": ticket.id})
    history = store.history(ticket.id)

    with pytest.raises(InvalidTransition, match="no path from resolved to waiting"):
        store.add_message(
            ticket.id, sender=people.agent, content="One more thing", set_status=Status.WAITING
        )

    assert store.tickets.find_one({"_id": ticket.id}) == before
    assert store.history(ticket.id) == history


def test_a_reopen_on_the_way_to_resolved_keeps_the_new_resolved_at(
    db: Any, people: People, clock: FakeClock
) -> None:
    from helpdesk_tui.store.tickets import StoreSettings

    store = TicketStore(
        db, StoreSettings(workflow=Workflow.with_extra({"closed": ["open"]})), clock
    )
    store.init_db()
    ticket = store.create_ticket(new_ticket(people))
    assert ticket.id is not None
    store.add_message(ticket.id, sender=people.agent, content="Done.", set_status=Status.CLOSED)
    clock.advance(days=1)

    store.add_message(ticket.id, sender=people.agent, content="Again.", set_status=Status.RESOLVED)

    doc = store.tickets.find_one({"_id": ticket.id})
    assert doc is not None and doc["status"] == "resolved"
    assert doc["resolvedAt"] == doc["updatedAt"]
    assert "closedAt" not in doc  # the old close is undone by the reopen
    assert_mongoose_valid(doc)
