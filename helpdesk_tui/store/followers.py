"""Who follows which ticket without owning it (``f``, or an ``@name`` in an internal note).

A collection of ours, one small document per (ticket, agent): nothing is ever added to a
ticket document, which stays one the Ticket Service's Mongoose schema could have written. A
unique index on (ticket, agent) makes following idempotent; an index on (agent, since) serves
"what do I follow".
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from helpdesk_tui.domain.models import mongo_time
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import FOLLOWERS
from helpdesk_tui.store.settings import Clock, system_clock

# Most followed tickets read for one agent (the "Following" view and the alerts).
FOLLOWING_LIMIT = 1_000
# What the readers check of a record (store/lenient.py: one of another shape is skipped).
SHAPE = {"ticket": 1, "agent": 1}


class FollowerStore:
    def __init__(
        self, db: Database[Any], collection: str = "followers", clock: Clock = system_clock
    ) -> None:
        self.collection = db[collection]
        self.clock = clock

    @db_errors
    def init(self) -> None:
        """The two indexes (idempotent)."""
        self.collection.create_index(
            [("ticket", 1), ("agent", 1)], unique=True, name="followers_ticket_agent"
        )
        self.collection.create_index([("agent", 1), ("since", -1)], name="followers_agent")

    @db_errors
    def follow(
        self, ticket: ObjectId, agent: ObjectId, *, via: str = "follow", by: ObjectId | None = None
    ) -> bool:
        """``agent`` follows ``ticket`` (``via``: "follow" or "mention"); False if already."""
        try:
            result = self.collection.update_one(
                {"ticket": ticket, "agent": agent},
                {
                    "$setOnInsert": {
                        "ticket": ticket,
                        "agent": agent,
                        "via": via,
                        "by": by or agent,
                        "since": mongo_time(self.clock()),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:  # two upserts at once: the other one inserted it
            return False
        return result.upserted_id is not None

    @db_errors
    def unfollow(self, ticket: ObjectId, agent: ObjectId) -> bool:
        return self.collection.delete_one({"ticket": ticket, "agent": agent}).deleted_count > 0

    @db_errors
    def following(self, agent: ObjectId) -> list[ObjectId]:
        """The tickets ``agent`` follows, most recently followed first."""
        cursor = self.collection.find({"agent": agent}, SHAPE)
        cursor = cursor.sort("since", -1).limit(FOLLOWING_LIMIT)
        return [doc["ticket"] for doc in FOLLOWERS.records(cursor)]

    @db_errors
    def followers(self, ticket: ObjectId) -> list[ObjectId]:
        cursor = self.collection.find({"ticket": ticket}, SHAPE)
        return [doc["agent"] for doc in FOLLOWERS.records(cursor)]

    @db_errors
    def is_following(self, ticket: ObjectId, agent: ObjectId) -> bool:
        return self.collection.find_one({"ticket": ticket, "agent": agent}, {"_id": 1}) is not None
