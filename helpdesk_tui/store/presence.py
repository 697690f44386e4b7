"""Who else has a ticket open or is replying to it (collision detection).

One small document per (agent, ticket), refreshed by a heartbeat and removed on leave; a TTL
index on ``at`` lets the server drop entries of clients that died. Readers also ignore
entries older than ``STALE_AFTER``, since the TTL monitor only runs once a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import PyMongoError

from helpdesk_tui.domain.errors import StoreUnavailable
from helpdesk_tui.domain.models import mongo_time
from helpdesk_tui.store.lenient import PRESENCE
from helpdesk_tui.store.settings import Clock, StoreSettings, system_clock

HEARTBEAT_SECONDS = 15
STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 3)
EXPIRE_AFTER_SECONDS = 120


@dataclass(frozen=True)
class Presence:
    ticket: ObjectId
    agent: ObjectId
    name: str
    mode: str  # "viewing" or "replying"

    @property
    def text(self) -> str:
        return f"{self.name} is {self.mode}"


class PresenceStore:
    def __init__(
        self,
        db: Database[Any],
        collection: str = StoreSettings.presence,
        clock: Clock = system_clock,
    ) -> None:
        """``collection``: the settings' ``presence`` (``TicketStore.presence()`` passes it)."""
        self.collection = db[collection]
        self.clock = clock

    def init(self) -> None:
        """Create the presence indexes; a refusal (no createIndex privilege) is a typed error.

        Without them the app still works: entries of crashed clients are ignored after
        ``STALE_AFTER`` by the readers, only not removed by the server.
        """
        try:
            # Made by init-db already: an agent's login may list indexes but not create them.
            if {"presence_ttl", "presence_ticket"} <= {
                index["name"] for index in self.collection.list_indexes()
            }:
                return
            self.collection.create_index(
                [("at", 1)], expireAfterSeconds=EXPIRE_AFTER_SECONDS, name="presence_ttl"
            )
            self.collection.create_index([("ticket", 1)], name="presence_ticket")
        except PyMongoError as error:
            first = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
            raise StoreUnavailable(
                f"could not create the presence indexes ({first}); who-else-is-here hints "
                "still work, old entries expire on the readers' side (run init-db as an admin)"
            ) from error

    def beat(self, ticket: ObjectId, agent: ObjectId, name: str, mode: str) -> None:
        """Say (again) that ``agent`` is viewing/replying to ``ticket``. Best effort."""
        try:
            self.collection.update_one(
                {"_id": f"{agent}:{ticket}"},
                {
                    "$set": {
                        "ticket": ticket,
                        "agent": agent,
                        "name": name,
                        "mode": mode,
                        "at": mongo_time(self.clock()),
                    }
                },
                upsert=True,
            )
        except PyMongoError:
            pass  # presence is a courtesy: never get in the agent's way

    def leave(self, ticket: ObjectId, agent: ObjectId) -> None:
        try:
            self.collection.delete_one({"_id": f"{agent}:{ticket}"})
        except PyMongoError:
            pass

    def others(self, tickets: Iterable[ObjectId], me: ObjectId) -> dict[ObjectId, list[Presence]]:
        """Live presence of other agents on these tickets, replying before viewing."""
        ids = list(tickets)
        if not ids:
            return {}
        fresh = mongo_time(self.clock()) - STALE_AFTER
        found: dict[ObjectId, list[Presence]] = {}
        try:
            cursor = self.collection.find(
                {"ticket": {"$in": ids}, "agent": {"$ne": me}, "at": {"$gt": fresh}}
            )
            for doc in PRESENCE.records(cursor):  # another shape: skipped (store/lenient.py)
                entry = Presence(doc["ticket"], doc["agent"], doc["name"], doc["mode"])
                found.setdefault(entry.ticket, []).append(entry)
        except PyMongoError:
            return {}
        for entries in found.values():
            entries.sort(key=lambda p: (p.mode != "replying", p.name))
        return found
