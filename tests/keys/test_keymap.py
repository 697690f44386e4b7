"""[keys]: a remapped key drives its action, the footer and help show it, clashes are reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import QUIET, MakeApp
from pilot import record_notifications, settle
from typer.testing import CliRunner

from helpdesk_tui import cli
from helpdesk_tui.config import Config, ConfigError, load_config
from helpdesk_tui.keymap import effective, problems
from helpdesk_tui.screens.help import HelpScreen, binding_rows
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.footer import KeyFooter


def footer_keys(app: Any) -> dict[str, str]:
    """Footer description → the key it shows."""
    return {key.description: key.display for key in app.screen.query_one(KeyFooter).keys}


async def test_a_remapped_key_opens_the_reply_and_the_footer_and_help_show_it(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"reply": "x", "help": "f1"}, ui=QUIET.ui))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.table.row_count
        assert footer_keys(app)["Reply"] == "x"
        assert footer_keys(app)["Help"] == "f1"
        rows = dict((description, keys) for keys, description in binding_rows(queue))
        assert rows["Reply"] == "x"

        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await settle(pilot)

        await pilot.press("r")  # no longer bound: r is just a letter on the queue now
        await settle(pilot)
        assert app.screen is queue
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)


async def test_a_clashing_keymap_is_reported_at_start_with_both_action_names(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"reply": "s"}, ui=QUIET.ui))
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        said = [m for severity, title, m in seen if title == "Keys" and severity == "warning"]
        assert said and "s on the queue screen: reply and status both use it" in said[0]


def test_swapping_two_keys_is_no_clash() -> None:
    assert problems({"reply": "s", "status": "r"}) == []


def test_an_unknown_action_name_and_a_widget_key_taken_are_problems() -> None:
    said = problems({"replly": "x", "next": "down"})
    assert any("replly: no such action" in line for line in said)
    assert any("down on the queue screen: cursor_down and next" in line for line in said)


def test_config_keys_accept_a_list_or_commas_and_refuse_blanks(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[keys]\nreply = ["ctrl+r", "R"]\nquit = "ctrl+x, q"\n')
    assert load_config(path, env={}).keys == {"reply": "ctrl+r,R", "quit": "ctrl+x,q"}
    path.write_text('[keys]\nreply = ""\n')
    try:
        load_config(path, env={})
    except ConfigError as error:
        assert "keys" in str(error)
    else:
        raise AssertionError("a blank key was accepted")


def test_keys_command_prints_the_effective_map_and_fails_on_a_clash(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[keys]\nreply = "R"\n')
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(path))
    result = CliRunner().invoke(cli.app, ["keys"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["*", "reply", "R"] for line in lines)
    assert any(line.split()[:2] == ["status", "s"] for line in lines)

    path.write_text('[keys]\nreply = "s"\n')
    result = CliRunner().invoke(cli.app, ["keys"])
    assert result.exit_code == 1
    assert "reply and status both use it" in result.stderr


def test_every_action_of_every_screen_has_a_name_to_remap() -> None:
    rows = effective({})
    assert {"reply", "note", "status", "take", "quit", "close", "send", "view_1"} <= {
        row.id for row in rows
    }
    assert all(row.keys and row.description for row in rows)


async def test_the_ticket_screen_line_names_the_remapped_keys(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from pilot import plain
    from textual.widgets import Static

    from helpdesk_tui.screens.ticket import TicketScreen

    app = make_app(demo_store, config=Config(keys={"reply": "R", "close": "x"}, ui=QUIET.ui))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.loaded
        info = plain(screen.query_one("#ticket-info", Static))
        assert info.endswith(" · R reply · i note · x back"), info
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


def test_no_screen_binds_one_key_to_two_actions_by_default() -> None:
    """Branches that each add keys must not meet on one (ticket screen `m`: macro and merge)."""
    from textual.binding import Binding

    from helpdesk_tui.keymap import _scopes

    for screen, nodes in _scopes():
        own = nodes[0]  # the screen's own bindings (widgets under it may shadow on purpose)
        actions: dict[str, set[str]] = {}
        for binding in own.BINDINGS:
            if isinstance(binding, Binding):
                for key in binding.key.split(","):
                    actions.setdefault(key.strip(), set()).add(binding.action)
        clashes = {key: names for key, names in actions.items() if len(names) > 1}
        assert not clashes, f"{screen}: {clashes}"
