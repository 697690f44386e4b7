"""Which ``[keys]`` values are key names: checked when the config loads, before any is shown.

A key from the config reaches the footer, the help screen, the command palette, hints and
``helpdesk-tui keys``. Only names Textual can deliver are accepted: modifiers (``ctrl+``,
``shift+``, ``alt+``, ``meta+``, ``super+``, ``hyper+``) and one key, that key being a named key
(``escape``, ``f5``, ``pageup``...), one printable character (``R``, ``é``, ``?``) or a
character's name as Textual spells it (``question_mark``, ``full_stop``). Control characters,
invisible formatting characters, spaces and markup brackets (``[/]``, ``[@click=app.quit]``,
also a lone ``[`` or ``]``) are refused. Pure: no Textual import (the CLI loads the config
before, and often without, Textual); tests/security/test_hostile_config.py checks it against
Textual's own key list.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from helpdesk_tui.domain.text import literal

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Textual's named keys (textual.keys.Keys, without modifiers) and its aliases.
NAMED = frozenset(
    {
        *("escape", "enter", "return", "tab", "space", "backspace", "delete", "insert"),
        *("home", "end", "pageup", "pagedown", "up", "down", "left", "right", "newline"),
        *(f"f{n}" for n in range(1, 25)),
        # Textual's short names for characters (keys.KEY_NAME_REPLACEMENTS).
        *("slash", "backslash", "at", "minus", "plus", "underscore"),
    }
)
# Keys that would put a markup bracket into a hint that is rendered as markup.
BRACKETS = frozenset({"[", "]", "left_square_bracket", "right_square_bracket"})
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def _character(name: str) -> str | None:
    """The character Textual names ``name`` (``question_mark`` → ``?``), if any: its Unicode
    name with each ``_`` a space or a hyphen (``hyphen_minus``, ``less_than_sign``)."""
    gaps = name.count("_")
    if gaps > 6:
        return None
    parts = name.upper().split("_")
    for joins in itertools.product(" -", repeat=gaps):
        spelled = parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True))
        try:
            return unicodedata.lookup(spelled)
        except KeyError:
            continue
    return None


def _printable(char: str) -> bool:
    return len(char) == 1 and char.isprintable() and not char.isspace() and literal(char) == char


def key_problem(key: str) -> str | None:
    """Why ``key`` (one key, e.g. ``ctrl+r``) is not a key name, or None if it is one."""
    *modifiers, base = key.split("+") if key != "+" else ["+"]
    if any(modifier not in MODIFIERS for modifier in modifiers):
        return "not a key name (modifiers: ctrl, shift, alt, meta, super, hyper)"
    if base in BRACKETS:
        return "a markup bracket, not allowed as a key"
    if len(base) == 1:
        return None if _printable(base) else "not a printable character"
    if base in NAMED:
        return None
    if _NAME.match(base):
        char = _character(base)
        if char is not None and _printable(char):
            return None
    return "not a key name"


def check_keys(name: str, keys: str) -> None:
    """``ValueError`` naming the ``[keys]`` entry if ``keys`` (``"ctrl+r,R"``) holds anything
    that is not a key name; the value itself is quoted only as visible text."""
    if not _NAME.match(name):
        raise ValueError(f'"{literal(name)[:40]}" is not an action name (see `helpdesk-tui keys`)')
    for key in keys.split(","):
        problem = key_problem(key)
        if problem is not None:
            hint = '; write keys like "r", "ctrl+r", "f5" or "question_mark"'
            raise ValueError(f'{name}: "{literal(key)[:40]}" is {problem}{hint}')
