"""Figure 1 -- start-up: process start to the first paint of the queue with its rows.

Three measurements:

1. ``helpdesk-tui demo --no-activity`` (300 tickets on SecantusDB, a MongoDB wire-compatible
   server in a child process written in Python: its start, the indexes and the seeding are
   included, and its timings measure that engine too) in a 120x40 pseudo-terminal: fork to the
   first terminal output containing a ticket row ("TKT-").
2. The real ``helpdesk-tui --uri ...`` process against a scripted MongoDB wire server holding
   300 / 10,000 / 100,000 tickets, all of them in the first view ("My tickets"), so the view
   is as large as the collection. The scripted server answers from precomputed, cached data,
   so these figures count what the client asks (commands, documents and bytes fetched before
   the first paint: they must stay one page whatever the size); its times are not a real
   server's (``bench_server_work.py`` has those, on SecantusDB).
3. In process (``app.run_test``), with the data already in memory: app start to the first
   paint of a full 200-row page from a 10,000-ticket view, and the share spent rendering it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fail, installed_bytecode, median, ms, note, quick
from _pty import PtyApp, WireServer, console_script, launcher

TARGET = 1.0
ROW = b"TKT-"


def short(text: object) -> str:
    return re.sub(r"ObjectId\('[0-9a-f]+'\)", "<me>", str(text))[:80]


def demo_runs(runs: int) -> None:
    """``helpdesk-tui demo --no-activity``: SecantusDB's start, indexes and seeding included."""
    figure = "Start-up, demo 300 tickets (SecantusDB child process, start + seeding incl.)"
    times = []
    try:
        for _ in range(runs):
            app = PtyApp([*console_script(), "demo", "--no-activity"])
            try:
                times.append(app.wait_for(ROW, timeout=60) - app.started)
                app.wait_quiet(0.3, timeout=3)
            finally:
                app.close()
    except Exception as error:
        fail("startup.demo_300", figure, repr(error))
        return
    value = median(times)
    emit(
        "startup.demo_300",
        figure,
        "< 1.5 s",
        f"{value:.2f} s",
        value < 1.5,
        value,
        runs=[round(t, 3) for t in times],
    )


