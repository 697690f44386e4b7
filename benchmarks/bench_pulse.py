"""The supervisor's pulse (issue 30): time to compute it on SecantusDB at 10,000 tickets.

One SecantusDB, seeded with the demo generator (10,000 tickets and their week of audit
history; 300 with ``--quick``). Three figures, as a supervisor meets them, medians of 5, each
computation in a new client (a new app process) unless said otherwise:

* **cold**: the first computation with no stored state (``pulse_state`` emptied first): the
  window's facts from ``queue_index``, the week's status changes per hour, and the state
  written for the next process;
* **from stored state**: the first computation of a new process after another one stored its
  state two minutes (and one more each run) earlier, with a ticket moved by the store in
  between: reading the state's documents, then the incremental refresh against the server
  (tickets updated since on ``updatedAt``, their facts on ``_id``, status-change hours since);
* **refresh** after a change: the same process a minute later, one ticket moved by the store
  and named as the live feed would (it also writes the state: a minute has passed).

The first refresh of a process that started from a stored state also counts the window on the
server (tickets deleted meanwhile): noted beside the refresh. SecantusDB's engine is Python:
this measures it too.

    python benchmarks/bench_pulse.py [--quick] [--size N]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fail, median, note, quick
from bson import ObjectId
from pymongo import MongoClient

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

RUNS = 5
PATIENT: dict[str, Any] = {
    "tz_aware": True,
    "timeoutMS": 3_600_000,
    "connectTimeoutMS": 600_000,
    "serverSelectionTimeoutMS": 600_000,
}


def size() -> int:
    if "--size" in sys.argv:
        return int(sys.argv[sys.argv.index("--size") + 1])
    return 300 if quick() else 10_000


def runs(times: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in times)


class Processes:
    """Each ``new()`` is a new app process: a new client (connected before the clock starts:
    the app connected long before the first ``P``), TicketStore and PulseStore."""

    def __init__(self, uri: str, clock: list[datetime]) -> None:
        self.uri, self.clock = uri, clock
        self.clients: list[MongoClient[Any]] = []

    def new(self) -> PulseStore:
        client: MongoClient[Any] = MongoClient(self.uri, **PATIENT)
        client.admin.command("ping")
        self.clients.append(client)
        return PulseStore(TicketStore(client["helpdesk"], StoreSettings(), clock=self.now))

    def now(self) -> datetime:
        return self.clock[0]

    def close(self) -> None:
        for client in self.clients:
            client.close()


def timed_compute(pulses: PulseStore, now: datetime) -> float:
    started = time.perf_counter()
    pulses.compute(now)
    return time.perf_counter() - started


def main() -> None:
    tickets = size()
    ids = {k: f"pulse.{k}_{tickets}" for k in ("cold", "stored", "refresh")}
    figures = {
        "cold": f"Pulse, first computation, no stored state, {tickets:,} tickets",
        "stored": f"Pulse, first computation of a new process from stored state, {tickets:,} "
        "tickets",
        "refresh": f"Pulse, refresh after a change, {tickets:,} tickets",
    }
    figures = {k: f"{v} (SecantusDB, median of {RUNS})" for k, v in figures.items()}
    clock = [datetime.now(UTC).replace(microsecond=0)]
    server = EmbeddedServer().start()
    processes = Processes(server.uri, clock)
    measuring = "cold"
    try:
        client: MongoClient[Any] = MongoClient(server.uri, **PATIENT)
        store = TicketStore(client["helpdesk"], StoreSettings(), clock=lambda: clock[0])
        store.init_db()
        started = time.perf_counter()
        data = seed.generate(clock[0], tickets=tickets, customers=max(200, tickets // 3))
        seed.load(store, data)
        note(
            f"seeded {tickets:,} tickets and {len(data.events):,} audit events in "
            f"{time.perf_counter() - started:.0f} s"
        )
        state = store.db[store.settings.pulse_state]
        movable = [d["_id"] for d in store.tickets.find({"status": "open"}, {"_id": 1}).limit(50)]

        def move() -> ObjectId:
            ticket = movable.pop()
            store.set_status(ticket, Status.IN_PROGRESS)
            return ObjectId(ticket)

        colds = []
        for _ in range(RUNS):
            state.delete_many({})
            pulses = processes.new()
            colds.append(timed_compute(pulses, clock[0]))
            assert pulses.last is not None and pulses.last.full
        note(f"cold runs {runs(colds)}; state written as of {clock[0]:%H:%M:%S}")

        measuring = "stored"
        stored, stored_read = [], []
        for _ in range(RUNS):
            clock[0] += timedelta(minutes=2)
            move()
            pulses = processes.new()
            stored.append(timed_compute(pulses, clock[0]))
            assert pulses.last is not None and pulses.last.stored is not None
            stored_read.append(f"{pulses.last.tickets} tickets/{len(pulses.last.hours)} h")
        note(f"from stored state runs {runs(stored)}")

        measuring = "refresh"
        # The last process started from the stored state: its first refresh checks the count.
        clock[0] += timedelta(minutes=1)
        pulses.changed([move()])
        checking = timed_compute(pulses, clock[0])
        refreshes, read = [], []
        for _ in range(RUNS):
            clock[0] += timedelta(minutes=1)
            pulses.changed([move()])
            refreshes.append(timed_compute(pulses, clock[0]))
            assert pulses.last is not None and not pulses.last.full
            read.append(f"{pulses.last.tickets} tickets/{len(pulses.last.hours)} h")

        cold, first, refresh = median(colds), median(stored), median(refreshes)
        emit(ids["cold"], figures["cold"], "-", f"{cold:.2f} s (runs {runs(colds)})", None, cold)
        emit(
            ids["stored"],
            figures["stored"],
            "< 1 s",
            f"{first:.3f} s (runs {runs(stored)}; read {', '.join(stored_read)})",
            first < 1.0,
            first,
        )
        emit(
            ids["refresh"],
            figures["refresh"],
            "< 1 s",
            f"{refresh:.3f} s (runs {runs(refreshes)}; read {', '.join(read)}; the first "
            f"refresh after a start from stored state, with the count: {checking:.2f} s)",
            refresh < 1.0,
            refresh,
        )
        client.close()
    except Exception as error:  # a figure not measured: run.py reports it
        fail(ids[measuring], figures[measuring], f"{type(error).__name__}: {error}")
    finally:
        processes.close()
        server.stop()


if __name__ == "__main__":
    main()
