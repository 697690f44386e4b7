"""Malformed ``followers`` records: skipped; what I follow and who follows a ticket still fill."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from garbage import cases, spoiled

from helpdesk_tui.store.followers import FollowerStore
from helpdesk_tui.store.tickets import TicketStore


@pytest.mark.parametrize(
    ("field", "kind"), cases(["ticket", "agent", "since"], {"since": ["missing", "null"]})
)
def test_a_malformed_follower_beside_good_ones_leaves_following_and_followers_full(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    followers = FollowerStore(db, clock=clock)
    followers.init()
    a, b = (store.create_ticket(new_ticket(people)).id for _ in "ab")
    assert isinstance(a, ObjectId) and isinstance(b, ObjectId)
    followers.follow(a, people.agent)
    clock.advance(minutes=1)
    followers.follow(a, people.other_agent)
    good = {"ticket": b, "agent": people.agent, "via": "follow", "by": people.agent}
    good["since"] = clock.now + timedelta(minutes=1)
    db.followers.insert_one(spoiled(good, field, kind))

    following = followers.following(people.agent)
    assert a in following
    assert set(following) <= {a, b}  # b only if its record is still readable (since: order)
    assert (b in following) == (field == "since")
    assert set(followers.followers(a)) == {people.agent, people.other_agent}
    assert set(followers.followers(b)) == ({people.agent} if field == "since" else set())