def wire_runs(sizes: list[int], runs: int) -> None:
    pages: dict[int, tuple[int, int]] = {}
    for size in sizes:
        figure = (
            f"Start-up, {size:,} tickets in view (real app, scripted wire server: "
            "counts what the client asks; its times are no server's)"
        )
        key = f"startup.wire_{size}"
        try:
            note(f"scripted server with {size:,} tickets")
            server = WireServer(size)
            times, fetched, rss = [], [], []
            try:
                for _ in range(runs):
                    out = tempfile.mktemp(suffix=".json")
                    app = PtyApp(
                        [*launcher(), "--uri", server.uri, "--as", "ana@helpdesk.example"],
                        env={"BENCH_COMMANDS_OUT": out},
                    )
                    try:
                        painted = app.wait_for(ROW)
                        app.wait_quiet(0.3, timeout=3)
                        rss.append(app.rss_mb())
                    finally:
                        app.close()
                    times.append(painted - app.started)
                    data = json.loads(Path(out).read_text())
                    before = [c for c in data["commands"] if c.get("at", 0) < painted]
                    fetched.append(before)
            finally:
                server.stop()
        except Exception as error:
            fail(key, figure, repr(error))
            continue
        value = median(times)
        commands = fetched[len(fetched) // 2]
        # The database's time on the critical path: before the app (who am I) and the queue's
        # load (the thread that fetched the page). Other threads overlap with these.
        page_cmd = max(
            (c for c in commands if c["name"] == "aggregate" and c.get("collection") == "tickets"),
            key=lambda c: c.get("docs", 0),
            default={},
        )
        path = [c for c in commands if c.get("thread") in ("MainThread", page_cmd.get("thread"))]
        db = sum(c.get("duration", 0) for c in path)
        docs = sum(c.get("docs", 0) for c in commands)
        size_bytes = sum(c.get("bytes", 0) for c in commands)
        tickets = [c for c in commands if c.get("collection") == "tickets"]
        ticket_docs = sum(c.get("docs", 0) for c in tickets)
        page = page_cmd.get("docs", 0)
        pages[size] = (docs, size_bytes)
        emit(
            key,
            figure,
            "< 1 s",
            f"{value:.2f} s (db on the critical path {db * 1000:.0f} ms)",
            value < TARGET,
            value,
            runs=[round(t, 3) for t in times],
            critical_path_db_seconds=round(db, 4),
            all_db_seconds=round(sum(c.get("duration", 0) for c in commands), 4),
            rss_mb=round(median(rss), 1),
        )
        with_messages = sum(c.get("with_messages", 0) for c in tickets)
        biggest = max(
            (c for c in tickets if c is not page_cmd), key=lambda c: c.get("docs", 0), default={}
        )
        emit(
            f"startup.fetch_{size}",
            f"  fetched before first paint, {size:,} tickets",
            "one page: <= 200 ticket docs, no messages",
            f"{ticket_docs} ticket docs: page {page}"
            + (
                f" + {biggest.get('docs')} from {biggest.get('name')} "
                f"{short(biggest.get('filter'))}"
                if biggest is not page_cmd and biggest.get("docs", 0) > 2
                else ""
            )
            + f"; {len(commands)} cmds, {size_bytes / 1024:.0f} KiB, {with_messages} with messages",
            ticket_docs <= 200 + 2 and with_messages == 0,
            ticket_docs,
            largest=f"{biggest.get('name')} {biggest.get('collection')} {biggest.get('filter')}"
            f" -> {biggest.get('docs')} docs, {biggest.get('bytes', 0) / 1024:.0f} KiB",
            commands=[
                f"{c['name']} {c.get('collection') or c.get('db')}: {c.get('docs', 0)} docs, "
                f"{c.get('bytes', 0)} B, {c.get('duration', 0) * 1000:.1f} ms"
                for c in commands
            ],
        )
    if len(pages) >= 2:
        smallest, largest = min(pages), max(pages)
        grows = pages[largest][1] / max(pages[smallest][1], 1)
        emit(
            "startup.fetch_growth",
            f"  bytes per first paint, {largest:,} vs {smallest:,} tickets",
            "flat (<= 1.1x)",
            f"{grows:.2f}x",
            grows <= 1.1,
            grows,
        )


async def in_process(runs: int) -> None:
    from _common import PaintProbe, build_app, fake_store

    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.widgets.ticket_table import TicketTable

    figure = "Start-up in process, 10,000-ticket view, data in memory"
    results = []
    original = QueueScreen._loaded
    spent: dict[str, float] = {}

    def loaded(self: QueueScreen, result: Any) -> None:
        start = time.perf_counter()
        original(self, result)
        spent["loaded"] = time.perf_counter() - start
        spent["loaded_end"] = time.perf_counter()

    QueueScreen._loaded = loaded  # type: ignore[method-assign]
    try:
        store, _, _ = fake_store(10_000)
        for _ in range(runs):
            store.db.clock.reset()
            start = time.perf_counter()
            app = build_app(store)

            def rows(app: Any = app) -> int:
                try:
                    return int(app.screen.query_one(TicketTable).row_count)
                except Exception:
                    return 0

            probe = PaintProbe(app, rows)
            async with app.run_test(size=(120, 40)):
                painted, _ = await probe.wait(start, lambda n: n >= 200)
                results.append(
                    (
                        painted - start,
                        spent["loaded"],
                        painted - spent["loaded_end"],
                        store.db.clock.seconds,
                    )
                )
    except Exception as error:
        fail("startup.in_process_10000", figure, repr(error))
        return
    finally:
        QueueScreen._loaded = original  # type: ignore[method-assign]
    # The first run is the one an agent gets (cold: widgets, CSS, caches); later runs are warm.
    total, render, paint, db = results[0]
    warm = median(r[0] for r in results[1:]) if len(results) > 1 else float("nan")
    emit(
        "startup.in_process_10000",
        figure,
        "< 1 s",
        f"{ms(total)} (fill table {ms(render)}, then paint {ms(paint)}; db {ms(db)}); "
        f"warm {ms(warm)}",
        total < TARGET,
        total,
        runs=[round(r[0], 4) for r in results],
    )


def main() -> None:
    installed_bytecode()  # start-up as installed (pip compiles the bytecode)
    fast = quick()
    note("start-up: demo (SecantusDB) in a pty")
    demo_runs(1 if fast else 3)
    sizes = [300, 10_000, 100_000]
    wire_runs(sizes, 1 if fast else 3)
    note("start-up: in process")
    asyncio.run(in_process(2 if fast else 3))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
