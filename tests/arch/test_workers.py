"""The one failure path of store workers (workers.StoreCalls): a failed ``@work`` method is
reported once through the app's ``report_error`` and named in one ``WorkFailed`` message.
Pure Textual wiring: no server adds anything here."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import App
from textual.screen import Screen

from helpdesk_tui.workers import StoreCalls, WorkFailed


class Boom(Exception):
    pass


class Probe(StoreCalls, Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.failed: list[str] = []

    @work(thread=True, exit_on_error=False)
    def _fails(self) -> None:
        raise Boom("customer text that must not be shown")

    @on(WorkFailed)
    def _seen(self, message: WorkFailed) -> None:
        self.failed.append(message.work)


class ProbeApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.reported: list[Any] = []

    def report_error(self, error: BaseException | None) -> None:
        self.reported.append(error)


async def test_a_failed_work_method_is_reported_once_and_named() -> None:
    app = ProbeApp()
    async with app.run_test() as pilot:
        screen = Probe()
        await app.push_screen(screen)
        worker = screen._fails()
        while not worker.is_finished:
            await pilot.pause()
        await pilot.pause()
        assert [type(e) for e in app.reported] == [Boom]
        assert screen.failed == ["_fails"]
        assert app.return_code is None  # the app carries on
