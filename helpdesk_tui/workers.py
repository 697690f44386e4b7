"""Store calls off the event loop, with one way back: results to a callback, failures to one
notification.

Both the app and its screens mix this in. A call runs in a Textual thread worker that never
takes the app down (``exit_on_error=False``); ``on_worker_state_changed`` hands the result to
``done`` on the event loop, or the error to ``report_error``. Callers read widget state on the
event loop before the call and pass values in; the call itself touches no widget.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from textual.worker import Worker, WorkerState

R = TypeVar("R")
Done = Callable[[Any], Any]


class StoreCalls:
    """Mixin for ``App`` and ``Screen``: ``call_store`` and the handler that finishes it."""

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
        if entry is None or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
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
