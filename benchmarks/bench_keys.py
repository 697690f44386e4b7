"""Figure 2 -- key latency, in process (``app.run_test(size=(120, 40))``).

The queue shows a 200-row window of a 10,000-ticket view; its first row is a ticket with 200
messages. Data is in memory (the scripted database of ``_common``), and the time spent inside
it is measured and subtracted where a database is involved.

Latency is from handing the key to the app (as the terminal driver does) to the end of the
compositor update that shows its effect -- a paint, not just a handled event. It includes
the wait for Textual's next frame (the screen refreshes on a 60 Hz timer, so 0-16.7 ms), which
is why the UI thread's CPU time per key is reported too. ``Pilot.press`` is not used for
timing: it sleeps at least 40 ms per key while it waits for idle.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PaintProbe,
    build_app,
    emit,
    fail,
    fake_store,
    median,
    ms,
    note,
    percentile,
    quick,
    send_key,
)

MOVE_TARGET = 0.016
SWITCH_TARGET = 0.050  # issue 29: the new rows painted in < 50 ms, database excluded


def snapshotter(app: Any) -> Any:
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.screens.ticket import TicketScreen
    from helpdesk_tui.widgets.conversation import Conversation
    from helpdesk_tui.widgets.ticket_table import TicketTable

    def snapshot() -> tuple[Any, ...]:
        screen = app.screen
        if isinstance(screen, QueueScreen):
            try:
                table = screen.query_one(TicketTable)
            except Exception:
                return ("queue", -1, 0, screen.view_index, None)
            return ("queue", table.cursor_row, table.row_count, screen.view_index, id(screen.page))
        if isinstance(screen, TicketScreen):
            try:
                children = len(screen.query_one(Conversation).messages)
            except Exception:
                children = 0
            return ("ticket", children, screen.ticket is not None)
        return (type(screen).__name__,)

    return snapshot


async def measure(moves: int) -> None:
    from helpdesk_tui.config import Config
    from helpdesk_tui.screens.queue import QueueScreen

    store, _, _ = fake_store(10_000, long_ticket_messages=200)
    # No polling during the measurements (the feed's own cost is figure 3's business).
    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    app = build_app(store, config=config)
    probe = PaintProbe(app, snapshotter(app))
    clock = store.db.clock

    async with app.run_test(size=(120, 40)) as pilot:
        await probe.wait(0, lambda s: s[0] == "queue" and s[2] >= 200, timeout=30)
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, QueueScreen)

        # --- cursor moves -----------------------------------------------------------
        visible = screen.table.scrollable_content_region.height - 1  # minus the header
        lat: list[float] = []
        cpu: list[float] = []
        for _ in range(moves):
            row = screen.table.cursor_row
            start, cpu0 = send_key(app, "j")
            at, cpu1 = await probe.wait(start, lambda s, r=row: s[0] == "queue" and s[1] == r + 1)
            lat.append(at - start)
            cpu.append(cpu1 - cpu0)
            await asyncio.sleep(0.02)
        in_view = [x for i, x in enumerate(lat) if i + 1 < visible]
        scrolling = [x for i, x in enumerate(lat) if i + 1 >= visible]
        emit(
            "keys.move",
            f"Cursor move (j) in a 200-row window, {len(in_view)} moves",
            "< 16 ms",
            f"median {ms(median(in_view))}, p95 {ms(percentile(in_view, 0.95))} "
            f"(UI-thread CPU {ms(median(cpu[: len(in_view)]))})",
            percentile(in_view, 0.95) < MOVE_TARGET,
            median(in_view),
            all=[round(x * 1000, 2) for x in lat],
        )
        if scrolling:
            emit(
                "keys.move_scroll",
                f"  cursor move that scrolls the table, {len(scrolling)} moves",
                "< 16 ms",
                f"median {ms(median(scrolling))}, p95 {ms(percentile(scrolling, 0.95))} "
                f"(UI-thread CPU {ms(median(cpu[len(in_view) :]))})",
                percentile(scrolling, 0.95) < MOVE_TARGET,
                median(scrolling),
            )

        # Opening a ticket: bench_big_ticket.py, on a real server (the open reads a window
        # of the conversation with a pipeline this scripted database does not run).

        # --- switch views ------------------------------------------------------------
        bar: list[float] = []
        rows: list[float] = []
        dbs: list[float] = []
        # All open, Mine, Waiting, Mine, Breaching, Mine, twice
        for index in (2, 0, 4, 0, 3, 0) * 2:
            before = id(screen.page)
            clock.reset()
            start, _ = send_key(app, str(index + 1))
            hit, _ = await probe.wait(start, lambda s, i=index: s[0] == "queue" and s[3] == i)
            done, _ = await probe.wait(
                start,
                lambda s, i=index, b=before: s[0] == "queue" and s[3] == i and s[4] != b,
            )
            bar.append(hit - start)
            rows.append(done - start - clock.seconds)
            dbs.append(clock.seconds)
            await pilot.pause(0.2)
        emit(
            "keys.switch_view",
            "Switch view (1-5): new rows painted, excl. database",
            "< 50 ms",
            f"median {ms(median(rows))}, max {ms(max(rows))} (db median {ms(median(dbs))})",
            median(rows) < SWITCH_TARGET,
            median(rows),
            all=[round(x * 1000, 1) for x in rows],
        )
        emit(
            "keys.switch_view_bar",
            "  switch view: highlighted view name painted",
            "< 16 ms",
            f"median {ms(median(bar))}, p95 {ms(percentile(bar, 0.95))}",
            percentile(bar, 0.95) < MOVE_TARGET,
            median(bar),
        )


def main() -> None:
    fast = quick()
    note("key latency (in process)")
    try:
        asyncio.run(measure(moves=45 if fast else 60))
    except Exception as error:
        import traceback

        traceback.print_exc()
        fail("keys", "Key latency", repr(error))
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
