"""The ``helpdesk-tui`` command: the CLI, with Python's cycle collector paused while the app
starts (issue 14: first rows in under a second).

A start allocates most of what the app will ever hold: modules, classes, pydantic's validators,
Textual's stylesheet and DOM. Allocations are what trigger the cycle collector, so before the
first rows it ran about 225 times, walking that growing heap each time (55-60 ms of a start on
the benchmark's machine), and found next to nothing to free: none of it is garbage yet. So the
collector is off from the first import until the queue's first rows are painted, or until the
command turns out not to start the app (a subcommand, an error), and on again after. Objects
without cycles are freed by reference counting as always; cycles made during the start are
collected once the collector is back on (at the first rows, in one pass: ``resume``).
"""

from __future__ import annotations

from helpdesk_tui.collector import pause, resume

__all__ = ["main", "pause", "resume"]


def main() -> None:
    """Console entry point (``pyproject.toml``): ``helpdesk_tui.cli.main`` with the collector
    paused during the start."""
    pause()
    try:
        from helpdesk_tui.cli import main as cli_main
        from helpdesk_tui.crash import route_log

        # Log lines (a malformed record skipped, a loop that carried on) go to a private file,
        # never onto the terminal the app draws on; commands say what matters on stderr.
        route_log()
        cli_main()
    finally:
        resume()
