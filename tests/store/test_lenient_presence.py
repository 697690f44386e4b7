"""Malformed ``presence`` records: skipped; who else is on a ticket still shows, nothing raises."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People
from garbage import cases, spoiled

from helpdesk_tui.store.presence import PresenceStore


@pytest.mark.parametrize(
    ("field", "kind"),
    cases(["ticket", "agent", "name", "mode", "at"], {"name": ["string"], "mode": ["string"]}),
)
def test_a_malformed_presence_beside_a_good_one_leaves_who_else_is_here(
    db: Any, people: People, clock: FakeClock, field: str, kind: str
) -> None:
    presence = PresenceStore(db, clock=clock)
    presence.init()
    ticket = ObjectId()
    presence.beat(ticket, people.other_agent, "Bo Agent", "replying")
    good = {
        "_id": f"{people.supervisor}:{ticket}",
        "ticket": ticket,
        "agent": people.supervisor,
        "name": "Sam Super",
        "mode": "viewing",
        "at": clock.now,
    }
    db.presence.insert_one(spoiled(good, field, kind))

    others = presence.others([ticket], people.agent)

    assert [p.text for p in others[ticket]] == ["Bo Agent is replying"]
