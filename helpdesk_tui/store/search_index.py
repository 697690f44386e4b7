"""The text index search uses where the server has them (``init-db`` creates it).

Kept apart from ``store/search.py`` so that the schema set-up can create it without
importing the store.
"""

from __future__ import annotations

from typing import Any

from pymongo.collection import Collection
from pymongo.errors import OperationFailure

TEXT_INDEX = "search_text"
# On ``users`` (the Ticket Service's, read only: we add indexes, never documents): a customer
# named by e-mail is a range on ``email``; a name word is matched on ``name``'s index keys, so
# MongoDB reads only the people it names (store/search.py ``person_query``).
PEOPLE_INDEXES: tuple[tuple[list[tuple[str, Any]], dict[str, Any]], ...] = (
    ([("email", 1)], {"name": "search_people_email"}),
    ([("name", 1)], {"name": "search_people_name"}),
)
# Servers that cannot build a text index (SecantusDB: CannotCreateIndex), or a collection that
# has another text index already (MongoDB allows one): IndexOptionsConflict, IndexKeySpecsConflict.
NO_TEXT_INDEX_CODES = (67, 85, 86, 115)


def text_index_spec() -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """The text index ``init-db`` creates: the words agents search for, weighted by field.

    ``language_override`` names a field no ticket has: with the default (``language``) a
    ticket whose ``language`` held an unsupported value could no longer be written."""
    keys = [("subject", "text"), ("tags", "text"), ("description", "text")]
    keys.append(("messages.content", "text"))
    options = {
        "name": TEXT_INDEX,
        "weights": {"subject": 10, "tags": 5, "description": 3, "messages.content": 1},
        "default_language": "english",
        "language_override": "searchLanguage",
    }
    return keys, options


def create_text_index(tickets: Collection[Any]) -> str | None:
    """Create the search index if the server can; None where it cannot (SecantusDB), or where
    another text index exists already (that one is used instead)."""
    keys, options = text_index_spec()
    try:
        return tickets.create_index(keys, **options)
    except OperationFailure as error:
        if error.code in NO_TEXT_INDEX_CODES:
            return None
        raise


def text_index_name(tickets: Collection[Any]) -> str | None:
    """The name of a text index on ``tickets`` (ours or the Ticket Service's), if any."""
    for index in tickets.list_indexes():
        key = index.get("key") or {}
        if "_fts" in key or "text" in key.values():
            return str(index.get("name"))
    return None


def create_people_indexes(users: Collection[Any]) -> list[str]:
    """The indexes search's people lookup uses on ``users`` (idempotent, nothing dropped).

    A server that has an index on the same keys already (the Ticket Service's unique index on
    ``email``) answers IndexOptionsConflict / IndexKeySpecsConflict: that one is used instead."""
    made = []
    for keys, options in PEOPLE_INDEXES:
        try:
            made.append(users.create_index(keys, **options))
        except OperationFailure as error:
            if error.code not in (85, 86):
                raise
    return made


def missing_people_indexes(users: Collection[Any]) -> list[str]:
    """The people indexes ``users`` lacks (an index on the same keys, whatever its name,
    counts), for ``doctor``."""
    present = [dict(index.get("key") or {}) for index in users.list_indexes()]
    return [
        str(options["name"])
        for keys, options in PEOPLE_INDEXES
        if not any(list(key.items())[: len(keys)] == keys for key in present)
    ]
