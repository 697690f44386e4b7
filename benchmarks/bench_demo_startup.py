"""Demo start-up on its embedded engines: process start to the first ticket row on the terminal.

``helpdesk-tui demo --no-activity`` (300 tickets) in a 120x40 pseudo-terminal, timed from fork to
the first output containing a ticket row. Today's demo runs on SecantusDB (a real server in a
child process: start, indexes, seeding and the first queries included). With ``--compare REV``
the same is measured, in the same run, for the demo of an earlier commit (checked out into a
temporary worktree and run with this interpreter; the mongomock demo is 8a36174, which needs
``pip install mongomock``).

    python benchmarks/bench_demo_startup.py [--runs 5] [--quick] [--compare 8a36174]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, emit, installed_bytecode, median, note
from _pty import PtyApp, console_script

ROW = b"TKT-"
ROOT = Path(__file__).resolve().parent.parent


def measure(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        app = PtyApp([*argv, "demo", "--no-activity"], env=env)
        try:
            times.append(app.wait_for(ROW) - app.started)
        finally:
            app.close()
    return times


def main() -> None:
    installed_bytecode()  # start-up as installed (pip compiles the bytecode)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs (for run.py --quick)")
    parser.add_argument("--compare", help="an earlier commit whose demo to measure too")
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 2)

    times = measure(console_script(), args.runs)
    emit(
        "demo.startup_300",
        "Demo start-up to first rows, 300 tickets (SecantusDB child process)",
        "< 1.5 s",
        f"{median(times):.2f} s median of {len(times)} "
        f"(min {min(times):.2f}, max {max(times):.2f})",
        median(times) < 1.5,
        value=median(times),
    )
    if args.compare:
        tree = Path(tempfile.mkdtemp(prefix="bench-old-"))
        shutil.rmtree(tree)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.compare],
            check=True,
        )
        try:
            code = (
                "import sys; from helpdesk_tui.cli import main; sys.argv[0]='helpdesk-tui'; main()"
            )
            old = measure([PYTHON, "-c", code], args.runs, env={"PYTHONPATH": str(tree)})
            emit(
                "demo.startup_300_old",
                f"Demo start-up to first rows, 300 tickets, at {args.compare}",
                "",
                f"{median(old):.2f} s median of {len(old)} "
                f"(min {min(old):.2f}, max {max(old):.2f})",
                None,
                value=median(old),
            )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )
    note(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
