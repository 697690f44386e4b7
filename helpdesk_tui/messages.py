"""The typed messages between the app and its screens: the one seam between them.

The app posts these; screens handle them with ``on_*`` methods. Nothing here reaches into a
screen, and no screen imports the app. Coalescing is each message's own job (``can_replace``):
while a screen is busy, the changes waiting for it merge into one message.
"""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from textual.message import Message

from helpdesk_tui.store.live import Batch, Change


class FeedBatch(Message):
    """One batch from the live feed (posted from the feed thread: ``post_message`` is safe).

    Batches still waiting in the app's queue merge into the newest, so a burst of a thousand
    batches costs one pass, not a thousand.
    """

    def __init__(self, batch: Batch) -> None:
        super().__init__()
        self.batch = batch
        self.earlier: list[Batch] = []  # batches merged into this one, oldest first

    @property
    def batches(self) -> list[Batch]:
        return [*self.earlier, self.batch]

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, FeedBatch) and self.batch.mode is None:
            message.earlier[:0] = self.batches
            return True
        return False  # a mode change is seen on its own


class TicketsChanged(Message, bubble=False):
    """Tickets changed in the database: ids and changes, or ``reload`` if some were missed."""

    def __init__(
        self,
        ids: set[ObjectId] | None = None,
        changes: list[Change] | None = None,
        reload: bool = False,
    ) -> None:
        super().__init__()
        self.ids: set[ObjectId] = set(ids or ())
        self.changes: list[Change] = list(changes or ())
        self.reload = reload

    def can_replace(self, message: Message) -> bool:
        """A newer change waiting behind this one takes this one's content along."""
        if isinstance(message, TicketsChanged):
            message.ids |= self.ids
            message.changes[:0] = self.changes
            message.reload |= self.reload
            return True
        return False


class ClockTick(Message, bubble=False):
    """Time moved on: countdowns and SLA colours of the visible screen may change."""

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self.now = now

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ClockTick)


class FeedStateChanged(Message, bubble=False):
    """The live feed's mode changed (live, polling, reconnecting): ``text`` says it for a bar."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ScreenReady(Message):
    """A screen is composed and focused (or current again): keys held for it may go now."""
