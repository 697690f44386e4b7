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

import gc

_paused = False


def pause() -> None:
    """The collector off until ``resume()`` (if it was on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume(*, settle: bool = False) -> None:
    """The collector back on, if ``pause()`` turned it off (idempotent).

    ``settle`` (the app, once its first rows are painted): everything the start allocated is
    still in the youngest generation, so the first collection would walk all of it (~108,000
    objects, 39-50 ms here) and the next two generations again later. One collection now
    frees the start's garbage (~5,000 objects: caches of widgets rebuilt during the start),
    and ``gc.freeze()`` keeps what survives (modules, classes, the screen) out of every later
    collection."""
    global _paused
    if _paused:
        _paused = False
        if settle:
            gc.collect()
            gc.freeze()
        gc.enable()


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
