"""Store calls off the event loop, on Textual's own workers, with one way back for failures.

A store call is a method decorated with ``@work(thread=True, exit_on_error=False)`` on the app
or a screen. It reads nothing from widgets (callers pass values in) and ends by posting a typed
result message (``self.post_message(Loaded(...))``; ``post_message`` is thread-safe), which a
handler on the event loop shows. A screen that has gone takes no more messages, and Textual
cancels its workers, so late results have nowhere to go and are dropped.

Failures have one path: ``StoreWork.on_worker_state_changed`` hands a worker's error to
``report_error`` (one notification), then posts ``WorkFailed`` naming the worker, for the few
callers that must undo something they did before the call (give the keys back, keep a draft).

``StoreCalls.call_store`` is the older callback runner, kept only until the last call site has
moved to ``@work``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from textual.message import Message
from textual.worker import Worker, WorkerState

R = TypeVar("R")
Done = Callable[[Any], Any]


class WorkFailed(Message):
    """A ``@work`` method of this node failed; its error has already been reported once.

    ``work`` is the method's name (Textual names a ``@work`` worker after its method), so a
    handler can tell which call failed: ``if message.work == "_send": ...``.
    """

    def __init__(self, work: str, error: BaseException | None) -> None:
        super().__init__()
        self.work = work
        self.error = error


class StoreCalls:
    """Mixin for ``App`` and ``Screen``: reports failed workers (and runs ``call_store``)."""

    _store_calls: dict[Worker[Any], tuple[Done | None, Callable[[], Any] | None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store_calls = {}

    def accepts_results(self) -> bool:
        """False once the results could no longer be shown (a screen that has gone)."""
        return True

    def call_store(
        self,
        call: Callable[[], R],
        done: Callable[[R], Any] | None = None,
        *,
        group: str = "store",
        exclusive: bool = False,
        failed: Callable[[], Any] | None = None,
    ) -> Worker[R]:
        """Run ``call`` in a thread; ``done(result)`` on the event loop, or report the error.

        A cancelled call (an exclusive group's newer call replaced it) ends silently, and so
        does one whose screen has gone: its results have nowhere to go.
        """
        worker: Worker[R] = self.run_worker(  # type: ignore[attr-defined]
            call, thread=True, exit_on_error=False, group=group, exclusive=exclusive, name=group
        )
        self._store_calls[worker] = (done, failed)
        return worker

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        entry = self._store_calls.get(event.worker)
        if entry is None:
            if event.state is WorkerState.ERROR and event.worker.node is self:
                self.app.report_error(event.worker.error)  # type: ignore[attr-defined]
                if self.accepts_results():
                    self.post_message(  # type: ignore[attr-defined]
                        WorkFailed(event.worker.name, event.worker.error)
                    )
            return
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        del self._store_calls[event.worker]
        done, failed = entry
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.app.report_error(error)  # type: ignore[attr-defined]
            if failed is not None and self.accepts_results():
                failed()
            return
        if event.state is WorkerState.CANCELLED or not self.accepts_results():
            return
        if done is not None:
            outcome = done(event.worker.result)
            if inspect.isawaitable(outcome):
                await outcome
