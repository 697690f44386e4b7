"""Run the ``helpdesk-tui`` CLI in this process, instrumented for the benchmarks.

    python benchmarks/_launch.py [helpdesk-tui arguments...]

Environment:
  BENCH_COMMANDS_OUT  register a pymongo ``CommandListener`` (before any client exists) and
                      write every command (monotonic start, name, collection, duration,
                      documents and BSON bytes returned) to this JSON file on exit.

Timestamps are ``time.monotonic()``, the same clock in every process on Linux, so the harness
can compare them with when it saw the first rows on the pseudo-terminal.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

STARTED = time.monotonic()


def _commands(path: str) -> None:
    from pymongo import monitoring

    started: dict[int, dict[str, Any]] = {}
    done: list[tuple[dict[str, Any], Any]] = []
    lock = threading.Lock()

    class Listener(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            command = event.command
            first = next(iter(command), "")
            collection = command.get(first) if isinstance(command.get(first), str) else ""
            with lock:
                started[event.request_id] = {
                    "at": time.monotonic(),
                    "name": event.command_name,
                    "collection": collection,
                    "db": event.database_name,
                    "filter": repr(command.get("filter"))[:300] if "filter" in command else None,
                    "thread": threading.current_thread().name,
                }

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            with lock:
                entry = started.pop(event.request_id, {"name": event.command_name})
                entry["duration"] = event.duration_micros / 1e6
                done.append((entry, event.reply))

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            with lock:
                entry = started.pop(event.request_id, {"name": event.command_name})
                entry["duration"] = event.duration_micros / 1e6
                entry["failed"] = str(event.failure)[:200]
                done.append((entry, {}))

    monitoring.register(Listener())

    def dump() -> None:
        import bson

        rows = []
        for entry, reply in done:
            batch = (reply.get("cursor") or {}) if isinstance(reply, dict) else {}
            docs = batch.get("firstBatch") or batch.get("nextBatch") or []
            entry["docs"] = len(docs)
            entry["bytes"] = len(bson.encode(reply)) if reply else 0
            entry["with_messages"] = sum(1 for d in docs if "messages" in d)
            rows.append(entry)
        with open(path, "w") as out:
            json.dump({"started": STARTED, "commands": rows}, out, default=str)

    atexit.register(dump)


def main() -> None:
    if os.environ.get("BENCH_COMMANDS_OUT"):
        _commands(os.environ["BENCH_COMMANDS_OUT"])
    from helpdesk_tui.cli import main as cli_main

    sys.argv = ["helpdesk-tui", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
