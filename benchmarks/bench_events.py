"""Figure 3 -- event throughput: a burst of 1,000 change events on a queue of 10,000 rows.

In process (``app.run_test(size=(120, 40))``), data in memory (``_common``'s scripted database).
The queue shows a 200-row window of a 10,000-ticket view. Another agent's 1,000 writes are
applied to the database, then delivered as the live feed delivers them: ``FeedBatch``
messages posted from another thread. Worst case: one message per event (a change stream
coalesces events arriving within 0.1 s into one batch; polling delivers one batch per poll).

Measured: from the first post to the paint that shows the last change (done), how many
refreshes the burst cost (coalescing), and a key press ("j") sent just after the burst
started: from sending it to the paint that shows the cursor moved.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PaintProbe,
    build_app,
    emit,
    fail,
    fake_store,
    ms,
    note,
    send_key,
)

EVENTS = 1_000
DONE_TARGET = 1.0
KEY_TARGET = 0.100


def changes_for(engine: Any, ids: list[Any], now: Any, tag: str) -> list[Any]:
    """Write ``ids`` in the database (new subject, updatedAt) and return the feed's Changes."""
    from datetime import timedelta

    from helpdesk_tui.store.live import Change
    from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS

    out = []
    for n, ticket_id in enumerate(ids):
        engine.update_ticket(
            ticket_id,
            subject=f"{tag} change {n}",
            updatedAt=now + timedelta(milliseconds=n),
        )
        row = engine.row_by_id[ticket_id]  # with the row fields, as the change stream has them
        fields = {k: row[k] for k in (*QUEUE_FIELDS, *DERIVED_FIELDS) if k in row}
        out.append(
            Change(
                id=ticket_id, kind="update", doc=fields, updated=frozenset({"subject", "updatedAt"})
            )
        )
    return out


async def measure(per_batch: int, label: str) -> dict[str, Any]:
    from helpdesk_tui.app import FeedBatch
    from helpdesk_tui.config import Config
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.store.live import Batch
    from helpdesk_tui.widgets.ticket_table import TicketTable

    store, engine, _ = fake_store(10_000)
    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    app = build_app(store, config=config)
    rng = random.Random(3)

    def snapshot() -> tuple[Any, ...]:
        screen = app.screen
        if not isinstance(screen, QueueScreen):
            return ("other",)
        try:
            table = screen.query_one(TicketTable)
        except Exception:
            return ("queue", -1, 0, "")
        watched = table.tickets.get(watch_key)
        return ("queue", table.cursor_row, table.row_count, watched.subject if watched else "")

    watch_key = ""
    probe = PaintProbe(app, snapshot)
    async with app.run_test(size=(120, 40)) as pilot:
        await probe.wait(0, lambda s: s[0] == "queue" and s[2] >= 200, timeout=30)
        await pilot.pause(0.5)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        window = list(screen.table.tickets.values())
        in_window = [t.id for t in window[:50]]
        others = [r["_id"] for r in engine.rows if r["_id"] not in set(in_window)]
        ids = rng.sample(others, EVENTS - 10) + rng.sample(in_window, 10)
        last = ids[-1]
        watch_key = str(last)
        changes = changes_for(engine, ids, store.now(), label)
        final_subject = f"{label} change {len(ids) - 1}"
        batches = [changes[i : i + per_batch] for i in range(0, len(changes), per_batch)]

        loads: list[float] = []
        original = screen._loaded

        def loaded(result: Any) -> None:
            original(result)
            loads.append(time.perf_counter())

        screen._loaded = loaded  # type: ignore[method-assign]
        store.db.clock.reset()
        posted: dict[str, float] = {}
        row = screen.table.cursor_row
        started = threading.Event()

        def feed() -> None:
            posted["start"] = time.perf_counter()
            for i, batch in enumerate(batches):
                app.post_message(FeedBatch(Batch(changes=tuple(batch))))
                if i == len(batches) // 10:
                    started.set()
            started.set()
            posted["end"] = time.perf_counter()

        thread = threading.Thread(target=feed, name="bench feed")
        thread.start()
        while not started.is_set():
            await asyncio.sleep(0)
        key_sent, _ = send_key(app, "j")
        key_at, _ = await probe.wait(key_sent, lambda s: s[0] == "queue" and s[1] == row + 1)
        done_at, _ = await probe.wait(
            posted.get("start", key_sent),
            lambda s: s[0] == "queue" and s[3] == final_subject,
            timeout=30,
        )
        thread.join()
        await pilot.pause(0.5)
        queries = [c for c in store.db.clock.calls if c[1] == "aggregate" and c[0] == "tickets"]
        return {
            "done": done_at - posted["start"],
            "post": posted["end"] - posted["start"],
            "key": key_at - key_sent,
            "key_before_done": key_at <= done_at,
            "loads": len(loads),
            "queries": len(queries),
            "db": store.db.clock.seconds,
            "messages": len(batches),
        }


def main() -> None:
    note("event throughput (in process)")
    try:
        worst = asyncio.run(measure(per_batch=1, label="single"))
        batched = asyncio.run(measure(per_batch=100, label="batched"))
    except Exception as error:
        import traceback

        traceback.print_exc()
        fail("events.burst", "Event burst", repr(error))
        sys.exit(1)
    emit(
        "events.burst",
        f"{EVENTS:,} change events as {worst['messages']:,} FeedBatch messages, queue of 10,000",
        "done < 1 s",
        f"{worst['done']:.2f} s; {worst['loads']} repaint(s) of the window, "
        f"{worst['queries']} page+count queries (db {ms(worst['db'])})",
        worst["done"] < DONE_TARGET,
        worst["done"],
        **worst,
    )
    emit(
        "events.burst_key",
        "  key press (j) during the burst: cursor painted",
        "< 100 ms, before the burst is done",
        f"{ms(worst['key'])}" + ("" if worst["key_before_done"] else " (after the burst)"),
        worst["key"] < KEY_TARGET and worst["key_before_done"],
        worst["key"],
    )
    emit(
        "events.burst_batched",
        f"  same {EVENTS:,} events as {batched['messages']} batches of 100 (change stream)",
        "done < 1 s",
        f"{batched['done']:.2f} s; {batched['loads']} repaint(s); key {ms(batched['key'])}",
        batched["done"] < DONE_TARGET,
        batched["done"],
        **batched,
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
