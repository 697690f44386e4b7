"""Figure 6 -- memory: resident set size (RSS).

* After start with 100,000 tickets: the real ``helpdesk-tui`` process (pty, 120x40) on the
  scripted wire server holding 100,000 tickets, all in the first view; RSS read from
  /proc/<pid>/status once the first page is painted and the feed's first poll is done.
  The same at 300 tickets shows what the size of the collection adds.
* Over 10,000 applied events: in process (``app.run_test``) on a 10,000-ticket view held in
  the scripted in-memory database (its data is frozen out of the GC and is the same for
  every sample). Events arrive as ``FeedBatch`` messages of 100 (95 updates, 4 customer
  replies on my tickets, 1 new urgent ticket), each batch a repaint of the window, as a
  busy day's feed would deliver them. RSS (after ``gc.collect()``) is sampled after 1,000,
  5,000 and 10,000 events: it must not grow after the first 1,000.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_app, emit, fail, fake_store, note, quick, rss_mb
from _pty import PtyApp, WireServer, launcher

START_TARGET_MB = 200.0
GROWTH_TOLERANCE_MB = 3.0


def at_start(size: int) -> float:
    server = WireServer(size)
    try:
        app = PtyApp([*launcher(), "--uri", server.uri, "--as", "ana@helpdesk.example"])
        try:
            app.wait_for(b"TKT-", timeout=60)
            app.pump(max(0.0, app.started + 3.0 - time.monotonic()))
            app.wait_quiet(0.5, timeout=5)
            return app.rss_mb()
        finally:
            app.close()
    finally:
        server.stop()


def events_batch(engine: Any, rng: random.Random, agent: Any, now: Any, n: int) -> list[Any]:
    from bson import ObjectId

    from helpdesk_tui.domain.models import new_message_doc
    from helpdesk_tui.store.live import Change
    from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS

    changes = []
    for i in range(n):
        row = rng.choice(engine.rows)
        doc = {k: row[k] for k in (*QUEUE_FIELDS, *DERIVED_FIELDS) if k in row}
        if i % 100 == 99:  # a new urgent ticket nobody has taken
            doc = {**doc, "_id": ObjectId(), "priority": "urgent", "assignedTo": None}
            doc["ticketNumber"] = f"TKT-9{rng.randrange(10**6):06d}"
            changes.append(Change(id=doc["_id"], kind="insert", doc=doc))
        elif i % 25 == 0:  # the customer replied on one of my tickets
            message = new_message_doc(sender=doc["user"], content="Any news?", now=now)
            changes.append(
                Change(
                    id=doc["_id"],
                    kind="update",
                    doc={**doc, "updatedAt": now},
                    updated=frozenset({"messages", "updatedAt"}),
                    new_messages=(message,),
                )
            )
        else:
            doc = {**doc, "subject": f"{doc.get('subject', '')[:40]} #{rng.randrange(1000)}"}
            changes.append(
                Change(id=doc["_id"], kind="update", doc=doc, updated=frozenset({"subject"}))
            )
        now += timedelta(milliseconds=1)
    return changes


async def over_events(total: int, per_batch: int) -> dict[str, Any]:
    from helpdesk_tui.app import FeedBatch
    from helpdesk_tui.config import Config
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.store.live import Batch

    store, engine, agent = fake_store(10_000)
    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    app = build_app(store, config=config)
    rng = random.Random(11)
    samples: dict[int, tuple[float, int]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if isinstance(app.screen, QueueScreen) and app.screen.page is not None:
                break
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        gc.collect()
        samples[0] = (rss_mb(), len(gc.get_objects()))
        now = store.now()
        sent = 0
        while sent < total:
            batch = events_batch(engine, rng, agent, now, per_batch)
            now += timedelta(seconds=1)
            app.post_message(FeedBatch(Batch(changes=tuple(batch))))
            sent += len(batch)
            await asyncio.sleep(0.12)  # past the 0.1 s coalescing: one repaint per batch
            if sent in (1_000, 5_000, total) or sent == total:
                await pilot.pause(0.5)
                gc.collect()
                samples[sent] = (rss_mb(), len(gc.get_objects()))
        notifications = len(app._notifications)
    return {"samples": samples, "notifications": notifications}


def main() -> None:
    fast = quick()
    note("memory: real app on 100,000 tickets (wire)")
    try:
        big = at_start(100_000)
        small = at_start(300)
        emit(
            "memory.start_100000",
            "RSS after start, 100,000 tickets (real process, scripted wire server)",
            "< 200 MB",
            f"{big:.0f} MB (300 tickets: {small:.0f} MB)",
            big < START_TARGET_MB,
            big,
            rss_300=round(small, 1),
        )
    except Exception as error:
        fail("memory.start_100000", "RSS after start, 100,000 tickets", repr(error))
    note("memory: 10,000 events (in process)")
    try:
        result = asyncio.run(over_events(10_000, 100))
    except Exception as error:
        import traceback

        traceback.print_exc()
        fail("memory.events", "RSS over 10,000 events", repr(error))
        sys.exit(1)
    samples = result["samples"]
    first, mid, last = samples[1_000], samples[5_000], samples[10_000]
    growth = last[0] - first[0]
    emit(
        "memory.events",
        "RSS growth from 1,000 to 10,000 applied events (in process)",
        f"none (< {GROWTH_TOLERANCE_MB:g} MB)",
        f"{growth:+.1f} MB ({samples[0][0]:.0f} -> {first[0]:.0f} -> {mid[0]:.0f} -> "
        f"{last[0]:.0f} MB at 0/1k/5k/10k); objects {first[1]:,} -> {last[1]:,}",
        growth < GROWTH_TOLERANCE_MB,
        growth,
        samples={k: (round(v[0], 1), v[1]) for k, v in samples.items()},
        live_notifications=result["notifications"],
        quick=fast,
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
