"""Search queries as agents type them, parsed into terms and field filters (pure Python).

``from:tanaka tag:refund status:open,waiting "third time" after:2026-10-01 blender``

* plain words and "quoted phrases" must all occur (in any order) in the ticket's subject,
  description, a message (internal notes included) or a tag; a word that looks like a ticket
  number (``TKT-000123``, ``123``) also pins that ticket first; words that together name a
  customer (each word in the customer's name or e-mail) also find that customer's tickets;
* ``from:`` the customer (name or e-mail contains it), ``tag:`` (``#tag`` too), ``status:``
  (comma list; ``active``/``done`` too), ``assignee:`` (name or e-mail, ``me``, ``none``),
  ``is:unassigned``, ``is:mine``, ``is:open`` (not resolved or closed), ``is:closed``
  (resolved or closed), ``before:``/``after:`` on the creation date (``2026-10-01``, or ``7d``,
  ``2w``, ``3m`` ago).

An unknown ``field:`` is searched as a word and said so (``notes``), never silently dropped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Status, Ticket
from helpdesk_tui.domain.text import literal

FIELDS = ("from", "tag", "status", "assignee", "is", "before", "after")
IS_VALUES = ("unassigned", "mine", "open", "closed")
_RELATIVE = re.compile(r"^(\d{1,4})([dwmy])$")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class SearchTerms:
    """What one search asks for; empty fields ask nothing."""

    words: tuple[str, ...] = ()  # plain words and phrases, as typed (untrusted)
    customers: tuple[str, ...] = ()  # from:
    tags: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    assignees: tuple[str, ...] = ()  # assignee: (name/e-mail fragments, "me", "none")
    unassigned: bool = False
    mine: bool = False
    before: datetime | None = None  # createdAt < before
    after: datetime | None = None  # createdAt >= after
    notes: tuple[str, ...] = field(default=())  # what was not understood, to show

    @property
    def empty(self) -> bool:
        return not (
            self.words
            or self.customers
            or self.tags
            or self.statuses
            or self.assignees
            or self.unassigned
            or self.mine
            or self.before
            or self.after
        )

    def number_candidates(self, number_format: str) -> tuple[str, ...]:
        """Ticket numbers the words may be: as typed, upper-cased, and digits formatted."""
        found: list[str] = []
        for word in self.words:
            if not any(c.isdigit() for c in word) or " " in word:
                continue
            found += [word, word.upper()]
            digits = word.lstrip("#")
            if digits.isdigit() and len(digits) <= 12:
                found.append(number_format.format(seq=int(digits)))
        return tuple(dict.fromkeys(found))


def _date(value: str, now: datetime) -> datetime | None:
    relative = _RELATIVE.match(value.lower())
    if relative:
        return now - timedelta(days=int(relative.group(1)) * _DAYS[relative.group(2)])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens; a "quoted phrase" (also ``from:"Kenji Tanaka"``) is one."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""  # a backslash is text, not an escape
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: the words as typed
        return text.replace('"', " ").split()


def parse_search(text: str, now: datetime) -> SearchTerms:
    """Parse what the agent typed; never raises (what is not understood becomes a note)."""
    words: list[str] = []
    values: dict[str, list[str]] = {name: [] for name in FIELDS}
    notes: list[str] = []
    for token in _tokens(text.strip()):
        token = token.strip()
        if not token:
            continue
        name, colon, value = token.partition(":")
        key = name.lower()
        if colon and key in FIELDS and value.strip():
            values[key].append(value.strip())
        elif colon and key.isalpha() and value and not name.upper().startswith("TKT"):
            notes.append(f"“{name}:” is not a search field; searched as words")
            words.append(token)
        elif token.startswith("#") and len(token) > 1 and not token[1:].isdigit():
            values["tag"].append(token[1:])
        else:
            words.append(token)
    statuses: list[Status] = []
    for item in (s for v in values["status"] for s in v.lower().split(",") if s):
        if item in ("active", "open*"):
            statuses += ACTIVE_STATUSES
        elif item == "done":
            statuses += [Status.RESOLVED, Status.CLOSED]
        else:
            try:
                statuses.append(Status(item.replace("-", "_").replace(" ", "_")))
            except ValueError:
                notes.append(f"unknown status “{item}”")
    flags = {v.lower() for v in values["is"]}
    for flag in sorted(flags - set(IS_VALUES)):
        notes.append(f"unknown is:{flag} (is: takes {', '.join(IS_VALUES)})")
    if "open" in flags:
        statuses += ACTIVE_STATUSES
    if "closed" in flags:
        statuses += [Status.RESOLVED, Status.CLOSED]
    dates: dict[str, datetime | None] = {}
    for key in ("before", "after"):
        dates[key] = None
        for value in values[key]:
            moment = _date(value, now)
            if moment is None:
                notes.append(f"{key}:{value} is not a date (2026-10-01, or 7d, 2w, 3m ago)")
            else:
                dates[key] = moment
    return SearchTerms(
        words=tuple(dict.fromkeys(words)),
        customers=tuple(values["from"]),
        tags=tuple(dict.fromkeys(values["tag"])),
        statuses=tuple(dict.fromkeys(statuses)),
        assignees=tuple(values["assignee"]),
        unassigned="unassigned" in flags,
        mine="mine" in flags,
        before=dates["before"],
        after=dates["after"],
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class Snippet:
    """Where a result matched: the line of a message (or the description) around the match.

    ``text`` is untrusted database text; ``start``/``end`` mark the match within it."""

    where: str  # "message", "note", "description"
    text: str
    start: int = 0
    end: int = 0
    sender: ObjectId | None = None  # a message's sender
    at: datetime | None = None


def snippet_line(text: str, start: int, end: int, width: int = 160) -> tuple[str, int, int]:
    """The line of ``text`` holding ``[start, end)``, cut to ``width`` characters so that the
    match shows (``…`` where the line was cut before it); returns the line and the match's
    place in it."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lead = ""
    if end - line_start > width:  # the match is out of sight: cut the line before it
        line_start = start - min(start - line_start, width // 3)
        lead = "…"
    line_end = min(line_end, line_start + width)
    line = lead + text[line_start:line_end]
    shift = len(lead) - line_start
    return line, start + shift, min(end, line_end) + shift


def snippet_parts(snippet: Snippet, width: int = 160) -> tuple[str, str, str]:
    """The snippet's line as (before, match, after), each made safe to show (``literal``),
    folded onto one line; the match is what to highlight."""
    line, start, end = snippet_line(snippet.text, snippet.start, snippet.end, width)
    before, match, after = line[:start], line[start:end], line[end:]
    return (
        " ".join(literal(before).split()) + (" " if before[-1:].isspace() else ""),
        " ".join(literal(match).split()),
        (" " if after[:1].isspace() else "") + " ".join(literal(after).split()),
    )


TextPath = str  # "text index" or "scan"


@dataclass(frozen=True)
class SearchHit:
    ticket: Ticket
    snippet: Snippet | None
    why: str  # "number", "customer", "text", "filter"


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    skip: int
    limit: int
    has_more: bool
    path: TextPath
    terms: SearchTerms
    # The bounded scan: how many tickets it read at most, and whether that cut the search.
    scanned: int | None = None
    bounded: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def cost(self) -> str:
        """One line on what was searched, for the info bar and the CLI."""
        if self.path == "text index":
            return "ranked by relevance (text index)"
        if self.bounded:
            return (
                f"searched the newest {self.scanned or 0:,} tickets only (no text index): "
                "narrow with from:, assignee: or after: to reach older ones"
            )
        return f"scanned all {self.scanned or 0:,} tickets (no text index)"
