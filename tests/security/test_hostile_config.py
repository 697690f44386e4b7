"""The config file is untrusted input (issue 26, part 5): a team shares one.

``[keys]`` values reached the footer, help, palette, hints and ``helpdesk-tui keys`` raw (OSC,
DCS, NUL), ``[/]`` crashed the help, the palette and the ticket screen (MarkupError, exit 70),
``[link=…]`` became a hyperlink and ``[@click=app.quit]`` an action. Now a ``[keys]`` value that
is not a key name is refused when the config loads, in one line naming the key; every label
and text from the config (view, canned and macro names, canned bodies, macro texts) is shown by
the rendering rule, and a canned body goes into the reply editor without its control
characters. The app tests load a hostile config file and walk the app on a real server.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from helpers import MakeApp
from hostile_world import ATTACKS
from pilot import enter_ticket, record_notifications, settle
from screen_text import screen_text
from textual.command import CommandPalette
from textual.keys import Keys, _character_to_key
from typer.testing import CliRunner

from helpdesk_tui import cli
from helpdesk_tui.config import ConfigError, load_config
from helpdesk_tui.domain.keys import BRACKETS, key_problem
from helpdesk_tui.keymap import _bindings, _scopes
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.help import HelpScreen
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.tickets import TicketStore

from .hostile_input import RAW, hostile_config, messages_of, open_reply, toml

BAD_KEYS = {
    **ATTACKS,
    "link": "[link=file:///etc/passwd]x[/link]",
    "nul": "R\x00",
    "bel": "\x07",
    "del": "\x7f",
    "space": "a b",
    "bracket": "[",
    "name": "left_square_bracket",
    "word": "reply",
    "modifier": "cmd+r",
}


def test_every_key_the_app_binds_and_every_key_textual_names_is_a_key_name() -> None:
    bound = {b.key for _, nodes in _scopes() for b in _bindings(nodes)}
    bound |= {b.key for b in _bindings([], app=True)}  # Textual's App.BINDINGS and ours
    keys = {key for spec in bound for key in spec.split(",")}
    named = {k.value for k in Keys if not k.value.startswith("<") and "ctrl-at" not in k.value}
    # Refused on purpose: a bracket in a hint read as markup could open a tag.
    brackets = {key for key in named if key.split("+")[-1] in BRACKETS}
    assert brackets == {"ctrl+right_square_bracket"}
    assert all(key_problem(key) for key in brackets)
    named -= brackets
    printable = {
        _character_to_key(chr(code))
        for code in range(0x21, 0x7F)
        if chr(code) not in "[],"  # brackets refused (markup); a comma separates keys
    }
    printable |= {"é", "ß", "Ö", "€", unicodedata.lookup("GREEK SMALL LETTER ALPHA")}
    refused = {key: key_problem(key) for key in keys | named | printable if key_problem(key)}
    assert refused == {}


@pytest.mark.parametrize("value", list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_a_key_that_is_no_key_name_is_refused_at_load_in_one_line_naming_it(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[keys]\nhelp = "f1"\nreply = {toml(value)}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, env={})
    message = str(refused.value)
    assert message.startswith(f"{path}: keys: reply: ")
    assert "\n" not in message and not RAW.search(message)


def test_an_action_name_with_control_characters_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[keys]\n{toml(chr(0x1B) + "]2;T" + chr(7))} = "r"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, env={})
    assert "is not an action name" in str(refused.value)
    assert not RAW.search(str(refused.value))


def test_the_keys_command_refuses_a_hostile_key_in_one_line_and_writes_nothing_raw(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[keys]\nreply = {toml(ATTACKS['osc2'])}\n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["--config", str(path), "keys"])
    assert result.exit_code == 1  # a config error, not a crash (70)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "keys: reply:" in lines[0] and "\\x1b]2;PWNED2\\x07" in lines[0]
    assert not RAW.search(result.output)


def test_the_keys_command_lists_moved_keys_and_a_hostile_config_prints_nothing_raw(
    tmp_path: Path,
) -> None:
    path = hostile_config(tmp_path / "config.toml", keys={"reply": "R", "help": "f1"})
    result = CliRunner().invoke(cli.app, ["--config", str(path), "keys"])
    assert result.exit_code == 0, result.output
    assert not RAW.search(result.output)
    assert any(line.split()[:3] == ["*", "reply", "R"] for line in result.output.splitlines())


async def test_a_hostile_config_shows_harmlessly_on_every_screen_and_canned_text_is_clean(
    tmp_path: Path, demo_store: TicketStore, make_app: MakeApp
) -> None:
    config = load_config(
        hostile_config(tmp_path / "config.toml", keys={"reply": "R", "help": "f1"}), env={}
    )
    before = messages_of(demo_store)
    app = make_app(demo_store, config=config)
    seen = record_notifications(app)
    shown: list[str] = []

    def look() -> None:
        text = screen_text(app)
        assert not RAW.search(text), text
        shown.append(text)

    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        look()  # the queue: view tabs named by the config
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        look()
        await pilot.press("q")
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        look()
        await pilot.press("escape")
        await settle(pilot)
        # The ticket screen (its hint line names the moved key), then the reply editor.
        reply = await open_reply_with(pilot, "R")
        look()
        await pilot.press("ctrl+r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        look()  # canned names and bodies, every attack in each
        await pilot.press("enter")  # the first: every attack at once
        await settle(pilot)
        assert app.screen is reply
        text = reply.editor.text
        assert not RAW.search(text)
        assert text.startswith("Hello ") and text.endswith(":end")
        assert "[@click=app.quit]Q[/]" in text and "[bold]B" in text  # text, not markup
        assert any("inserted text:" in message for _, _, message in seen)
        look()
        await pilot.press("f3")  # macro picker: names and what each does
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        look()
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
    assert messages_of(demo_store) == before
    everything = "\n".join(shown)
    assert "[@click=app.quit]Q[/]" in everything  # markup from the config: visible text
    assert "\\x1b]52;c;UFdORUQ=\\x07" in everything  # escapes: spelled out


async def open_reply_with(pilot: Any, key: str) -> ReplyScreen:
    """``open_reply`` with the reply moved to ``key``: the ticket screen's hint names it."""
    if key == "r":
        return await open_reply(pilot)
    from .hostile_input import NUMBER

    await enter_ticket(pilot, NUMBER)
    assert f"· {key} reply ·" in screen_text(pilot.app)
    assert not RAW.search(screen_text(pilot.app))
    await pilot.press(key)
    await settle(pilot)
    reply = pilot.app.screen
    assert isinstance(reply, ReplyScreen)
    return reply


@pytest.mark.parametrize(
    ("section", "name"),
    [("mongo", "database"), ("mongo", "tickets"), ("mongo.counter", "collection")],
)
def test_a_database_or_collection_name_with_control_characters_is_refused_at_load(
    tmp_path: Path, section: str, name: str
) -> None:
    """doctor and seed print these names; a name that acts on the terminal never loads."""
    path = tmp_path / "config.toml"
    path.write_text(f"[{section}]\n{name} = {toml(ATTACKS['osc2'])}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, env={})
    message = str(refused.value)
    assert message.startswith(f"{path}: {section}.{name}: ") and "control characters" in message
    assert not RAW.search(message)
