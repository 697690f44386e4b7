"""Supervisor-only actions in the queue (bulk assign, bulk status, workload) and the CLI's
refusal of an unknown --as, driven through the pilot at 120x40 on the 60-ticket demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from helpers import QUIET, WIDE, MakeApp
from pilot import press, settle_workers
from textual.pilot import Pilot
from typer.testing import CliRunner

from helpdesk_tui import cli
from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL, SUPERVISOR
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.tickets import TicketStore

SAM = SUPERVISOR[1]


def build(make_app: MakeApp, store: TicketStore, email: str) -> tuple[Any, list[str]]:
    """An app with the feed parked; every notification's text is recorded."""
    app = make_app(store, email, config=QUIET)
    notes: list[str] = []
    notify = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> Any:
        notes.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = record
    return app, notes


def assignees(db: Any) -> dict[ObjectId, Any]:
    return {t["_id"]: t.get("assignedTo") for t in db.tickets.find({}, {"assignedTo": 1})}


def statuses(db: Any) -> dict[ObjectId, str]:
    return {t["_id"]: t["status"] for t in db.tickets.find({}, {"status": 1})}


def selected(app: Any) -> list[Any]:
    table = app.screen.table
    return [table.tickets[k] for k in table.tickets if k in table.selected]


# --- as the agent ------------------------------------------------------------------------------


async def test_agent_cannot_bulk_assign_or_see_workload(
    demo_store: TicketStore, make_app: MakeApp, db: Any
) -> None:
    app, notes = build(make_app, demo_store, DEMO_AGENT_EMAIL)
    before, events = assignees(db), db.ticket_events.count_documents({})
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3", "space", "space")
        assert len(selected(app)) == 2
        await press(pilot, "A")
        assert any("supervisor" in n.lower() for n in notes), notes
        assert len(app.screen_stack) == 2  # no dialog opened (default screen + queue)
        screen = app.screen
        await press(pilot, "w")
        assert app.screen is screen
        assert len(notes) == 2, notes
        assert "workload" in notes[-1].lower(), notes
    assert assignees(db) == before
    assert db.ticket_events.count_documents({}) == events


# --- as the supervisor -------------------------------------------------------------------------


async def test_supervisor_bulk_assigns_twenty_tickets_to_chidi(
    demo_store: TicketStore, make_app: MakeApp, db: Any
) -> None:
    sam = demo_store.user_by_email(SAM).id
    chidi = demo_store.user_by_email("chidi@helpdesk.example").id
    app, notes = build(make_app, demo_store, SAM)
    before, events = assignees(db), db.ticket_events.count_documents({})
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3")
        await press(pilot, *["space"] * 20)
        chosen = {t.id for t in selected(app)}
        assert len(chosen) == 20
        await press(pilot, "A")
        await press(pilot, *"hidi")
        await press(pilot, "enter")
        await press(pilot, "y")  # 20 is over [bulk] confirm_over: asked first
        await settle_workers(pilot)
    after = assignees(db)
    assert {k for k in after if after[k] != before[k]} <= chosen
    assert {k for k, v in after.items() if k in chosen} == chosen
    assert all(after[k] == chidi for k in chosen)
    assert {k: v for k, v in after.items() if k not in chosen} == {
        k: v for k, v in before.items() if k not in chosen
    }
    new = list(db.ticket_events.find().skip(events))
    assert len(new) == 20, new
    assert {e["ticket"] for e in new} == chosen
    assert all(e["action"] == "assign" and e["actor"] == sam for e in new)
    assert all(e["to"] == str(chidi) for e in new)
    assert any("20 tickets" in n for n in notes), notes


async def test_supervisor_bulk_status_names_the_refused_tickets(
    demo_store: TicketStore, make_app: MakeApp, db: Any
) -> None:
    app, notes = build(make_app, demo_store, SAM)
    before = statuses(db)
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3")
        await press(pilot, *["space"] * 8)  # the report names up to 8 refused tickets
        picked = selected(app)
        moving = {t.id for t in picked if t.status == Status.IN_PROGRESS}
        # "All open" also holds waiting tickets: waiting → waiting is refused as well.
        staying = {t.ticket_number: t.id for t in picked if t.status != Status.IN_PROGRESS}
        opened = {t.id for t in picked if t.status == Status.OPEN}
        assert moving and opened, [t.status for t in picked]
        await press(pilot, "s")
        await press(pilot, *["down"] * list(Status).index(Status.WAITING))
        await press(pilot, "enter")
        await settle_workers(pilot)
    after = statuses(db)
    assert all(after[k] == "waiting" for k in moving)
    assert all(after[k] == "open" for k in opened)
    assert {k: v for k, v in after.items() if k not in moving} == {
        k: v for k, v in before.items() if k not in moving
    }
    report = notes[-1]
    assert f"{len(moving)} of {len(picked)} done" in report, report
    for number in staying:
        assert number in report, (number, report)


