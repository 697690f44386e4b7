"""Store calls off the event loop, on Textual's own workers, with one way back for failures.

A store call is a method decorated with ``@work(thread=True, exit_on_error=False)`` on the app
or a screen. It reads nothing from widgets (callers pass values in) and ends by posting a typed
result message (``self.post_message(Loaded(...))``; ``post_message`` is thread-safe), which a
handler on the event loop shows. A screen that has gone takes no more messages, and Textual
cancels its workers, so late results have nowhere to go and are dropped; a result a newer call
replaced is dropped by a generation number in its message.

Failures have one path: ``StoreCalls.on_worker_state_changed`` hands a worker's error to
``report_error`` (one notification), then posts ``WorkFailed`` naming the worker, for the few
callers that must undo something they did before the call (give the keys back, keep a draft).
"""

from __future__ import annotations

from textual.message import Message
from textual.worker import Worker, WorkerState


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
    """Mixin for ``App`` and ``Screen``: a failed store worker is reported once, then named."""

    def accepts_results(self) -> bool:
        """False once the results could no longer be shown (a screen that has gone)."""
        return True

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.node is self:
            self.app.report_error(event.worker.error)  # type: ignore[attr-defined]
            if self.accepts_results():
                self.post_message(  # type: ignore[attr-defined]
                    WorkFailed(event.worker.name, event.worker.error)
                )
