"""``helpdesk-tui pulse [--json]``: the same figures as the screen, equal to a recount; for
supervisors; hostile names never reach the terminal raw (issue 30)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock
from hostile_world import ATTACKS, FORBIDDEN, SUPERVISOR_EMAIL, build
from ptyrun import Terminal, clean_env, helpdesk_tui
from pulse_recount import recount
from typer.testing import CliRunner, Result

import helpdesk_tui.cli as cli
from helpdesk_tui.demo import seed
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

ENV_OVERRIDES = ("HELPDESK_TUI_MONGO_URI", "MONGODB_URI", "HELPDESK_TUI_DB", "HELPDESK_TUI_AGENT")


@pytest.fixture
def seeded(
    db: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[TicketStore]:
    for name in ENV_OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    seed.load(store, seed.generate(clock.now, tickets=120, customers=40, seed=7))
    config = tmp_path / "config.toml"
    config.write_text("[agent]\n", encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setattr(cli, "connect", lambda _config: store)
    yield store


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.app, list(args))


def test_json_equals_a_recount(seeded: TicketStore) -> None:
    result = run("--as", seed.SUPERVISOR[1], "pulse", "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    names = {u.id: u.display for u in seeded.staff(["agent", "supervisor"])}
    assert figures == recount(seeded.db, seeded.now(), seeded.settings.sla, names)
    assert set(figures) == {
        "schema",
        "now",
        "backlog",
        "sla",
        "hourly",
        "agents",
        "first_response_histogram",
    }


def test_text_is_compact_tables_of_the_same_figures(seeded: TicketStore) -> None:
    text = run("--as", seed.SUPERVISOR[1], "pulse").stdout
    figures = json.loads(run("--as", seed.SUPERVISOR[1], "pulse", "--json").stdout)
    lines = text.splitlines()
    assert lines[0] == "Pulse as of 2030-11-26 10:00 UTC (hours and days are UTC)"
    backlog = {
        line.split()[0]: line.split()[1:]
        for line in lines
        if line.startswith(("open ", "waiting ", "breaching "))
    }
    assert backlog["open"][-1] == str(figures["backlog"]["last_24h"]["open"][-1])
    assert backlog["breaching"][0] == str(figures["backlog"]["last_7d"]["breaching"][0])
    today = next(line for line in lines if line.startswith("in today"))
    assert [int(n) for n in today.split()[2:]] == figures["hourly"]["arrivals_today"]
    for agent in figures["agents"]:
        assert any(line.startswith(agent["name"]) for line in lines)
    assert max(len(line) for line in lines) <= 100


def test_an_agent_is_refused_in_one_line(seeded: TicketStore) -> None:
    result = run("--as", seed.DEMO_AGENT_EMAIL, "pulse")
    assert result.exit_code != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "helpdesk-tui: the pulse is for supervisors (it shows the whole team's figures)"
    ]


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_hostile_names_never_reach_the_terminal_raw(
    db: Any, server: Any, tmp_path: Path, json_flag: list[str]
) -> None:
    build(db, datetime.now(UTC).replace(microsecond=0))
    args = ["--uri", server.uri, "--db", db.name, "--as", SUPERVISOR_EMAIL, "pulse", *json_flag]
    terminal = Terminal(helpdesk_tui(*args), clean_env(tmp_path))
    try:
        status = terminal.wait_exit(timeout=30)
    finally:
        terminal.kill()
    assert status == 0, terminal.output[-600:]
    for raw in FORBIDDEN:
        assert raw not in terminal.output, raw
    if json_flag:
        data = json.loads(terminal.output.decode().replace("\r\n", "\n"))
        # Escaped for the terminal, yet the JSON decodes to the names as stored.
        assert f"{ATTACKS['osc52']}Agent osc52" in {a["name"] for a in data["agents"]}
    else:
        assert rb"\x1b]52;c;" in terminal.output  # the escape made visible, not sent


def test_hostile_names_never_reach_the_terminal_raw_on_the_pulse_screen(
    db: Any, server: Any, tmp_path: Path
) -> None:
    build(db, datetime.now(UTC).replace(microsecond=0))
    args = ["--uri", server.uri, "--db", db.name, "--as", SUPERVISOR_EMAIL]
    terminal = Terminal(helpdesk_tui(*args), clean_env(tmp_path))
    try:
        terminal.wait_for(b"All open")
        terminal.settle()
        terminal.send("P")
        terminal.wait_for(b"SLA attainment")
        terminal.settle()
        terminal.send("\x1b[6~")  # page down: the agents' bars, hostile names and all
        terminal.send("\x1b[6~")
        terminal.wait_for(b"Time to first response")
        terminal.settle()
        shown = terminal.output
    finally:
        terminal.kill()
    for raw in FORBIDDEN:
        assert raw not in terminal.output, raw
    assert b"[bold]BAgent" in shown  # the names were drawn, markup as text
