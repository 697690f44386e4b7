"""Following a ticket without owning it: ``f`` toggles it, ``F`` lists what I follow, and an
``@name`` in an internal note makes that colleague a follower.

Followers live in a collection of ours (store/followers.py). The alerts (alerts.py) tell a
follower of customer replies and status changes; the mentioned colleague's app sees the note
arrive on its own change stream and says so at once (it does not wait for this write).
"""

from __future__ import annotations

import threading
import weakref

from bson import ObjectId

from helpdesk_tui.context import Helpdesk
from helpdesk_tui.domain.mentions import resolve, tokens
from helpdesk_tui.domain.models import Status, Ticket
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.views import View

# Follow/unfollow writes still running, per app: ``F`` reads the list after them, so `f F`
# typed in one go shows the ticket just followed (the two calls run on separate threads).
_PENDING: weakref.WeakKeyDictionary[object, list[threading.Event]] = weakref.WeakKeyDictionary()
# At most this long (seconds) does ``F`` wait for such a write.
PENDING_WAIT = 5.0


def _pending(helpdesk: Helpdesk) -> list[threading.Event]:
    events = [e for e in _PENDING.get(helpdesk, []) if not e.is_set()]
    _PENDING[helpdesk] = events
    return events


def toggle_follow(screen: HelpdeskScreen, ticket: Ticket) -> None:
    """Follow ``ticket``, or stop following it if I already do."""
    helpdesk = screen.helpdesk
    me = helpdesk.me
    if ticket.id is None or not screen._guarded(me.require_write):
        return
    followers, ticket_id, label = helpdesk.followers, ticket.id, ticket.label
    written = threading.Event()
    _pending(helpdesk).append(written)

    def toggle() -> bool:
        try:
            if followers.is_following(ticket_id, me.id):
                followers.unfollow(ticket_id, me.id)
                return False
            followers.follow(ticket_id, me.id)
            return True
        finally:
            written.set()

    def done(following: bool) -> None:
        if following:
            helpdesk.alerts.following.add(ticket_id)
            screen.notify(
                f"Following {label}: you will hear of customer replies and status changes."
            )
        else:
            helpdesk.alerts.following.discard(ticket_id)
            screen.notify(f"No longer following {label}.")

    screen.call_store(toggle, done, group="follow")


def open_following(screen: HelpdeskScreen) -> None:
    """The "Following" view: the tickets I follow, in any status, as a queue of their own."""
    helpdesk = screen.helpdesk
    followers, me = helpdesk.followers, helpdesk.me.id

    def show(ids: list[ObjectId]) -> None:
        helpdesk.alerts.following = set(ids)
        if not ids:
            screen.release_keys()
            key = screen.key_for("follow", "f")
            screen.notify(f"You follow no ticket yet: {key} on a ticket follows it.")
            return
        query = QueueQuery(statuses=tuple(Status), ids=tuple(ids))
        helpdesk.open_queue(View("following", "Following", "Follow", query))
        screen.release_keys()  # to the Following view, once it is up

    earlier = list(_pending(helpdesk))

    def read() -> list[ObjectId]:
        for written in earlier:
            written.wait(PENDING_WAIT)
        return followers.following(me)

    # Keys typed after `F` act on the Following view, not on the rows it replaces.
    screen.hold_keys()
    screen.call_store(read, show, group="follow", failed=screen.release_keys)


def follow_mentions(helpdesk: Helpdesk, ticket_id: ObjectId, text: str, label: str) -> None:
    """After an internal note: each colleague it ``@mentions`` follows the ticket from now on."""
    if not tokens(text):
        return  # no @name: no query
    store, followers, me, roles = (
        helpdesk.store,
        helpdesk.followers,
        helpdesk.me,
        helpdesk.config.roles,
    )

    def work() -> tuple[list[str], list[str]]:
        staff = store.staff([*roles.agent, *roles.supervisor])
        found, unknown = resolve(text, staff)
        added = []
        for user in found:
            if user.id is not None and user.id != me.id:
                followers.follow(ticket_id, user.id, via="mention", by=me.id)
                added.append(user.display)
        return added, unknown

    def done(result: tuple[list[str], list[str]]) -> None:
        added, unknown = result
        if added:
            names = ", ".join(one_line(name, 30) for name in added)
            helpdesk.notify(f"{names} now follow{'s' if len(added) == 1 else ''} {label}.")
        if unknown:
            names = ", ".join(f"@{one_line(name, 30)}" for name in unknown)
            helpdesk.notify(
                f"No colleague answers to {names} (or several do): nobody added for it.",
                severity="warning",
            )

    helpdesk.call_store(work, done, group="mentions")
