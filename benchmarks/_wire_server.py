"""A scripted MongoDB wire server (mockupdb) holding N demo tickets, for the real app process.

    python benchmarks/_wire_server.py --tickets 100000

prints ``READY <port>`` once it listens, then serves until stdin closes. It answers the
handshake as a standalone server (so the app polls instead of watching a change stream) and
evaluates the app's queries with ``_common.Engine``; its own time per command is printed on
exit (``STATS {...}``) so the benchmarks can tell the database's time from the app's.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import bson
from mockupdb import MockupDB

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import Engine, _aware, dataset, warm

HELLO = {
    "ismaster": True,
    "isWritablePrimary": True,
    "helloOk": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48_000_000,
    "maxWriteBatchSize": 100_000,
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
    "minWireVersion": 0,
    "maxWireVersion": 21,
    "readOnly": False,
}


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds = 0.0
        self.commands: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.seconds += seconds
            self.commands[name] = self.commands.get(name, 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()

    now = datetime.now(UTC)  # the app's clock is real time here
    users, docs, agent = dataset(args.tickets, now=now)
    engine = Engine(users, docs)
    warm(engine, agent, now)
    stats = Stats()

    def cursor(ns: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"cursor": {"id": 0, "ns": ns, "firstBatch": docs}, "ok": 1}

    def handle(request: Any) -> bool:
        start = time.perf_counter()
        doc = request.doc
        name = next(iter(doc))
        lower = name.lower()
        db = request.namespace or "admin"
        try:
            if lower in ("ismaster", "hello"):
                reply: dict[str, Any] = {**HELLO, "localTime": datetime.now(UTC)}
            elif lower in ("ping", "endsessions", "killcursors", "createindexes", "buildinfo"):
                reply = {"ok": 1}
                if lower == "buildinfo":
                    reply.update(version="7.0.0", versionArray=[7, 0, 0, 0])
            elif lower == "aggregate":
                collection = doc["aggregate"]
                pipeline = _aware(doc["pipeline"])
                reply = cursor(f"{db}.{collection}", engine.aggregate(collection, pipeline))
            elif lower == "find":
                collection = doc["find"]
                found = engine.find(
                    collection,
                    _aware(doc.get("filter") or {}),
                    _aware(doc.get("projection")) if doc.get("projection") else None,
                    _aware(doc.get("sort")) if doc.get("sort") else None,
                    int(doc.get("skip") or 0),
                    int(doc.get("limit") or 0),
                )
                reply = cursor(f"{db}.{collection}", found)
            elif lower in ("update", "delete", "insert"):
                reply = {"n": 1, "nModified": 0, "ok": 1}
            elif lower in ("count", "countdocuments"):
                reply = {"n": 0, "ok": 1}
            else:
                reply = {"ok": 0, "errmsg": f"scripted server: no {name}", "code": 59}
        except Exception as error:  # a bug here must not hang the app
            reply = {"ok": 0, "errmsg": f"scripted server: {error!r}", "code": 1}
        stats.add(name, time.perf_counter() - start)
        return bool(request.replies(reply))

    server = MockupDB(auto_ismaster=False, verbose=False)
    server.autoresponds(handle)
    port = server.run()
    print(f"READY {port} {bson.ObjectId(agent)}", flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin
    finally:
        print("STATS " + json.dumps({"seconds": stats.seconds, "commands": stats.commands}))
        sys.stdout.flush()
        server.stop()


if __name__ == "__main__":
    main()
