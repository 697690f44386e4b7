"""Figure 4 -- terminal output over SSH: bytes written to a real pseudo-terminal.

Every session runs in its own pty (TERM=xterm-256color, the window size set with TIOCSWINSZ
before exec, ``SSH_CONNECTION`` set as an SSH login has it), all at the same time, at 120x40
and at 80x24:

* idle: ``helpdesk-tui demo --no-activity``. After start-up the agent switches to "All open"
  (3), a screen full of ticking countdowns, the output settles, then every byte written during
  the measured window (120 s; ``--quick``: 20 s; ``--seconds N``) is counted. No
  extrapolation: the rate is bytes over the window actually measured.
* activity: ``helpdesk-tui demo`` (the simulated team writes every 3-8 s), same view, same
  window.
* references: ``top -d 1`` in the same run and window (posting and harlequin too when they are
  installed; nothing is installed for this).

After its idle window, each idle app is driven with keys, 0.3 s apart, counting the bytes
written after each key until the next:

* cursor moves: ``j`` down through the window. Moves that stay inside the visible rows (the
  first ``rows - 10``) are "no scroll"; the moves after the first screen (from ``rows``) are
  "holding j": some of them scroll the table. Reported: the median without scroll; with scroll
  the mean per move (what holding ``j`` costs) and the largest single move.
* view switches: ``1``, ``3``, ``2``, ``3``, ``5``, ``3``: bytes per switch, from the key
  until the view's info line ("All open: 177 of 177 …") has arrived and a quiet 0.5 s.
* start-up: every byte from fork to the first quiet second after the first rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fail, median, note, quick
from _pty import PtyApp, console_script

IDLE_TARGET = 20.0  # B/s at 120x40
ACTIVE_TARGET = 150.0  # B/s with the demo's simulated team
MOVE_TARGET = 300  # B per cursor move without scrolling
SCROLL_TARGET = 3000  # B per cursor move while holding j through the rows
SIZES = ((120, 40), (80, 24))
# View switches: the key and the start of the info line painted under the view's rows.
VIEWS = (
    (b"1", b"My tickets: "),
    (b"3", b"All open: "),
    (b"2", b"Unassigned: "),
    (b"3", b"All open: "),
    (b"5", b"Waiting: "),
    (b"3", b"All open: "),
)
SSH_ENV = {"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}


@dataclass
class Session:
    """One pty session and what was measured in it."""

    name: str
    argv: list[str]
    cols: int
    rows: int
    app: bool = True  # a helpdesk-tui session: switch views, drive keys
    keys: bool = False
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def rate_over(app: PtyApp, seconds: float) -> dict[str, Any]:
    start = time.monotonic()
    app.pump(seconds)
    end = time.monotonic()
    total = app.bytes_between(start, end)
    bursts: list[list[float]] = []  # writes less than 0.2 s apart are one screen update
    for at, n in app.chunks:
        if not start <= at < end:
            continue
        if bursts and at - bursts[-1][0] < 0.2:
            bursts[-1][1] += n
        else:
            bursts.append([at, n])
    return {
        "bytes": total,
        "seconds": end - start,
        "rate": total / (end - start),
        "updates": len(bursts),
        "largest": max((int(b[1]) for b in bursts), default=0),
        "bursts": [(round(at - start, 1), int(n)) for at, n in bursts],
    }


def per_key(app: PtyApp, key: bytes, wait: float = 0.3) -> int:
    sent = app.send(key)
    app.pump(wait)
    return app.bytes_between(sent, time.monotonic())


def run_session(session: Session, seconds: float) -> None:
    app = PtyApp(session.argv, cols=session.cols, rows=session.rows, env=SSH_ENV)
    try:
        if session.app:
            app.wait_for(b"TKT-", timeout=60)
            settled = app.wait_quiet(1.0, timeout=10)
            session.result["startup"] = app.bytes_between(app.started, settled + 0.001)
            app.send(b"3")  # All open: a full screen of countdowns
            app.pump(1.0)
            # Past the feed's first poll (2 s after start) and quiet for a second.
            app.pump(max(0.0, app.started + 3.5 - time.monotonic()))
            app.wait_quiet(2.0, timeout=15)
        else:
            app.pump(3.0)
        session.result["idle"] = rate_over(app, seconds)
        if session.keys:
            drive_keys(app, session)
    except Exception as error:  # reported as "not measured"
        session.error = repr(error)
    finally:
        app.close(b"q")


def drive_keys(app: PtyApp, session: Session) -> None:
    moves = [per_key(app, b"j") for _ in range(60)]
    session.result["moves"] = moves
    session.result["no_scroll"] = moves[: session.rows - 10]
    session.result["scroll"] = moves[session.rows :]
    app.wait_quiet(0.5, timeout=5)
    switches = []
    for key, name in VIEWS:
        sent = app.send(key)
        app.wait_for(name, timeout=20)  # the info line under the new rows: "All open: 177 …"
        last = app.wait_quiet(0.5, timeout=10)
        switches.append(app.bytes_between(sent, max(last, sent) + 0.001))
    session.result["switches"] = switches


def sessions() -> list[Session]:
    helpdesk = console_script()
    found: list[Session] = []
    for cols, rows in SIZES:
        size = f"{cols}x{rows}"
        found.append(
            Session(f"idle {size}", [*helpdesk, "demo", "--no-activity"], cols, rows, keys=True)
        )
        found.append(Session(f"activity {size}", [*helpdesk, "demo"], cols, rows))
        top = shutil.which("top")
        if top:
            found.append(Session(f"top {size}", [top, "-d", "1"], cols, rows, app=False))
    for name, argv in (("posting", ["posting"]), ("harlequin", ["harlequin"])):
        path = shutil.which(argv[0])
        if path:  # references only when installed
            found.append(Session(f"{name} 120x40", [path, *argv[1:]], 120, 40, app=False))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s windows instead of 120 s")
    parser.add_argument("--seconds", type=float, help="length of the measured window")
    args = parser.parse_args()
    seconds = args.seconds or (20.0 if quick() else 120.0)
    todo = sessions()
    note(f"terminal output: {len(todo)} pty sessions at once, {seconds:.0f} s windows")
    threads = [threading.Thread(target=run_session, args=(s, seconds)) for s in todo]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report(todo, seconds)


def report(done: list[Session], seconds: float) -> None:
    by_name = {s.name: s for s in done}
    failed = False
    for session in done:
        if session.error:
            failed = True
            fail(f"terminal.{session.name}", f"Terminal output, {session.name}", session.error)
    refs = {
        s.name: s.result["idle"]["rate"]
        for s in done
        if not s.app and not s.error and "idle" in s.result
    }
    ref_text = ", ".join(f"{name} {rate:,.0f} B/s" for name, rate in refs.items())
    for cols, rows in SIZES:
        size = f"{cols}x{rows}"
        suffix = "" if (cols, rows) == SIZES[0] else f"_{size}"
        for kind, target in (("idle", IDLE_TARGET), ("activity", ACTIVE_TARGET)):
            session = by_name.get(f"{kind} {size}")
            if session is None or session.error or "idle" not in session.result:
                continue
            measured = session.result["idle"]
            top = refs.get(f"top {size}")
            emit(
                f"terminal.{kind}{suffix}",
                f"{'Idle' if kind == 'idle' else 'Demo activity'} output, {size}, "
                f"{measured['seconds']:.0f} s" + ("" if kind == "idle" else ", simulated team"),
                f"< {target:.0f} B/s",
                f"{measured['rate']:.1f} B/s ({measured['bytes']:,} B in "
                f"{measured['seconds']:.0f} s: {measured['updates']} updates, largest "
                f"{measured['largest']:,} B)" + (f"; top -d 1: {top:,.0f} B/s" if top else ""),
                measured["rate"] < target,
                measured["rate"],
                updates=measured["bursts"],
            )
        session = by_name.get(f"idle {size}")
        if session is None or session.error or "moves" not in session.result:
            continue
        result = session.result
        emit(
            f"terminal.startup{suffix}",
            f"  start-up bytes, {size} (to the first quiet second)",
            "measured",
            f"{result['startup']:,} B",
            None,
            result["startup"],
        )
        plain = result["no_scroll"]
        emit(
            f"terminal.move{suffix}",
            f"Bytes per cursor move (j), {size}, inside the visible rows",
            f"< {MOVE_TARGET} B",
            f"median {median(plain):.0f} B, max {max(plain)} B ({len(plain)} moves)",
            median(plain) < MOVE_TARGET,
            median(plain),
            all=result["moves"],
        )
        held = result["scroll"]
        mean = sum(held) / len(held)
        emit(
            f"terminal.move_scroll{suffix}",
            f"  bytes per cursor move holding j past the screen, {size}",
            f"< {SCROLL_TARGET} B",
            f"mean {mean:.0f} B over {len(held)} moves, largest single move {max(held):,} B, "
            f"median {median(held):.0f} B",
            mean < SCROLL_TARGET,
            mean,
        )
        switches = result["switches"]
        emit(
            f"terminal.switch{suffix}",
            f"  bytes per view switch (1/2/3/5), {size}",
            "measured",
            f"median {median(switches):,.0f} B, max {max(switches):,} B",
            None,
            median(switches),
            all=switches,
        )
    if ref_text:
        emit("terminal.references", "  references, idle, same run", "info", ref_text, None)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
