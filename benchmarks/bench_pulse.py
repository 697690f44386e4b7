"""The supervisor's pulse (issue 30): time to compute it on SecantusDB at 10,000 tickets.

One SecantusDB, seeded with the demo generator (10,000 tickets and their week of audit
history; 300 with ``--quick``). Two figures, as a supervisor meets them:

* **first** computation of a process (``PulseStore.compute`` on a new PulseStore: the window's
  facts from ``queue_index`` and the week's status changes per hour), median of 3;
* **refresh** after a change (the same PulseStore a minute later, one ticket moved by the
  store and named as the live feed would: only that ticket, the tickets updated since and the
  status-change hours since are read), median of 5.

The parts of the first computation (each aggregation alone) and a cached answer are noted
beside them. SecantusDB's engine is Python: this measures it too.

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
from pymongo import MongoClient

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Status
from helpdesk_tui.domain.pulse import HOUR, Window
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore, facts_pipeline, ticket_parts, waiting_pipeline
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

FIRST_RUNS = 3
REFRESH_RUNS = 5
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


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def runs(times: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in times)


def main() -> None:
    tickets = size()
    first_id, refresh_id = f"pulse.first_{tickets}", f"pulse.refresh_{tickets}"
    first_figure = (
        f"Pulse, first computation of a process, {tickets:,} tickets "
        f"(SecantusDB, median of {FIRST_RUNS})"
    )
    refresh_figure = (
        f"Pulse, refresh after a change, {tickets:,} tickets (SecantusDB, median of {REFRESH_RUNS})"
    )
    clock = [datetime.now(UTC).replace(microsecond=0)]
    server = EmbeddedServer().start()
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
        firsts = [timed(lambda: PulseStore(store).compute(clock[0])) for _ in range(FIRST_RUNS)]
        w = Window(clock[0])
        parts = []
        for match in ticket_parts(w):
            pipeline = facts_pipeline(match, store.settings.sla)
            t = timed(lambda p=pipeline: list(store.queue.entries.aggregate(p)))
            parts.append(f"{next(iter(match.values()))} {1000 * t:.0f} ms")
        window = waiting_pipeline(w.start, w.hour + HOUR, w.now)
        t = timed(lambda: list(store.events.aggregate(window)))
        parts.append(f"status changes {1000 * t:.0f} ms")

        pulses = PulseStore(store)
        pulses.compute(clock[0])
        moving = [d["_id"] for d in store.tickets.find({"status": "open"}, {"_id": 1}).limit(100)]
        refreshes, read = [], []
        for ticket in moving[:REFRESH_RUNS]:
            clock[0] += timedelta(minutes=1)
            store.set_status(ticket, Status.IN_PROGRESS)
            pulses.changed([ticket])
            refreshes.append(timed(lambda: pulses.compute(clock[0])))
            assert pulses.last is not None
            read.append(f"{pulses.last.tickets} tickets/{len(pulses.last.hours)} h")
        pulses.pulse()
        cached = timed(pulses.pulse)

        first = median(firsts)
        emit(
            first_id,
            first_figure,
            "< 1 s",
            f"{first:.2f} s (runs {runs(firsts)}; parts: {'; '.join(parts)})",
            first < 1.0,
            first,
        )
        refresh = median(refreshes)
        emit(
            refresh_id,
            refresh_figure,
            "< 1 s",
            f"{refresh:.3f} s (runs {runs(refreshes)}; read {', '.join(read)}; "
            f"cached {1000 * cached:.2f} ms)",
            refresh < 1.0,
            refresh,
        )
        client.close()
    except Exception as error:  # a figure not measured: run.py reports it
        fail(refresh_id, refresh_figure, f"{type(error).__name__}: {error}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
