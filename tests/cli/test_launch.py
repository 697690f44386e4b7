"""The console script pauses Python's cycle collector while the app starts (launch.py), and
every way out of the start turns it back on: the first rows, a subcommand, an app that never
gets its rows, the command ending. Once the app runs, its full passes wait for a moment with
no key (collector.py).

The tests without an app are pure logic (no server); the app tests run on SecantusDB.
"""

from __future__ import annotations

import contextlib
import gc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import MakeApp
from pilot import settle, until
from typer.testing import CliRunner

import helpdesk_tui.app as app_module
from helpdesk_tui import cli, collector, launch
from helpdesk_tui.store.tickets import TicketStore


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Whatever a test does, the collector is on for the next one."""
    threshold = gc.get_threshold()
    yield
    launch.resume()
    gc.enable()
    gc.unfreeze()
    gc.set_threshold(*threshold)
    collector._managed = collector._ours = False


def test_the_console_script_runs_the_cli_with_the_collector_paused_then_resumes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def cli_main() -> None:
        seen.append(gc.isenabled())
        raise SystemExit(3)  # the CLI ends the way a command ends: by exiting

    monkeypatch.setattr(cli, "main", cli_main)
    with pytest.raises(SystemExit):
        launch.main()
    assert seen == [False]
    assert gc.isenabled()


def test_a_subcommand_runs_with_the_collector_on() -> None:
    launch.pause()
    assert not gc.isenabled()
    result = CliRunner().invoke(cli.app, ["man"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()


def test_pause_leaves_a_collector_someone_else_turned_off_alone() -> None:
    gc.disable()
    launch.pause()
    launch.resume()
    assert not gc.isenabled()  # not ours to turn on


async def test_the_collector_is_back_on_once_the_first_rows_are_painted(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store)
    gc.unfreeze()
    launch.pause()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await until(pilot, lambda: app._seeded)  # queue_painted ran
        assert gc.isenabled()
        # The start's survivors are out of later collections (and its garbage was freed).
        assert gc.get_freeze_count() > 0
        # Python's own full passes are put off; the app times them (collect_if_idle).
        if collector.TIMED:
            assert gc.get_threshold()[2] == collector.FULL_PASS_EVERY


async def test_the_collector_is_back_on_even_if_the_queue_never_loads(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "COLLECTOR_PAUSED_AT_MOST", 0.2)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the server went away")  # every page read fails

    monkeypatch.setattr(demo_store, "list_queue", down)
    app = make_app(demo_store)
    launch.pause()
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, gc.isenabled, seconds=5.0)
        assert not app._seeded  # no rows were painted: the timer turned it on
        assert gc.get_freeze_count() == 0


def test_first_rows_after_the_collector_came_back_on_without_them_still_settle_it() -> None:
    """A slow server: the timer turned the collector on at COLLECTOR_PAUSED_AT_MOST; the rows
    that come later still freeze the start's survivors and time the full passes."""
    gc.unfreeze()
    launch.pause()
    launch.resume()  # the timer
    assert gc.isenabled() and gc.get_freeze_count() == 0
    launch.resume(settle=True)  # the first rows
    assert gc.isenabled() and gc.get_freeze_count() > 0
    if collector.TIMED:
        assert gc.get_threshold()[2] == collector.FULL_PASS_EVERY
        assert collector._managed
    launch.resume(settle=True)  # once only
    assert gc.isenabled()


def test_the_start_does_not_import_what_the_first_rows_do_not_need() -> None:
    """The ticket screen (imported after the first rows) and the CLI's JSON export."""
    code = (
        "import sys, helpdesk_tui.cli, helpdesk_tui.app, helpdesk_tui.screens.queue\n"
        "print(sorted(m for m in ('helpdesk_tui.screens.ticket', 'helpdesk_tui.screens.reply',"
        " 'helpdesk_tui.export') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


timed = pytest.mark.skipif(not collector.TIMED, reason="Python's collector is incremental")


def promoted(passes: int = collector.IDLE_PASS_AFTER) -> None:
    """As if the app had worked a while: passes of the middle generation since the last full
    one (a full pass sets the count to 0; each middle pass adds 1). No automatic pass meanwhile
    (another thread's allocations could run one)."""
    gc.disable()
    try:
        gc.collect()
        for _ in range(passes):
            gc.collect(1)
        assert gc.get_count()[2] == passes
    finally:
        gc.enable()


@contextlib.contextmanager
def full_passes() -> Iterator[list[int]]:
    """The full passes that start within the block (one entry each)."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(2)

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


@timed
def test_a_full_pass_waits_for_a_second_without_keys_and_for_something_to_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "_managed", True)
    gc.collect()
    assert not collector.collect_if_idle(60.0)  # nothing promoted since the last full pass
    promoted()
    with full_passes() as ran:
        assert not collector.collect_if_idle(collector.IDLE_SECONDS - 0.1)  # keys are coming
    assert ran == []
    with full_passes() as ran:
        assert collector.collect_if_idle(collector.IDLE_SECONDS)
    assert ran == [2]


@timed
def test_no_full_pass_is_timed_in_a_process_whose_collector_is_not_the_apps() -> None:
    """Not started by the console script (a test, a library user): Python's own timing."""
    promoted()
    with full_passes() as ran:
        assert not collector.collect_if_idle(60.0)
    assert ran == []


@timed
async def test_the_apps_clock_runs_one_full_pass_a_second_after_the_agents_last_input(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "_managed", True)
    now = [1000.0]
    app = make_app(demo_store)
    app.idle_clock = lambda: now[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        promoted()
        with full_passes() as ran:
            app.tick()
        assert ran == []  # no input yet since the start's pass: nothing of the agent's to wait for
        await pilot.press("j")  # a key at 1000.0
        now[0] += collector.IDLE_SECONDS / 2
        promoted()
        with full_passes() as ran:
            app.tick()
        assert ran == []  # the agent may be typing on
        now[0] += collector.IDLE_SECONDS / 2
        with full_passes() as ran:
            app.tick()
        assert ran == [2]  # a second without keys: the full pass ran
        promoted()
        now[0] += 60
        with full_passes() as ran:
            app.tick()
        assert ran == []  # one pass a pause: left alone, the app does not walk its heap again
        await pilot.click("#queue-table")  # a click counts as input, as a key does
        now[0] += collector.IDLE_SECONDS
        promoted()
        with full_passes() as ran:
            app.tick()
        assert ran == [2]
