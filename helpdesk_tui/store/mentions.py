"""``@name`` in an internal note: each colleague it mentions follows the ticket from then on.

Who ``@name`` is follows the same rule in the writer's and the reader's app
(domain/mentions.py); the follow is a record in our ``followers`` collection (followers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bson import ObjectId

from helpdesk_tui.domain.mentions import resolve, tokens

if TYPE_CHECKING:
    from helpdesk_tui.store.followers import FollowerStore
    from helpdesk_tui.store.tickets import TicketStore


@dataclass(frozen=True)
class Mentioned:
    """Who now follows (their names), and the mentioned names that are nobody's or several's."""

    added: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def follow_mentions(
    store: TicketStore,
    followers: FollowerStore,
    ticket: ObjectId,
    text: str,
    *,
    by: ObjectId,
    roles: Sequence[str],
) -> Mentioned:
    """Make each colleague ``text`` mentions (not ``by``, the writer) follow ``ticket``."""
    if not tokens(text):
        return Mentioned()  # no @name: no query
    found, unknown = resolve(text, store.staff(roles))
    added = []
    for user in found:
        if user.object_id != by:  # staff: each has one
            followers.follow(ticket, user.object_id, via="mention", by=by)
            added.append(user.display)
    return Mentioned(added, unknown)
