"""Untrusted text made safe to put on a terminal: control characters shown, not obeyed.

The one rendering rule for every string that came from the database or a user, wherever it
is shown (cells, headers, toasts, dialogs, the CLI, JSON):

- C0 controls (except tab and newline), DEL and C1 controls are spelled out (``\\x1b``), so
  no escape sequence (OSC 52 clipboard, OSC 0/2 title, OSC 8 links, DCS, CSI 2J, one-byte
  CSI ``\\x9b``) reaches the terminal;
- bidi overrides and isolates, zero-width and other invisible formatting characters are
  spelled out too (``\\u202e``), so text cannot be reordered or hidden on screen;
- markup is never interpreted: ``widgets.safe.safe`` wraps this in a Textual ``Content``
  (plain), and the app's ``notify`` turns markup off, so ``[/]`` or ``[@click=app.quit]``
  show as typed.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls except tab and newline, DEL, the C1 range (0x9b is a one-byte CSI), and the
# invisible formatting characters: soft hyphen, Arabic letter mark, Mongolian vowel separator,
# zero-width space/joiners and LRM/RLM, line/paragraph separators, bidi embeddings and
# overrides (LRE RLE PDF LRO RLO), word joiner and invisible operators, bidi isolates
# (LRI RLI FSI PDI) and the deprecated format controls, BOM / zero-width no-break space,
# interlinear annotation marks.
_FORMATTING = (
    "\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb"
    "\ud800-\udfff"  # lone surrogates (undecodable bytes): unprintable, shown as escapes
)
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMATTING}]")
# What JSON leaves raw but a terminal would obey or hide: DEL, C1, bidi and invisible marks.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMATTING}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def literal(text: object) -> str:
    """``text`` with every control and invisible formatting character spelled out.

    ``\\x1b`` for ESC, ``\\u202e`` for a right-to-left override. Newlines and tabs stay
    layout; CRLF becomes a newline, a lone CR is shown. Accepts any value (``str()`` of a
    non-string), because a malformed document may hold a number where text belongs.
    """
    string = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_visible, string.replace("\r\n", "\n"))


def without_controls(text: str) -> tuple[str, int]:
    """``text`` with every control and invisible formatting character left out, and how many
    went: for text that becomes data (a paste, a canned response going into a reply), where a
    spelled-out ``\\x1b`` would reach the customer. Newlines and tabs stay; CRLF and a lone CR
    (what a terminal sends for a pasted line break) become a newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept, removed = _UNSAFE.subn("", text)
    return kept, removed


def removed_note(what: str, removed: int) -> str:
    """What the app says when text lost control characters: "pasted text: 3 control
    characters removed"."""
    return f"{what}: {removed} control character{'' if removed == 1 else 's'} removed"


def one_line(text: object, width: int | None = None) -> str:
    """``literal`` text folded onto one line, for table cells and CLI listings."""
    if width is not None and isinstance(text, str):
        # Work on what can show, not on a 15 MB message (room for whitespace to fold).
        text = text[: width * 8 + 64]
    flat = " ".join(literal(text).split())
    if width is not None and len(flat) > width:
        return flat[: max(width - 1, 0)] + "…"
    return flat


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """JSON for the terminal: JSON escapes C0 itself; this also escapes DEL, C1 and bidi/
    zero-width characters (``\\u202e``) that ``json.dumps`` would write raw. Still valid JSON
    that decodes to the same strings."""
    dumped = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def check_placeholders(text: str, allowed: frozenset[str] | set[str]) -> str:
    """``text`` if every ``{name}`` in it is one of ``allowed`` (canned responses, macros);
    else ``ValueError`` naming the first unknown one and the allowed ones (a config error)."""
    from string import Formatter

    try:
        fields = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise ValueError(f"{error} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(fields - set(allowed))
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in sorted(allowed))
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; allowed: {names}")
    return text
