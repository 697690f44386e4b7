"""People: the users collection (agents and customers), read only, cached for the store's life."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from helpdesk_tui.domain.errors import NotFound
from helpdesk_tui.domain.models import User
from helpdesk_tui.store.errors import db_errors

PROJECTION = {"name": 1, "email": 1, "role": 1}


class People:
    """Users by id, by email and by role; every user read is remembered (users are read only)."""

    def __init__(self, users: Collection[Any]) -> None:
        self.users = users
        self._cache: dict[ObjectId, User] = {}

    @db_errors
    def by_ids(self, ids: Iterable[ObjectId | None]) -> dict[ObjectId, User]:
        """Users in one ``$in`` query, cached for the life of the store."""
        wanted = {i for i in ids if isinstance(i, ObjectId)}
        missing = wanted - self._cache.keys()
        if missing:
            for doc in self.users.find({"_id": {"$in": list(missing)}}, PROJECTION):
                user = User.from_mongo(doc)
                self._cache[user.object_id] = user  # found by it
        return {i: self._cache[i] for i in wanted if i in self._cache}

    @db_errors
    def by_email(self, email: str) -> User:
        email = email.strip()
        doc = self.users.find_one({"email": email}) or self.users.find_one({"email": email.lower()})
        if doc is None:
            raise NotFound(f"no user with email {email!r} in '{self.users.name}'")
        user = User.from_mongo(doc)
        if isinstance(user.id, ObjectId):
            self._cache[user.id] = user
        return user

    @db_errors
    def staff(self, roles: Sequence[str]) -> list[User]:
        """Users whose role is one of ``roles``, by name: those with an ObjectId ``_id`` (one
        written by hand with another is no one a ticket can be assigned to or name)."""
        cursor = self.users.find({"role": {"$in": list(roles)}}, PROJECTION)
        found = [User.from_mongo(doc) for doc in cursor.sort("name", 1)]
        users = [u for u in found if isinstance(u.id, ObjectId)]
        self._cache.update({u.object_id: u for u in users})
        return users

    @db_errors
    def insert(self, users: Sequence[dict[str, Any]]) -> None:
        """Bulk-insert generated people (the demo); unordered, so one duplicate stops nothing."""
        if users:
            self.users.insert_many(list(users), ordered=False)