# --- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def unknown_cli(demo_store: TicketStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HELPDESK_TUI_MONGO_URI", "MONGODB_URI", "HELPDESK_TUI_DB", "HELPDESK_TUI_AGENT"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setattr(cli, "connect", lambda _config: demo_store)

    def never(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the app must not start")

    monkeypatch.setattr(cli, "_run_app", never)


def assert_refused(result: Any) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "someone@unknown" in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_cli_unknown_email_is_one_line_error(unknown_cli: None) -> None:
    result = CliRunner().invoke(cli.app, ["--as", "someone@unknown", "tickets", "list"])
    assert_refused(result)


def test_cli_bare_command_with_unknown_email_never_starts_the_app(unknown_cli: None) -> None:
    result = CliRunner().invoke(cli.app, ["--as", "someone@unknown"])
    assert_refused(result)


async def open_workload_on(pilot: Pilot[Any], name: str) -> Any:
    from helpdesk_tui.screens.workload import WorkloadScreen

    await settle_workers(pilot)
    await press(pilot, "w")
    await settle_workers(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkloadScreen)
    row = next(i for i, r in enumerate(screen.loads) if r.user.name == name)
    screen.query_one("#workload-table").move_cursor(row=row)
    return screen


async def test_workload_move_asks_first_naming_count_and_target_and_n_moves_nothing(
    demo_store: TicketStore, make_app: MakeApp, db: Any
) -> None:
    from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog

    app, _ = build(make_app, demo_store, SAM)
    before = assignees(db)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_workload_on(pilot, "Ana Lima")
        active = next(r.active for r in screen.loads if r.user.name == "Ana Lima")
        await press(pilot, "m")
        await settle_workers(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await press(pilot, *"chidi", "enter")
        await settle_workers(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        question = str(dialog.body)
        assert f"Move {active} active tickets of Ana Lima to Chidi Okafor?" in question
        assert assignees(db) == before  # nothing yet
        await press(pilot, "n")
        await settle_workers(pilot)
        assert assignees(db) == before
        await press(pilot, "m", *"chidi", "enter", "y")
        await settle_workers(pilot)
    chidi = demo_store.user_by_email("chidi@helpdesk.example").id
    moved = [k for k in before if before[k] != assignees(db)[k]]
    assert len(moved) == active and all(assignees(db)[k] == chidi for k in moved)


async def test_an_agents_queue_from_the_workload_keeps_the_view_keys_and_q_says_back(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.screens.workload import WorkloadScreen

    app, _ = build(make_app, demo_store, SAM)
    async with app.run_test(size=WIDE) as pilot:
        await open_workload_on(pilot, "Ana Lima")
        await press(pilot, "enter")
        await settle_workers(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert queue.view.name == "Ana Lima's tickets"
        assert [v.key for v in queue.views[:6]] == [v.key for v in app.views[:6]]
        footer_q = queue.active_bindings["q"].binding.description
        assert footer_q == "Back"
        await press(pilot, "1")
        await settle_workers(pilot)
        assert queue.view.key == app.views[0].key  # 1 is still "My tickets"
        await press(pilot, "q")
        await settle_workers(pilot)
        assert isinstance(app.screen, WorkloadScreen)


# --- where each role starts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "ui", "expected"),
    [
        (SAM, {}, "All open"),  # a supervisor owns few tickets: the team's queue first
        (DEMO_AGENT_EMAIL, {}, "My tickets"),
        (SAM, {"supervisor_start_view": "breaching"}, "Breaching"),
        (DEMO_AGENT_EMAIL, {"start_view": "unassigned"}, "Unassigned"),
    ],
)
async def test_each_role_starts_on_its_configured_view(
    demo_store: TicketStore, make_app: MakeApp, email: str, ui: dict[str, str], expected: str
) -> None:
    config = Config(ui=UiConfig(poll_interval_seconds=3600, **ui))
    app = make_app(demo_store, email, config=config)
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        assert app.screen.view.name == expected
        assert app.screen.table.row_count > 0


def test_an_unknown_start_view_is_a_config_error_naming_the_choices(tmp_path: Path) -> None:
    from helpdesk_tui.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text('[ui]\nsupervisor_start_view = "everything"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert "supervisor_start_view" in message and "breaching" in message


@pytest.mark.parametrize("size", [(80, 24), WIDE])
async def test_the_workload_shows_every_figure_oldest_included_within_the_terminal(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app, _ = build(make_app, demo_store, SAM)
    async with app.run_test(size=size) as pilot:
        screen = await open_workload_on(pilot, "Ana Lima")
        table = screen.query_one("#workload-table")
        keys = [c.value for c in table.columns]
        for figure in ("name", "open", "in_progress", "waiting", "active", "breached", "at_risk"):
            assert figure in keys
        assert "oldest" in keys
        width = sum(c.get_render_width(table) for c in table.columns.values())
        assert width <= size[0] - 2, f"{width} columns wide on a {size[0]}-column terminal"
        await pilot.resize_terminal(*((80, 24) if size != (80, 24) else WIDE))
        await settle_workers(pilot)
        width = sum(c.get_render_width(table) for c in table.columns.values())
        assert width <= pilot.app.size.width - 2 and "oldest" in [c.value for c in table.columns]
