"""Reading tickets leniently (odd documents never crash) and writing them as Mongoose would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from pydantic import ValidationError

from helpdesk_tui.domain.models import (
    Category,
    Message,
    NewTicket,
    Priority,
    Status,
    Ticket,
    User,
    first_response,
    mongo_time,
    new_message_doc,
    new_ticket_doc,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CUSTOMER = ObjectId()
AGENT = ObjectId()


def message(sender: ObjectId, minutes: int, *, internal: bool = False) -> dict[str, Any]:
    return new_message_doc(
        sender=sender,
        content=f"message at +{minutes}m",
        now=NOW + timedelta(minutes=minutes),
        is_internal=internal,
    )


def good_doc(**changes: Any) -> dict[str, Any]:
    doc = new_ticket_doc(
        NewTicket(
            subject="Parcel never arrived",
            description="Still nothing.",
            user=CUSTOMER,
            category=Category.SHIPPING,
            priority=Priority.HIGH,
            tags=["vip"],
        ),
        ticket_number="TKT-000042",
        now=NOW,
    )
    doc.update(changes)
    return doc


# --- lenient reading -----------------------------------------------------------------------


def test_well_formed_document_reads_without_problems() -> None:
    ticket = Ticket.from_mongo(good_doc())

    assert ticket.problems == ()
    assert not ticket.is_broken
    assert ticket.ticket_number == "TKT-000042"
    assert ticket.subject == "Parcel never arrived"
    assert ticket.category is Category.SHIPPING
    assert ticket.priority is Priority.HIGH
    assert ticket.status is Status.OPEN
    assert ticket.tags == ("vip",)
    assert ticket.created_at == NOW
    assert ticket.version == 0


def test_empty_document_loads_and_lists_every_missing_required_field() -> None:
    ticket = Ticket.from_mongo({})

    assert ticket.is_broken
    for key in ("ticketNumber", "subject", "user", "category", "createdAt"):
        assert f"{key}: missing" in ticket.problems
    assert ticket.status is Status.OPEN
    assert ticket.priority is Priority.MEDIUM


@pytest.mark.parametrize("doc", [None, "TKT-1", 42, ["a", "list"]])
def test_non_document_loads_as_an_empty_ticket_with_a_problem(doc: Any) -> None:
    ticket = Ticket.from_mongo(doc)

    assert ticket.problems == (f"not a document: {type(doc).__name__}",)
    assert not isinstance(ticket.id, ObjectId)  # a ticket, with no ObjectId to write it by


def test_missing_subject_is_flagged_and_the_rest_is_still_shown() -> None:
    doc = good_doc()
    del doc["subject"]

    ticket = Ticket.from_mongo(doc)

    assert ticket.problems == ("subject: missing",)
    assert ticket.subject == ""
    assert ticket.ticket_number == "TKT-000042"
    assert ticket.priority is Priority.HIGH


def test_unknown_priority_falls_back_to_medium_and_names_the_bad_value() -> None:
    ticket = Ticket.from_mongo(good_doc(priority="critical"))

    assert ticket.priority is Priority.MEDIUM
    assert len(ticket.problems) == 1
    assert ticket.problems[0].startswith("priority:")
    assert "'critical'" in ticket.problems[0]
    assert ticket.subject == "Parcel never arrived"


def test_unknown_status_falls_back_to_open_and_names_the_bad_value() -> None:
    ticket = Ticket.from_mongo(good_doc(status="pending"))

    assert ticket.status is Status.OPEN
    assert len(ticket.problems) == 1
    assert "status:" in ticket.problems[0]
    assert "'pending'" in ticket.problems[0]


def test_tags_as_a_string_are_flagged_and_shown_as_no_tags() -> None:
    ticket = Ticket.from_mongo(good_doc(tags="not-a-list"))

    assert ticket.tags == ()
    assert any(p.startswith("tags:") and "not-a-list" in p for p in ticket.problems)


def test_messages_that_are_not_a_list_are_flagged_and_shown_as_no_conversation() -> None:
    ticket = Ticket.from_mongo(good_doc(messages="hello"))

    assert ticket.messages == ()
    assert any(p.startswith("messages: not a list") for p in ticket.problems)


def test_a_message_that_is_a_string_is_flagged_with_its_index_and_others_still_show() -> None:
    good = message(AGENT, 5)
    ticket = Ticket.from_mongo(good_doc(messages=["just text", good]))

    assert "messages[0].not a document: str" in ticket.problems
    assert len(ticket.messages) == 2
    assert ticket.messages[1].content == good["content"]
    assert ticket.messages[1].sender == AGENT


def test_a_message_with_a_bad_field_keeps_its_other_fields() -> None:
    bad = {**message(AGENT, 5), "isInternal": "maybe", "attachments": "photo.jpg"}

    ticket = Ticket.from_mongo(good_doc(messages=[bad]))

    shown = ticket.messages[0]
    assert shown.content == bad["content"]
    assert shown.is_internal is False
    assert shown.attachments == ()
    assert any(p.startswith("messages[0].isInternal") for p in ticket.problems)
    assert any(p.startswith("messages[0].attachments") for p in ticket.problems)


def test_created_at_that_is_not_a_date_is_flagged_and_left_empty() -> None:
    ticket = Ticket.from_mongo(good_doc(createdAt="last tuesday"))

    assert ticket.created_at is None
    assert any(p.startswith("createdAt:") and "last tuesday" in p for p in ticket.problems)


def test_created_at_stored_as_an_iso_string_is_flagged() -> None:
    ticket = Ticket.from_mongo(good_doc(createdAt="2026-11-20T10:00:00Z"))

    assert any(p.startswith("createdAt") for p in ticket.problems)


def test_extra_fields_are_ignored_without_a_problem() -> None:
    ticket = Ticket.from_mongo(good_doc(legacyField={"imported": True}, channel="email"))

    assert ticket.problems == ()
    assert ticket.subject == "Parcel never arrived"


def test_user_that_is_not_an_object_id_is_flagged() -> None:
    ticket = Ticket.from_mongo(good_doc(user="carla@example.com"))

    assert ticket.user is None
    assert any(p.startswith("user:") for p in ticket.problems)


def test_many_problems_at_once_are_all_reported() -> None:
    doc = good_doc(priority="critical", status="pending", tags="x", messages=5)
    del doc["category"]

    ticket = Ticket.from_mongo(doc)

    keys = {p.split(":")[0] for p in ticket.problems}
    assert {"category", "priority", "status", "tags", "messages"} <= keys
    assert ticket.ticket_number == "TKT-000042"


def test_naive_datetimes_from_a_non_tz_aware_client_are_read_as_utc() -> None:
    ticket = Ticket.from_mongo(good_doc(createdAt=datetime(2026, 11, 24, 10, 0)))

    assert ticket.created_at == NOW
    assert ticket.created_at is not None and ticket.created_at.tzinfo is not None


def test_other_time_zones_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    ticket = Ticket.from_mongo(good_doc(createdAt=datetime(2026, 11, 24, 12, 0, tzinfo=plus_two)))

    assert ticket.created_at == NOW
    assert ticket.created_at is not None and ticket.created_at.utcoffset() == timedelta(0)


def test_user_without_email_is_flagged_and_displays_by_name() -> None:
    person = User.from_mongo({"_id": ObjectId(), "name": "Ann"})

    assert person.problems == ("email: missing",)
    assert person.display == "Ann"


def test_user_display_falls_back_to_email_then_id() -> None:
    uid = ObjectId()

    assert User.from_mongo({"_id": uid, "email": "a@b.c"}).display == "a@b.c"
    assert User.from_mongo({"_id": uid}).display == str(uid)
    assert User.from_mongo({}).display == "unknown"


# --- derived conversation facts --------------------------------------------------------------


def test_first_response_is_the_first_public_message_not_from_the_customer() -> None:
    msgs = [
        message(CUSTOMER, 0),
        message(AGENT, 10, internal=True),
        message(CUSTOMER, 20),
        message(AGENT, 30),
        message(AGENT, 40),
    ]

    ticket = Ticket.from_mongo(good_doc(messages=msgs))

    assert ticket.first_response_at == NOW + timedelta(minutes=30)
    assert ticket.message_count == 5
    assert ticket.last_message_at == NOW + timedelta(minutes=40)
    assert ticket.last_message_from_customer is False
    assert len(ticket.public_messages) == 4


def test_no_first_response_while_only_customer_and_internal_notes_exist() -> None:
    msgs = [message(CUSTOMER, 0), message(AGENT, 10, internal=True), message(CUSTOMER, 20)]

    ticket = Ticket.from_mongo(good_doc(messages=msgs))

    assert ticket.first_response_at is None
    assert ticket.last_message_from_customer is True


def test_first_response_function_skips_messages_without_a_time() -> None:
    undated = Message.from_mongo({"sender": AGENT, "content": "hi"})
    dated = Message.from_mongo(message(AGENT, 15))

    assert first_response([undated, dated], CUSTOMER) == NOW + timedelta(minutes=15)


def test_queue_derived_fields_from_the_pipeline_are_used_as_given() -> None:
    doc = good_doc(_firstResponseAt=NOW, _messageCount=7, _lastFromCustomer=True)
    doc.pop("messages")

    ticket = Ticket.from_mongo(doc)

    assert ticket.message_count == 7
    assert ticket.first_response_at == NOW
    assert ticket.last_message_from_customer is True
    assert ticket.messages == ()


# --- enums ---------------------------------------------------------------------------------


def test_priority_rank_orders_urgent_first() -> None:
    ordered = sorted(Priority, key=lambda p: p.rank)

    assert ordered == [Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW]


def test_status_label_reads_as_words_and_done_means_resolved_or_closed() -> None:
    assert Status.IN_PROGRESS.label == "in progress"
    assert {s for s in Status if s.is_done} == {Status.RESOLVED, Status.CLOSED}


def test_enums_are_exactly_the_seed_schema_values() -> None:
    assert {c.value for c in Category} == {
        "order",
        "product",
        "payment",
        "shipping",
        "account",
        "other",
    }
    assert {p.value for p in Priority} == {"low", "medium", "high", "urgent"}
    assert {s.value for s in Status} == {"open", "in_progress", "waiting", "resolved", "closed"}


# --- strict writing ------------------------------------------------------------------------


def test_mongo_time_is_utc_with_millisecond_precision() -> None:
    moment = datetime(2026, 11, 24, 11, 0, 0, 123_987, tzinfo=timezone(timedelta(hours=1)))

    stored = mongo_time(moment)

    assert stored == datetime(2026, 11, 24, 10, 0, 0, 123_000, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_new_ticket_doc_is_what_mongoose_save_writes() -> None:
    order, agent = ObjectId(), ObjectId()
    new = NewTicket(
        subject="  Wrong item  ",
        user=CUSTOMER,
        category=Category.ORDER,
        order=order,
        assigned_to=agent,
        tags=[" vip ", "vip", "", "refund"],
    )

    doc = new_ticket_doc(new, ticket_number="TKT-000001", now=NOW + timedelta(microseconds=999))

    assert isinstance(doc["_id"], ObjectId)
    assert doc["subject"] == "Wrong item"
    assert doc["category"] == "order"
    assert doc["priority"] == "medium"
    assert doc["status"] == "open"
    assert doc["order"] == order
    assert doc["assignedTo"] == agent
    assert doc["tags"] == ["vip", "refund"]
    assert doc["messages"] == []
    assert doc["__v"] == 0
    assert doc["createdAt"] == doc["updatedAt"] == NOW


def test_new_ticket_doc_leaves_unset_optional_references_out() -> None:
    doc = new_ticket_doc(
        NewTicket(subject="Hi", user=CUSTOMER, category=Category.OTHER),
        ticket_number="TKT-000001",
        now=NOW,
    )

    assert "order" not in doc
    assert "assignedTo" not in doc
    assert "resolvedAt" not in doc
    assert "closedAt" not in doc


def test_new_message_doc_has_its_own_id_and_every_schema_field() -> None:
    first = new_message_doc(sender=AGENT, content="Hello", now=NOW, attachments=("a.png",))
    second = new_message_doc(sender=AGENT, content="Hello", now=NOW, is_internal=True)

    assert set(first) == {"_id", "sender", "content", "attachments", "isInternal", "createdAt"}
    assert first["_id"] != second["_id"]
    assert first["attachments"] == ["a.png"]
    assert first["isInternal"] is False
    assert second["isInternal"] is True
    assert second["attachments"] == []
    assert first["createdAt"] == NOW


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": ""},
        {"subject": "   "},
        {"subject": "x" * 501},
        {"category": "critical"},
        {"priority": "critical"},
        {"user": "not-an-id"},
        {"unknown": 1},
    ],
)
def test_new_ticket_refuses_invalid_input_before_anything_is_written(
    fields: dict[str, Any],
) -> None:
    base: dict[str, Any] = {"subject": "Hi", "user": CUSTOMER, "category": Category.OTHER}

    with pytest.raises(ValidationError):
        NewTicket(**{**base, **fields})
