"""Figure 4 -- terminal output over SSH: bytes written to a real 120x40 pseudo-terminal.

``helpdesk-tui demo --no-activity`` runs in a pty (TERM=xterm-256color; the window size is set
with TIOCSWINSZ before the app starts). After start-up the agent switches to "All open" (3),
so the screen is full of rows whose SLA countdowns tick, and the output settles. Then:

* idle: every byte written during 60 s (``--quick``: 20 s) with nobody touching anything.
  The SLA countdowns repaint on the app's 15 s tick; the feed polls the database every 2 s
  (no other writers: nothing changes).
* cursor moves: "j" 45 times, 0.3 s apart; the bytes written after each key until the next.
  The first 20 moves stay inside the visible rows; moves 36-45 scroll the table.

Also reported: how long after the key the screen update finished arriving (key to last byte),
the latency an agent feels minus the network.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fail, median, ms, note, percentile, quick
from _pty import PtyApp, console_script

IDLE_TARGET = 50.0
MOVE_TARGET = 400


def main() -> None:
    idle_seconds = 20.0 if quick() else 60.0
    note(f"terminal output: demo in a 120x40 pty, {idle_seconds:.0f} s idle")
    app = PtyApp([*console_script(), "demo", "--no-activity"])
    try:
        app.wait_for(b"TKT-", timeout=30)
        app.wait_quiet(0.5, timeout=5)
        app.send(b"3")  # All open: a full screen of rows
        app.pump(1.0)
        # Past the feed's first poll (2 s after start) and quiet for a second.
        app.pump(max(0.0, app.started + 3.5 - time.monotonic()))
        app.wait_quiet(1.0, timeout=10)

        start = time.monotonic()
        app.pump(idle_seconds)
        end = time.monotonic()
        idle_bytes = app.bytes_between(start, end)
        # Writes less than 0.2 s apart are one screen update.
        bursts: list[list[float]] = []
        for at, n in app.chunks:
            if not start <= at < end:
                continue
            if bursts and at - bursts[-1][0] < 0.2:
                bursts[-1][1] += n
            else:
                bursts.append([at, n])
        rate = idle_bytes / (end - start)
        emit(
            "terminal.idle",
            f"Idle output, 120x40, {idle_seconds:.0f} s, countdowns ticking",
            "< 50 B/s",
            f"{rate:.1f} B/s ({idle_bytes:,} B in {end - start:.0f} s: {len(bursts)} updates, "
            f"largest {max((int(b[1]) for b in bursts), default=0):,} B)",
            rate < IDLE_TARGET,
            rate,
            updates=[(round(at - start, 1), int(n)) for at, n in bursts],
        )

        moves = []
        for _ in range(45):
            sent = app.send(b"j")
            app.pump(0.3)
            until = time.monotonic()
            size = app.bytes_between(sent, until)
            last = app.last_chunk_between(sent, until)
            moves.append((size, (last - sent) if last else float("nan")))
        in_view = moves[:20]
        scrolling = moves[35:]
        sizes = [m[0] for m in in_view]
        emit(
            "terminal.move",
            "Bytes per cursor move (j), inside the visible rows",
            "< 400 B",
            f"median {median(sizes):.0f} B, max {max(sizes)} B; key to last byte "
            f"{ms(median(m[1] for m in in_view))}",
            median(sizes) < MOVE_TARGET,
            median(sizes),
            all=[m[0] for m in moves],
        )
        scroll_sizes = [m[0] for m in scrolling]
        emit(
            "terminal.move_scroll",
            "  bytes per cursor move that scrolls the table",
            "< 400 B",
            f"median {median(scroll_sizes):.0f} B, p90 {percentile(scroll_sizes, 0.9):.0f} B; "
            f"key to last byte {ms(median(m[1] for m in scrolling))}",
            median(scroll_sizes) < MOVE_TARGET,
            median(scroll_sizes),
        )
    except Exception as error:
        fail("terminal", "Terminal output", repr(error))
        sys.exit(1)
    finally:
        app.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
