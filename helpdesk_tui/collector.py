"""Python's cycle collector, paused while the app starts (the policy: launch.py's docstring),
and its full passes moved to moments the agent is not waiting.

Its own module so that the app and the CLI, which turn it back on, need not import the console
script's module (launch.py imports the CLI, which imports the app: a cycle otherwise).

Full passes. Every screen the app opens and closes leaves its widgets behind as cycles (a
widget and its parent refer to each other), so the collector's full pass has work: on the
benchmark's machine it ran every few seconds of opening tickets, each pass 20-70 ms, walking
every object the app holds, and it ran inside whatever the agent had just asked for (an open
ticket took that much longer). Once the app runs (``resume(settle=True)``), a full pass comes
only after ``FULL_PASS_EVERY`` passes of the middle generation instead of Python's 10, and the
app's clock offers one (``collect_if_idle``) when no key has come for ``IDLE_SECONDS`` and
enough has been promoted since the last one: once per pause of the agent's (the app asks only
after some input since its last pass), so an app left alone on a shared host does not walk its
heap every few seconds. The young generations are collected as always (a pass of 1-6 ms).

Python 3.14's collector is incremental (its full pass is spread over the young passes, and the
third threshold is not used): there, Python's timing is kept.
"""

from __future__ import annotations

import gc
import sys

_paused = False  # pause() turned the collector off, and resume() has not turned it back on
_ours = False  # the console script paused it for the start: the first rows settle it
_managed = False  # the console script's app: the full passes are ours to time

FULL_PASS_EVERY = 100  # passes of the middle generation before Python's own full pass
IDLE_SECONDS = 1.0  # no key or click for this long: a full pass falls on nobody's wait
IDLE_PASS_AFTER = 2  # middle-generation passes since the last full one: else nothing to do
# Whole passes that take the process's time at once (3.14's collector works in increments).
TIMED = sys.version_info < (3, 14)


def pause() -> None:
    """The collector off until ``resume()`` (if it was on)."""
    global _paused, _ours
    if gc.isenabled():
        gc.disable()
        _paused = _ours = True


def resume(*, settle: bool = False) -> None:
    """The collector back on, if ``pause()`` turned it off (idempotent).

    ``settle`` (the app, once its first rows are painted): everything the start allocated is
    still in the youngest generation, so the first collection would walk all of it (~108,000
    objects, 39-50 ms here) and the next two generations again later. One collection now
    frees the start's garbage (~5,000 objects: caches of widgets rebuilt during the start),
    and ``gc.freeze()`` keeps what survives (modules, classes, the screen) out of every later
    collection. From then on the full passes are timed (``collect_if_idle``). Also when the
    first rows came after the collector was turned back on without them (a slow server)."""
    global _paused, _ours, _managed
    if settle and _ours:
        _ours = False
        gc.collect()
        gc.freeze()
        if TIMED:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, FULL_PASS_EVERY)
            _managed = True
    if _paused:
        _paused = False
        gc.enable()


def collect_if_idle(idle_seconds: float) -> bool:
    """A full pass now, if the app's full passes are ours to time, nothing has been typed or
    clicked for ``IDLE_SECONDS`` and there is something to walk; whether one ran."""
    if (
        not _managed
        or not gc.isenabled()
        or idle_seconds < IDLE_SECONDS
        or gc.get_count()[2] < IDLE_PASS_AFTER
    ):
        return False
    gc.collect()
    return True
