"""A closed screen is let go when it closes: what asyncio and Textual keep of a context.

Textual keeps the message pump whose handler is running (a screen, a widget) in a context
variable, and every asyncio task and timer handle made meanwhile keeps a copy of the context.
Three copies outlived a closed screen, and with it every widget, style and cache of it (thousands
of objects, which each full pass of the cycle collector walked again meanwhile: passes of 5-60 ms
falling on the next ticket's open, issue 29):

- A timer: Textual's sleeps with ``asyncio.sleep``, whose ``loop.call_later`` handle keeps its
  context until its deadline, cancelled or not (Python 3.11's ``cancel`` drops the callback and
  its arguments, not the context). A screen's timer, stopped when the screen closed, held the
  screen until it would have fired: 15 s for the presence heartbeat. ``apart`` starts one in a
  copy of the context in which the app stands for the screen (``TakesKeys.every``, ``after``).
- A store call the app runs for a screen (presence: "I left the ticket"), started from its
  ``on_unmount``: the worker's task keeps its context, and the worker its task, for as long as
  a message about the worker is referenced (the app's message loop keeps the last one it
  handled until the next). Started ``apart`` too.
- A worker thread: Textual runs a thread worker on the event loop's default executor and sets
  its ``active_worker`` variable in the pool thread's own context without resetting it
  (``Worker._run_threaded``), so each pool thread kept the last worker it ran, its screen
  (``self``) and its arguments, until it happened to run another. ``CallContextExecutor`` runs
  each call in a fresh context.

Only public API: ``contextvars``, ``MessagePump`` (the class of apps, screens and widgets), and
the loop's ``set_default_executor``. tests/ticket/test_screen_released.py checks that a closed
ticket or reply screen is gone right after the app settles.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from textual.message_pump import MessagePump

P = ParamSpec("P")
T = TypeVar("T")


def apart(app: Any, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call(*args, **kwargs)`` in a copy of the current context in which ``app`` stands for
    any message pump Textual keeps there (the screen or widget whose handler is running), as it
    does for its own workers: a task or timer it starts holds none of them."""
    context = contextvars.copy_context()
    for var, value in context.items():
        if isinstance(value, MessagePump) and value is not app:
            context.run(var.set, app)
    return context.run(call, *args, **kwargs)


class CallContextExecutor(ThreadPoolExecutor):
    """A thread pool whose threads keep nothing between calls: each runs in a new context."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        def in_a_new_context() -> T:
            return contextvars.Context().run(fn, *args, **kwargs)

        return super().submit(in_a_new_context)


_installed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def keep_nothing_in_worker_threads(loop: asyncio.AbstractEventLoop) -> None:
    """``loop``'s default executor, where Textual's thread workers run: a
    ``CallContextExecutor``, once per loop (a second app on the same loop keeps the first's)."""
    if loop not in _installed:
        loop.set_default_executor(CallContextExecutor(thread_name_prefix="asyncio"))
        _installed.add(loop)
