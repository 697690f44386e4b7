"""Import time of the lean install: the wall time of a fresh ``python -c "import helpdesk_tui.cli"``
(interpreter start included), the median of 5 (issue 31).

    .venv/bin/python benchmarks/bench_import.py                      # this venv (editable install)
    .venv/bin/python benchmarks/bench_import.py --python /tmp/v/bin/python   # a wheel's venv

``import helpdesk_tui.cli`` is what every command pays before it does anything (``--version``,
``--help``, ``doctor``, the app). It imports no extra (SecantusDB and textual-serve are only run
or imported by ``demo`` and ``serve``; tests/cli/test_lean_install.py checks it), so the figure is
the same in a dev venv and in a production one; ``--python`` measures another interpreter, e.g.
the fresh venv scripts/check_wheel.sh installs the wheel into. No database, no screen.

Prints each run on stderr and one JSON result line (the other scripts' format) on stdout. Not
in run.py's set: run it on its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.python == sys.executable:
        # As installed: pip compiles the bytecode; an editable install under
        # PYTHONDONTWRITEBYTECODE would compile changed modules on every start.
        import compileall

        compileall.compile_dir(ROOT / "helpdesk_tui", quiet=1, workers=1)
    code = "import helpdesk_tui.cli"
    times = []
    # Not from the source tree (python -c puts the working directory first on sys.path).
    with tempfile.TemporaryDirectory(prefix="bench-import-") as elsewhere:
        subprocess.run([args.python, "-c", code], cwd=elsewhere, check=True)  # warm the disk
        for run in range(args.runs):
            started = time.perf_counter()
            subprocess.run([args.python, "-c", code], cwd=elsewhere, check=True)
            times.append(time.perf_counter() - started)
            print(f"  run {run + 1}: {times[-1]:.3f} s", file=sys.stderr, flush=True)
    seconds = statistics.median(times)
    measured = f"{seconds:.2f} s (median of {args.runs}: " + ", ".join(f"{t:.2f}" for t in times)
    print(
        json.dumps(
            {
                "id": "import.cli",
                "figure": "Fresh interpreter + import helpdesk_tui.cli (every command's floor)",
                "target": "",
                "measured": measured + " s)",
                "ok": None,
                "value": seconds,
                "details": {"python": args.python, "times": times},
            }
        )
    )


if __name__ == "__main__":
    main()
