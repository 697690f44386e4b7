"""``FakeMongo``: a scripted MongoDB wire-protocol server on localhost (``mockupdb``), and the
replies, events and tokens scripts are made of.

It answers the driver's handshake and monitoring ``hello`` as a replica-set primary (or a
standalone, or a mongos), records every other command, and answers ``aggregate``/``getMore``/
``find`` from per-test scripts, falling back to an idle change stream. Used by the live feed's
wire tests (tests/live/test_live_wire.py) and search's (tests/search/).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from mockupdb import MockupDB
from pymongo import MongoClient

from helpdesk_tui.store.tickets import StoreSettings, TicketStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DB = "helpdesk"
NS = f"{DB}.tickets"
CURSOR = 123
TIMEOUT = 4.0
HANGUP = "hang up"  # a scripted reply: close the connection instead of answering


def token(name: str) -> dict[str, str]:
    return {"_data": f"8263{name}"}


def cursor(
    events: list[Mapping[str, Any]],
    *,
    pbrt: Mapping[str, Any] | None = None,
    first: bool = True,
    cursor_id: int = CURSOR,
) -> dict[str, Any]:
    """An ``aggregate`` (first) or ``getMore`` reply."""
    body: dict[str, Any] = {
        "id": cursor_id,
        "ns": NS,
        "firstBatch" if first else "nextBatch": list(events),
    }
    if pbrt is not None:
        body["postBatchResumeToken"] = pbrt
    return {"cursor": body, "ok": 1}


def error(code: int, name: str, *labels: str) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": 0, "code": code, "codeName": name, "errmsg": f"scripted {name}"}
    if labels:
        reply["errorLabels"] = list(labels)
    return reply


def ticket_doc(ticket_id: ObjectId, **fields: Any) -> dict[str, Any]:
    """A ``fullDocument`` as the stream's projection leaves it (queue fields only)."""
    return {
        "_id": ticket_id,
        "ticketNumber": "TKT-000042",
        "subject": "Parcel never arrived",
        "status": "open",
        "priority": "high",
        "createdAt": NOW - timedelta(hours=1),
        "updatedAt": NOW,
        "__v": 4,
        **fields,
    }


def update_event(name: str, ticket_id: ObjectId, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_id": token(name),
        "operationType": "update",
        "documentKey": {"_id": ticket_id},
        "updateDescription": {"updatedFields": dict(fields), "removedFields": []},
        "fullDocument": ticket_doc(ticket_id),
    }


def insert_event(name: str, ticket_id: ObjectId) -> dict[str, Any]:
    return {
        "_id": token(name),
        "operationType": "insert",
        "documentKey": {"_id": ticket_id},
        "fullDocument": ticket_doc(ticket_id, createdAt=NOW, __v=0),
    }


def changestream_stage(request: Mapping[str, Any]) -> dict[str, Any]:
    return dict(request["pipeline"][0]["$changeStream"])


EXPECTED_FIRST_STAGE = {"fullDocument": "updateLookup"}


def eventually(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


class FakeMongo:
    """A scripted mongod/mongos on localhost."""

    def __init__(self, *, set_name: str | None = "rs0", msg: str | None = None) -> None:
        self.server = MockupDB()
        self._lock = threading.Lock()
        self._requests: list[tuple[str, dict[str, Any]]] = []
        self._scripts: dict[str, deque[Any]] = defaultdict(deque)
        self._clients: list[MongoClient[Any]] = []
        self.position: Mapping[str, Any] = token("0000")  # the stream's latest resume token
        self.set_name = set_name
        self.msg = msg
        self.server.autoresponds(self._handle)
        self.server.run()

    # --- scripting and inspection --------------------------------------------------------------

    def script(self, command: str, *replies: Any) -> None:
        """Answer the next ``command`` requests with ``replies`` (dicts, or ``HANGUP``)."""
        with self._lock:
            self._scripts[command.lower()].extend(replies)

    def sent(self, command: str) -> list[dict[str, Any]]:
        with self._lock:
            return [doc for name, doc in self._requests if name == command.lower()]

    def wait_sent(self, command: str, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + TIMEOUT
        while len(self.sent(command)) < count:
            assert time.monotonic() < deadline, (
                f"expected {count} {command} requests, got {self.sent(command)}"
            )
            time.sleep(0.002)
        return self.sent(command)

    def store(self) -> TicketStore:
        client: MongoClient[Any] = MongoClient(
            f"mongodb://{self.server.address_string}/?directConnection=true",
            serverSelectionTimeoutMS=3000,
            heartbeatFrequencyMS=500,
            tz_aware=True,
        )
        self._clients.append(client)
        return TicketStore(client[DB], StoreSettings(), clock=lambda: NOW)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        # MockupDB's accept loop sleeps in a 1 s select(); flag it and wake it with a
        # connection so stop() returns at once instead of after a second.
        self.server._stopped = True
        with contextlib.suppress(OSError), socket.create_connection(self.server.address, 1):
            pass
        self.server.stop()

    # --- the server ------------------------------------------------------------------------------

    def _hello(self) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "ok": 1,
            "helloOk": True,
            "isWritablePrimary": True,
            "ismaster": True,
            "maxWireVersion": 21,
            "minWireVersion": 0,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "logicalSessionTimeoutMinutes": 30,
            "localTime": datetime.now(UTC),
        }
        if self.set_name:
            reply.update(setName=self.set_name, hosts=[self.server.address_string])
        if self.msg:
            reply["msg"] = self.msg
        return reply

    def _default(self, name: str, doc: Mapping[str, Any]) -> Any:
        if name == "aggregate":
            return cursor([], pbrt=self.position)
        if name == "getmore":
            time.sleep(0.003)  # stands in for maxAwaitTimeMS: no hot loop of getMores
            return cursor([], pbrt=self.position, first=False, cursor_id=doc["getMore"])
        if name == "find":
            return cursor([], cursor_id=0)
        if name == "killcursors":
            return {"ok": 1, "cursorsKilled": list(doc.get("cursors", []))}
        return {"ok": 1}

    def _handle(self, request: Any) -> bool:
        name = (request.command_name or "").lower()
        doc = dict(request.doc)
        if name in ("ismaster", "hello"):
            return request.replies(self._hello())
        with self._lock:
            self._requests.append((name, doc))
            scripted = self._scripts[name]
            reply = scripted.popleft() if scripted else None
        if reply is None:
            reply = self._default(name, doc)
        if reply == HANGUP:
            return request.hangup()
        body = reply.get("cursor") if isinstance(reply, dict) else None
        if body:
            batch = body.get("firstBatch", body.get("nextBatch")) or []
            if body.get("postBatchResumeToken") is not None:
                self.position = body["postBatchResumeToken"]
            elif batch and "_id" in batch[-1]:
                self.position = batch[-1]["_id"]
        return request.replies(reply)
