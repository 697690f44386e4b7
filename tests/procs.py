"""Work run in separate processes (true parallelism) by tests/live/test_live_server.py.

Each function opens its own client and store on the server's URI, as another helpdesk-tui, the
Ticket Service or a second agent would, and returns plain picklable results.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from helpdesk_tui.domain.errors import ConflictError
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def _store(uri: str, database: str) -> tuple[MongoClient[Any], TicketStore]:
    client: MongoClient[Any] = MongoClient(uri, tz_aware=True)
    return client, TicketStore(client[database], StoreSettings())


def reply_many(uri: str, database: str, ticket: str, agent: str, count: int) -> int:
    client, store = _store(uri, database)
    try:
        for i in range(count):
            store.add_message(ObjectId(ticket), sender=ObjectId(agent), content=f"{agent} #{i}")
        return count
    finally:
        client.close()


def take_each(uri: str, database: str, tickets: list[str], agent: str) -> list[str]:
    """Try to take every ticket; the ids this agent won."""
    client, store = _store(uri, database)
    won = []
    try:
        for ticket in tickets:
            try:
                store.take(ObjectId(ticket), ObjectId(agent))
                won.append(ticket)
            except ConflictError:
                pass
        return won
    finally:
        client.close()


def take_next_until_empty(uri: str, database: str, agent: str) -> list[str]:
    client, store = _store(uri, database)
    won = []
    try:
        while (ticket := store.take_next(ObjectId(agent))) is not None:
            won.append(str(ticket.id))
        return won
    finally:
        client.close()
