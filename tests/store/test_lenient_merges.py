"""Malformed ``ticket_merges`` records: skipped (or their malformed parts); the merged ticket
still says where each copied message came from."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People
from garbage import cases, spoiled

from helpdesk_tui.store.merge import Merger
from helpdesk_tui.store.tickets import TicketStore


def merge_record(target: ObjectId, number: str, copy: ObjectId, clock: FakeClock) -> dict[str, Any]:
    source = {"number": number, "messages": [{"from": ObjectId(), "to": copy}]}
    return {"target": target, "targetNumber": "TKT-000001", "sources": [source], "at": clock.now}


@pytest.mark.parametrize(("field", "kind"), cases(["target", "sources"], {"sources": ["array"]}))
def test_a_malformed_merge_record_beside_a_good_one_leaves_the_origins(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    target, copy, other = ObjectId(), ObjectId(), ObjectId()
    db.ticket_merges.insert_one(merge_record(target, "TKT-000002", copy, clock))
    db.ticket_merges.insert_one(
        spoiled(merge_record(target, "TKT-000003", other, clock), field, kind)
    )

    assert Merger(store).origins(target) == {copy: "TKT-000002"}


def test_malformed_sources_and_message_pairs_are_skipped_one_by_one(
    store: TicketStore, db: Any, clock: FakeClock
) -> None:
    target, copy, other = ObjectId(), ObjectId(), ObjectId()
    record = merge_record(target, "TKT-000002", copy, clock)
    record["sources"] += [
        "TKT-000009",
        7,
        None,
        ["x"],
        {"number": 5, "messages": "x"},
        {"number": "TKT-000004", "messages": {"to": ObjectId()}},
        {"number": ["TKT-000005"], "messages": ["x", None, {"to": "y"}, {"to": other}]},
    ]
    db.ticket_merges.insert_one(record)

    assert Merger(store).origins(target) == {copy: "TKT-000002", other: "another ticket"}
