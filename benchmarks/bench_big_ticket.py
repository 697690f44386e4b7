"""Big tickets (issue 29): the real app in a 120x40 pty on SecantusDB, big tickets beside a
small one.

One SecantusDB, seeded with the demo generator (20 tickets), plus four tickets assigned to the
demo agent, each with a marker in its subject: 2 messages, 200 messages, 5,000 messages, and
one whose newest message is 2 MB. One ``helpdesk-tui --uri`` process (agent ana, My tickets).

Figures:

* ``big.open_N``: Enter on the ticket's row to its conversation's first painted lines: the
  newest message's marker standing on the terminal (the pty's bytes played into a character
  grid, ``_pty.Screen``). Five opens of each, in one run (escape back to the queue between,
  the terminal let go quiet); the median is judged, every open printed. Database included
  (this is what the agent waits for). Targets: 200 messages < 100 ms and <= 1.3 x the
  2-message ticket; 5,000 messages and the 2 MB message < 150 ms.
* ``big.key_repaint``: on the open 5,000-message ticket, a key (``up``, then ``k``,
  alternately) to the last byte of its repaint; median of 20. Target < 16 ms.
* ``big.line_scroll_bytes``: the bytes written for a one-line scroll (``up``) at 120x40,
  median of 10. Target < 1 KB.
* ``big.home_5000``: ``home`` on the open 5,000-message ticket (the open read only the newest
  50): to the first message painted, the other 4,950 read and laid out (info).
* ``big.rss``: the process's RSS on the queue alone (before any ticket was opened), then with
  the 5,000-message ticket open. Target < 20 MB above the queue.
* ``big.inprocess_N``: the same tickets on the same server, opened in process
  (``app.run_test(size=(120, 40))``, ``_common.PaintProbe``): the time from the ticket's data
  reaching the screen (``TicketScreen._loaded``) to the paint that shows its conversation,
  i.e. the ticket screen's own share, and beside it the database read (push to data). Five
  opens each, medians. Judged on the screen's share against the same time targets; its ratio
  to the 2-message ticket is shown, not judged (a share of ~15 ms: noise of a few ms).

    python benchmarks/bench_big_ticket.py
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PaintProbe, build_app, emit, fail, installed_bytecode, median, ms, note
from _pty import PtyApp, console_script

from helpdesk_tui.demo import seed
from helpdesk_tui.demo.importer import import_demo
from helpdesk_tui.domain.models import Category, NewTicket, Priority, new_message_doc
from helpdesk_tui.store.connection import open_client
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

DB = "helpdesk"
OPENS = 5
KEYS = 20
# (name, messages, size of the newest message); the marker is the newest message's first line
TICKETS = [("2", 2, 0), ("200", 200, 0), ("5000", 5_000, 0), ("2MB", 2, 2_000_000)]


def seeded() -> tuple[EmbeddedServer, TicketStore, dict[str, str], dict[str, Any]]:
    """The server, its store, and each big ticket's subject marker → on-screen marker."""
    server = EmbeddedServer().start()
    client = open_client(server.uri, timeout_ms=60_000)
    store = TicketStore(client[DB], StoreSettings())
    store.init_db()
    data = seed.generate(datetime.now(UTC), tickets=20, customers=20, seed=7)
    import_demo(store, data.users, data.tickets)
    ana = store.user_by_email(seed.DEMO_AGENT_EMAIL).id
    customer = store.users.find_one({"role": "customer"})
    assert ana is not None and customer is not None
    markers: dict[str, str] = {}
    ids: dict[str, Any] = {}
    for name, count, big in TICKETS:
        ticket = store.create_ticket(
            NewTicket(
                subject=f"BIG-{name} big ticket",
                description="The first message.",
                user=customer["_id"],
                category=Category.OTHER,
                priority=Priority.URGENT,
            ),
            actor=customer["_id"],
        )
        assert ticket.id is not None
        ids[name] = ticket.id
        store.assign(ticket.id, ana, actor=ana)
        start = store.now() - timedelta(days=5)
        docs = []
        for n in range(count - 1):
            words = "a conversation of many messages, " * (1 + n % 7)
            docs.append(
                new_message_doc(
                    sender=customer["_id"] if n % 2 else ana,
                    content=f"message {n}: {words}",
                    now=start + timedelta(seconds=30 * n),
                    is_internal=n % 10 == 9,
                )
            )
        marker = f"NEWEST-{name}"
        content = f"{marker} the newest message"
        if big:
            content += "\n" + ("x" * 99 + "\n") * (big // 100)
            markers[name] = "more characters not shown"
        else:
            markers[name] = marker
        docs.append(new_message_doc(sender=customer["_id"], content=content, now=store.now()))
        store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": {"$each": docs}}})
        store.queue.refresh([ticket.id])
    return server, store, markers, ids


def rows(app: PtyApp) -> list[str]:
    return [line for line in app.screen_lines() if "TKT-" in line]


def measure() -> None:
    server, store, markers, ids = seeded()
    gc.collect()
    gc.freeze()  # the harness's seeded data: out of its collector's passes
    app = PtyApp(
        [*console_script(), "--uri", server.uri, "--db", DB, "--as", seed.DEMO_AGENT_EMAIL],
        screen=True,
    )
    try:
        app.wait_for_screen("BIG-5000", timeout=120)
        app.wait_quiet(1.0, timeout=20)
        queue_rss = app.rss_mb()
        order = rows(app)
        place = {
            name: next(i for i, line in enumerate(order) if f"BIG-{name} " in line)
            for name, _, _ in TICKETS
        }

        def open_ticket(name: str) -> float:
            app.send(b"g")
            app.wait_quiet(0.3)
            for _ in range(place[name]):
                app.send(b"j")
            app.wait_quiet(0.4)
            # The output read so far, played into the screen now: else the first check after
            # the key plays it (the queue's repaint after the last close, the cursor's moves),
            # and the app's frame is read only after that, its time counted late.
            app.screen_lines()
            # The harness's own cycle collector off while it times (its full pass, 20-130 ms
            # here, would stop it reading the pty); its garbage collected before.
            gc.collect()
            gc.disable()
            try:
                start = app.send(b"\r")
                painted = app.wait_for_screen(markers[name], timeout=60)
            finally:
                gc.enable()
            return painted - start

        def close_ticket() -> None:
            app.wait_quiet(0.5, timeout=20)
            app.send(b"\x1b")
            app.wait_quiet(0.5, timeout=20)

        # RSS: the queue alone, then the 5,000-message ticket open (before any other opens).
        first_5000 = open_ticket("5000")
        app.wait_quiet(1.0, timeout=30)
        open_rss = app.rss_mb()
        growth = open_rss - queue_rss
        emit(
            "big.rss",
            "RSS with the 5,000-message ticket open, above the queue alone",
            "< 20 MB",
            f"+{growth:.1f} MB ({queue_rss:.1f} MB -> {open_rss:.1f} MB)",
            growth < 20,
            growth,
        )

        # Keys on the open 5,000-message ticket: repaint time, bytes of a line scroll.
        repaint: list[float] = []
        line_bytes: list[int] = []
        for n in range(KEYS):
            key = b"\x1b[A" if n % 2 == 0 else b"k"
            start = app.send(key)
            end = app.wait_quiet(0.25, timeout=5)
            last = app.last_chunk_between(start, end + 1)
            if last is not None:
                repaint.append(last - start)
            if key == b"\x1b[A":
                line_bytes.append(app.bytes_between(start, end + 1))
        emit(
            "big.key_repaint",
            "Key (up / k) on the 5,000-message conversation: repaint done",
            "< 16 ms",
            f"median {ms(median(repaint))}, max {ms(max(repaint))} ({len(repaint)} keys)",
            median(repaint) < 0.016,
            median(repaint),
            all=[round(x * 1000, 1) for x in repaint],
        )
        emit(
            "big.line_scroll_bytes",
            "Bytes for a one-line scroll (up), 5,000-message conversation, 120x40",
            "< 1 KB",
            f"median {median(line_bytes):,.0f} B, max {max(line_bytes):,} B",
            median(line_bytes) < 1024,
            median(line_bytes),
            all=line_bytes,
        )
        # Home: the 4,950 messages the open did not read, read and drawn, the first on screen.
        start = app.send(b"\x1b[H")
        home = app.wait_for_screen("message 0: ", timeout=60) - start
        emit(
            "big.home_5000",
            "Home on the 5,000-message ticket: the older messages read, the first one painted",
            "(info)",
            f"{ms(home)}",
            None,
            home,
        )
        close_ticket()

        # Opens: five of each, one after another in this run.
        times: dict[str, list[float]] = {name: [] for name, _, _ in TICKETS}
        times["5000"].append(first_5000)
        for _ in range(OPENS):
            for name, _, _ in TICKETS:
                if len(times[name]) >= OPENS:
                    continue
                times[name].append(open_ticket(name))
                close_ticket()
        small = median(times["2"])
        for name, count, big in TICKETS:
            value = median(times[name])
            label = f"{count:,} messages" if not big else "a 2 MB message"
            target, ok = "< 150 ms", value < 0.150
            if name == "2":
                target, ok = "(reference)", None
            elif name == "200":
                target = "< 100 ms and <= 1.3 x the 2-message ticket"
                ok = value < 0.100 and value <= 1.3 * small
            emit(
                f"big.open_{name}",
                f"Open a ticket with {label} (enter to the newest message painted, db incl.)",
                target,
                f"median {ms(value)} ({value / small:.2f} x the 2-message ticket; "
                f"opens {', '.join(ms(t) for t in times[name])})",
                ok,
                value,
                runs=[round(t * 1000, 1) for t in times[name]],
            )
    finally:
        app.close()
    try:
        asyncio.run(in_process(store, ids))
    finally:
        server.stop()


async def in_process(store: TicketStore, ids: dict[str, Any]) -> None:
    """The ticket screen's own share of an open: from its data to the painted conversation."""
    from helpdesk_tui.config import Config
    from helpdesk_tui.screens.ticket import TicketScreen
    from helpdesk_tui.widgets.conversation import Conversation

    app = build_app(store, config=Config.model_validate({"ui": {"poll_interval_seconds": 3600}}))

    def snapshot() -> tuple[Any, ...]:
        screen = app.screen
        if isinstance(screen, TicketScreen):
            try:
                return ("ticket", len(screen.query_one(Conversation).messages))
            except Exception:
                return ("ticket", 0)
        return ("other",)

    probe = PaintProbe(app, snapshot)
    marks: dict[str, float] = {}
    original = TicketScreen._loaded

    async def loaded(self: TicketScreen, result: Any) -> None:
        marks["data"] = time.perf_counter()
        await original(self, result)

    TicketScreen._loaded = loaded  # type: ignore[method-assign]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ids}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(2.0)
            for _ in range(OPENS):
                for name, ticket_id in ids.items():
                    start = time.perf_counter()
                    await app.push_screen(TicketScreen(ticket_id))
                    at, _ = await probe.wait(
                        start, lambda s: s[0] == "ticket" and s[1] > 0, timeout=60
                    )
                    results[name].append((marks["data"] - start, at - marks["data"]))
                    await pilot.pause(0.3)
                    app.pop_screen()
                    await pilot.pause(0.3)
    finally:
        TicketScreen._loaded = original  # type: ignore[method-assign]
    small = median(r[1] for r in results["2"])
    for name, count, big in TICKETS:
        screen = median(r[1] for r in results[name])
        db = median(r[0] for r in results[name])
        label = f"{count:,} messages" if not big else "a 2 MB message"
        target, ok = "< 150 ms", screen < 0.150
        if name == "2":
            target, ok = "(reference)", None
        elif name == "200":
            # The ratio is the pty figure's (what the agent waits for); the screen's share
            # alone is ~15 ms, where 1.3 x is a 4-5 ms window that noise crosses either way
            # (0.92-1.43 x in two runs of the same code): shown, not judged.
            target, ok = "< 100 ms (the ratio: info)", screen < 0.100
        emit(
            f"big.inprocess_{name}",
            f"  in process: ticket with {label}, its data to its conversation painted (excl. db)",
            target,
            f"median {ms(screen)} ({screen / small:.2f} x the 2-message ticket); "
            f"database read median {ms(db)}",
            ok,
            screen,
            screen_ms=[round(r[1] * 1000, 1) for r in results[name]],
            db_ms=[round(r[0] * 1000, 1) for r in results[name]],
        )


def main() -> None:
    installed_bytecode()
    note("big tickets (SecantusDB, real app in a pty)")
    started = time.monotonic()
    try:
        measure()
    except Exception as error:
        import traceback

        traceback.print_exc()
        fail("big", "Big tickets", repr(error))
        sys.exit(1)
    note(f"big tickets: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
