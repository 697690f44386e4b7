"""``@name`` in an internal note: which colleagues it names (pure).

A colleague answers to the local part of their e-mail (``@ana`` for ana@…), their whole name
without spaces (``@anamartin``), and their first name when no other colleague has it
(``@ana``). The writer's app and the mentioned agent's app apply the same rule to the same
staff list, so both agree on who was mentioned. Matching ignores case; an e-mail address in
the text (``bo@example.com``) is no mention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from helpdesk_tui.domain.models import User

# Not after a letter, digit, dot or @ (so not inside an e-mail address); a trailing dot or
# dash ends the sentence, not the name.
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def tokens(text: str) -> list[str]:
    """The names mentioned in ``text``, lower-cased, each once, in order."""
    return list(dict.fromkeys(match.lower() for match in MENTION.findall(text)))


def _first(user: User) -> str:
    parts = user.name.split()
    return parts[0].lower() if parts else ""


def handles(user: User, staff: Sequence[User] | None = None) -> set[str]:
    """The names ``user`` answers to among ``staff`` (without it: not the first name, which
    is a handle only while no colleague shares it)."""
    names: set[str] = set()
    if "@" in user.email:
        names.add(user.email.split("@", 1)[0].lower())
    compact = "".join(user.name.split()).lower()
    if compact:
        names.add(compact)
    first = _first(user)
    if first and staff is not None and sum(_first(other) == first for other in staff) <= 1:
        names.add(first)
    return {name for name in names if MENTION.fullmatch(f"@{name}")}


def resolve(text: str, staff: Sequence[User]) -> tuple[list[User], list[str]]:
    """(the colleagues ``text`` mentions, the mentioned names that are nobody's or several's)."""
    found: list[User] = []
    unknown: list[str] = []
    for token in tokens(text):
        matches = [user for user in staff if token in handles(user, staff)]
        if len(matches) == 1:
            if matches[0] not in found:
                found.append(matches[0])
        else:
            unknown.append(token)
    return found, unknown


def mentions(text: str, mine: set[str]) -> bool:
    """Whether ``text`` mentions someone answering to ``mine``."""
    return any(token in mine for token in tokens(text))
