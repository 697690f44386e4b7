"""Following a ticket without owning it: ``f`` toggles it, ``F`` lists what I follow, and an
``@name`` in an internal note makes that colleague a follower.

Followers live in a collection of ours (store/followers.py). The writes are the app's
(``Helpdesk.toggle_follow``, ``Helpdesk.follow_mentions``): they finish, and are said, even when
the screen that asked has gone. The alerts (alerts.py) tell a follower of customer replies and
status changes; the mentioned colleague's app sees the note arrive on its own change stream and
says so at once (it does not wait for this write).
"""

from __future__ import annotations

from collections.abc import Callable

from bson import ObjectId
from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.models import Status, Ticket
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.views import View
from helpdesk_tui.workers import WorkFailed


class FollowingRead(Message, bubble=False):
    """The tickets I follow, read for ``F``."""

    def __init__(self, ids: list[ObjectId]) -> None:
        super().__init__()
        self.ids = ids


class FollowActions(HelpdeskScreen):
    """``toggle_follow`` (``f``) and ``open_following`` (``F``) for any helpdesk screen."""

    def toggle_follow(self, ticket: Ticket) -> None:
        """Follow ``ticket``, or stop following it if I already do."""
        if not self._guarded(self.helpdesk.me.require_write):
            return
        if self._guarded(lambda: ticket.object_id):
            self.helpdesk.toggle_follow(ticket.object_id, ticket.label)

    def open_following(self) -> None:
        """The "Following" view: the tickets I follow, in any status, as a queue of their own."""
        # Keys typed after `F` act on the Following view, not on the rows it replaces.
        self.hold_keys()
        self._read_following(self.helpdesk.follow_writes(), self.helpdesk.me.id)

    @work(thread=True, exit_on_error=False, group="follow")
    def _read_following(self, after_writes: Callable[[], None], me: ObjectId) -> None:
        after_writes()  # an `f` typed just before: its write first
        self.post_message(FollowingRead(self.helpdesk.followers.following(me)))

    @on(FollowingRead)
    def _following_read(self, message: FollowingRead) -> None:
        ids = message.ids
        self.helpdesk.alerts.following = set(ids)
        if not ids:
            self.release_keys()
            key = self.key_for("follow", "f")
            self.notify(f"You follow no ticket yet: {key} on a ticket follows it.")
            return
        query = QueueQuery(statuses=tuple(Status), ids=tuple(ids))
        self.helpdesk.open_queue(View("following", "Following", "Follow", query))
        self.release_keys()  # to the Following view, once it is up

    @on(WorkFailed)
    def _following_not_read(self, message: WorkFailed) -> None:
        if message.work == "_read_following":
            self.release_keys()  # said by the app's one error path
