"""A stored ticket (and person) always has its ``_id`` (issue 28): the ObjectId the service
writes, or a foreign one (a document written by hand or by another tool) that keys its row and
is refused, in one place and in one line, by whatever would open or write the ticket by it."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import People, as_service, new_ticket
from helpers import QUIET, SUPERVISOR, WIDE, MakeApp
from pilot import press, settle
from pydantic import ValidationError

from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.macros import Macro
from helpdesk_tui.domain.models import ForeignId, Status, Ticket, User
from helpdesk_tui.store.macros import MacroRunner
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.ticket_table import TicketTable, row_key

REFUSED = "HAND-1: malformed document (its _id is not an ObjectId)"


def hand_written(db: Any, people: People, clock: Any, _id: Any, **fields: Any) -> None:
    doc = {
        "_id": _id,
        "subject": "Imported by hand",
        "user": people.customer,
        "category": "other",
        "status": "open",
        "createdAt": clock.now,
        "updatedAt": clock.now,
    }
    db.tickets.insert_one(doc | fields)


def test_a_ticket_without_an_id_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="_id"):
        Ticket(ticket_number="TKT-000001", subject="Parcel never arrived")


def test_a_created_ticket_has_the_objectid_it_was_stored_by(
    store: TicketStore, people: People, db: Any
) -> None:
    created = store.create_ticket(new_ticket(people))
    stored = db.tickets.find_one({"ticketNumber": created.ticket_number})
    assert created.object_id == stored["_id"]


def test_a_foreign_id_is_read_as_such_and_every_write_is_refused_in_one_line(
    store: TicketStore, people: People, db: Any, clock: Any
) -> None:
    hand_written(db, people, clock, "hand-1", ticketNumber="HAND-1")
    as_service(store, "hand-1")
    (row,) = store.list_queue(QueueQuery(statuses=(Status.OPEN,))).tickets
    assert row.id == ForeignId.of("hand-1") and isinstance(row.id, ForeignId)
    assert row.id.raw == "hand-1"
    with pytest.raises(InvalidRequest) as refused:
        row.object_id  # noqa: B018 (the property is the refusal)
    said = str(refused.value)
    assert said.startswith(REFUSED) and "\n" not in said
    # A store write is refused by the same path, before anything is read or written.
    before = db.tickets.find_one({"_id": "hand-1"})
    runner = MacroRunner(
        store, Macro(name="ack", status=Status.IN_PROGRESS), me=people.agent, agent_name="Ann"
    )
    with pytest.raises(InvalidRequest, match=r"^HAND-1: malformed document \(its _id"):
        runner.apply(row)
    assert db.tickets.find_one({"_id": "hand-1"}) == before


def test_a_foreign_id_is_never_the_objectid_it_spells() -> None:
    oid = ObjectId()
    spelled = Ticket.from_mongo({"_id": str(oid), "ticketNumber": "HAND-1"})
    real = Ticket.from_mongo({"_id": oid, "ticketNumber": "TKT-000001"})
    assert spelled.id != real.id and row_key(spelled) != row_key(real)


async def test_two_foreign_ids_alike_in_their_first_forty_characters_are_two_rows(
    store: TicketStore, people: People, db: Any, clock: Any, make_app: MakeApp
) -> None:
    # Imported at the same time, neither with a number (one has none, one an empty one): only
    # the _id tells them apart, and not in its first forty characters.
    ids = [f"imported-from-the-old-helpdesk-2019-batch-{n:04}" for n in (1, 2)]
    hand_written(db, people, clock, ids[0])
    hand_written(db, people, clock, ids[1], ticketNumber="")
    as_service(store, *ids)
    app = make_app(store, SUPERVISOR, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "3")  # All open
        shown = [t for t in app.screen.query_one(TicketTable).tickets.values()]
        assert sorted(t.id.raw for t in shown if isinstance(t.id, ForeignId)) == ids


def test_a_person_without_an_id_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="_id"):
        User(name="Bo", email="bo@helpdesk.test")


def test_a_macro_naming_a_person_with_a_foreign_id_is_refused_not_read_as_unassign(
    store: TicketStore, people: People, db: Any
) -> None:
    db.users.insert_one(
        {"_id": "hand-dee", "name": "Dee", "email": "dee@helpdesk.test", "role": "agent"}
    )
    ticket = store.create_ticket(new_ticket(people, assigned_to=people.agent))
    runner = MacroRunner(
        store, Macro(name="to Dee", assignee="dee@helpdesk.test"), me=people.agent, agent_name="A"
    )
    with pytest.raises(InvalidRequest, match=r"^dee@helpdesk\.test has no ObjectId _id in users"):
        runner.prepare([ticket])
    assert db.tickets.find_one({"_id": ticket.id})["assignedTo"] == people.agent
