"""Tags as agents type them: ``#VIP`` is ``vip``; an edit keeps the tags it does not name."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.text import literal

MAX_TAG_LENGTH = 40


def _clean(word: str) -> str:
    return (
        "".join(c for c in word.strip() if unicodedata.category(c)[0] != "C")
        .lstrip("#")
        .strip()
        .lower()
    )


def normalise_tag(word: str) -> str:
    """One tag as stored: no leading ``#``, lower case, no control or format characters.

    Raises ``InvalidRequest`` for a tag longer than ``MAX_TAG_LENGTH``: a tag is a label,
    and a pasted paragraph in the tags box is a mistake to point out, not to store.
    """
    tag = _clean(word)
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidRequest(
            f"A tag is at most {MAX_TAG_LENGTH} characters; “{tag[:20]}…” has {len(tag):,}."
        )
    return tag


def parse_tag_edit(text: str, current: Sequence[str]) -> tuple[list[str], list[str]]:
    """``+a -b`` adds and removes; plain words are the whole list (for one ticket: the words
    missing from it are removed) or, for several tickets (``current`` empty), added.

    Removal matches the current tags whatever their case or ``#``: ``-VIP`` removes ``vip``.
    The dialog shows tags by the rendering rule (``\\x1b`` for ESC): a word that is the shown
    form of a current tag stands for that tag, so editing never rewrites a tag by accident.
    """
    words = text.split()
    shown = {literal(t): t for t in current}
    by_norm = {_clean(t): t for t in current}  # stored tags: however long, not refused here
    if any(w[0] in "+-" for w in words):
        add = [normalise_tag(w[1:]) for w in words if w.startswith("+") and w[1:] not in shown]
        remove = [
            shown.get(w[1:]) or by_norm.get(normalise_tag(w[1:]), normalise_tag(w[1:]))
            for w in words
            if w.startswith("-") and len(w) > 1
        ]
        add = [t for t in dict.fromkeys(add) if t and t not in by_norm]
        return add, [t for t in dict.fromkeys(remove) if t]
    kept = {shown[w] for w in words if w in shown}
    wanted = [t for t in dict.fromkeys(normalise_tag(w) for w in words if w not in shown) if t]
    return (
        [t for t in wanted if t not in by_norm],
        [
            original
            for norm, original in by_norm.items()
            if norm not in wanted and original not in kept
        ],
    )
