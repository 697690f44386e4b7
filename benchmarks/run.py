"""Run every benchmark and print one table: figure, target, measured, ok/MISSED.

    .venv/bin/python benchmarks/run.py            # all figures (SecantusDB at 10,000 included)
    .venv/bin/python benchmarks/run.py --quick    # shorter idle run, fewer repeats, 300 tickets
                                                  # and 0/1 apps on SecantusDB
    .venv/bin/python benchmarks/run.py --only keys,events --json results.json

Each ``bench_*.py`` runs in its own process (so one's imports, caches and garbage do not
colour the next) and prints one JSON line per figure. The exit status is non-zero if any
figure could not be measured (a script failed, or reported an error); a missed target is a
result, not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "startup": "bench_startup.py",
    "keys": "bench_keys.py",
    "events": "bench_events.py",
    "terminal": "bench_terminal_output.py",
    "db": "bench_db_work.py",
    "memory": "bench_memory.py",
    "server": "bench_server_work.py",
    "demo": "bench_demo_startup.py",
    "search": "bench_search.py",
}
# The figures each script must produce (a missing one means it could not be measured).
EXPECTED = {
    "startup": [
        "startup.demo_300",
        "startup.wire_300",
        "startup.wire_10000",
        "startup.wire_100000",
        "startup.fetch_100000",
        "startup.in_process_10000",
    ],
    "keys": ["keys.move", "keys.open_ticket", "keys.switch_view"],
    "events": ["events.burst", "events.burst_key"],
    "terminal": [
        "terminal.idle",
        "terminal.activity",
        "terminal.move",
        "terminal.move_scroll",
        "terminal.switch",
        "terminal.idle_80x24",
        "terminal.move_80x24",
    ],
    "db": [
        "db.open_app",
        "db.open_view",
        "db.open_ticket",
        "db.back",
        "db.event_queue",
        "db.event_ticket",
        "db.queue_messages",
    ],
    "memory": ["memory.start_100000", "memory.events"],
    "server": [
        "server.python_imports",
        "server.first_rows_300",
        "server.outside_writes_300",
        "server.page_300",
        "server.cpu_per_update_0",
        "server.ops_per_update_0",
        "server.cpu_per_update_1",
        "server.ops_per_update_1",
        "server.cpu_growth_per_app",
    ],
    "demo": ["demo.startup_300"],
    "search": [],  # --quick: 1,000 tickets (no scan bound reached); the full run: 10,000
}
# Measured only without --quick (10,000 tickets to seed on SecantusDB; 5 and 10 apps).
EXPECTED_FULL = {
    "server": [
        "server.first_rows_10000",
        "server.outside_writes_10000",
        "server.page_10000",
        "server.cpu_per_update_5",
        "server.ops_per_update_5",
        "server.cpu_per_update_10",
        "server.ops_per_update_10",
    ],
    "search": ["search.docs_10000", "search.time_10000"],
}


def run_script(name: str, quick: bool) -> tuple[list[dict[str, Any]], list[str]]:
    command = [sys.executable, str(HERE / SCRIPTS[name])] + (["--quick"] if quick else [])
    print(f"== {name}: {' '.join(Path(c).name for c in command[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    process = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    rows, problems = [], []
    for line in process.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            problems.append(f"{name}: unreadable result line {line[:80]!r}")
    if process.returncode != 0:
        problems.append(f"{name}: exited with status {process.returncode}")
    for row in rows:
        if "error" in row:
            problems.append(f"{row['id']}: could not measure: {row['error']}")
    ids = {row["id"] for row in rows}
    expected = EXPECTED[name] + ([] if quick else EXPECTED_FULL.get(name, []))
    problems += [f"{name}: no result for {i}" for i in expected if i not in ids]
    print(f"   {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, problems


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| Figure | Target | Measured | Result |", "|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            result, target, measured = "ERROR", "", row["error"]
        else:
            result = {True: "ok", False: "MISSED", None: "info"}[row["ok"]]
            target, measured = row["target"], row["measured"]
        cells = [row["figure"], target, measured, result]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def commit() -> str:
    """The commit measured (``+dirty`` when the work tree has uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s idle run, fewer repeats")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(SCRIPTS)}")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    from _common import installed_bytecode

    installed_bytecode()  # start-up is measured as installed (see _common.installed_bytecode)
    started = time.monotonic()
    measured_at = commit()
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for name in names:
        found, trouble = run_script(name, args.quick)
        rows += found
        problems += trouble
    print()
    print(table(rows))
    missed = [r for r in rows if r.get("ok") is False]
    print(
        f"\n{len(rows)} figures, {len(missed)} missed, {len(problems)} not measured; "
        f"{time.monotonic() - started:.0f} s"
        + (" (--quick)" if args.quick else "")
        + f"; commit {measured_at}; load average {os.getloadavg()[0]:.2f} (2 cores)"
    )
    for problem in problems:
        print(f"NOT MEASURED: {problem}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "problems": problems}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
