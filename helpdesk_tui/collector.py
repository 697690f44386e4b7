"""Python's cycle collector, paused while the app starts (the policy: launch.py's docstring).

Its own module so that the app and the CLI, which turn it back on, need not import the console
script's module (launch.py imports the CLI, which imports the app: a cycle otherwise).
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
