"""The supervisor's pulse (issue 30): time to compute it on SecantusDB at 10,000 tickets.

One SecantusDB, seeded with the demo generator (10,000 tickets and their week of audit
history; 300 with ``--quick``). The figure is ``PulseStore.compute`` (the three aggregations
and the arithmetic after them, no cache), median of 5 runs; the parts (each aggregation alone)
and a cached answer are noted beside it. SecantusDB's engine is Python: this measures it too.

    python benchmarks/bench_pulse.py [--quick] [--size N]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fail, median, note, quick
from pymongo import MongoClient

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.pulse import Window
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore, ticket_parts, ticket_pipeline, waiting_pipeline
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


def main() -> None:
    tickets = size()
    figure_id = f"pulse.compute_{tickets}"
    figure = f"Pulse computed on the server, {tickets:,} tickets (SecantusDB, median of {RUNS})"
    now = datetime.now(UTC).replace(microsecond=0)
    server = EmbeddedServer().start()
    try:
        client: MongoClient[Any] = MongoClient(server.uri, **PATIENT)
        store = TicketStore(client["helpdesk"], StoreSettings(), clock=lambda: now)
        store.init_db()
        started = time.perf_counter()
        data = seed.generate(now, tickets=tickets, customers=max(200, tickets // 3))
        seed.load(store, data)
        note(
            f"seeded {tickets:,} tickets and {len(data.events):,} audit events in "
            f"{time.perf_counter() - started:.0f} s"
        )
        pulses = PulseStore(store)
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            pulse = pulses.compute(now)
            times.append(time.perf_counter() - t)
        w = Window(now)
        parts = []
        for match in ticket_parts(w):
            t = time.perf_counter()
            list(store.queue.entries.aggregate(ticket_pipeline(match, store.settings.sla, w)))
            parts.append(f"{next(iter(match.values()))} {1000 * (time.perf_counter() - t):.0f} ms")
        t = time.perf_counter()
        list(store.events.aggregate(waiting_pipeline(w)))
        parts.append(f"status changes {1000 * (time.perf_counter() - t):.0f} ms")
        pulses.pulse()
        t = time.perf_counter()
        pulses.pulse()
        cached = time.perf_counter() - t
        value = median(times)
        emit(
            figure_id,
            figure,
            "< 1 s",
            f"{value:.2f} s (runs {', '.join(f'{x:.2f}' for x in times)}; parts: "
            f"{'; '.join(parts)}; cached {1000 * cached:.2f} ms); "
            f"{sum(pulse.backlog_day.open[-1:])} open",
            value < 1.0,
            value,
        )
        client.close()
    except Exception as error:  # a figure not measured: run.py reports it
        fail(figure_id, figure, f"{type(error).__name__}: {error}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
