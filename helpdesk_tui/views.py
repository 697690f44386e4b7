"""The queue views an agent switches between: the standard set plus the config's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bson import ObjectId

from helpdesk_tui.config import ViewConfig
from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.queries import Assignee, QueueQuery, SortKey
from helpdesk_tui.store.snooze import SNOOZED_VIEW, snoozed_view_query


@dataclass(frozen=True)
class View:
    key: str  # stable id, also the CLI's --view name
    name: str
    short: str  # label when the terminal is narrow
    query: QueueQuery


def standard_views(
    me: ObjectId,
    custom: Sequence[ViewConfig] = (),
    lookup: Callable[[str], ObjectId | None] | None = None,
) -> list[View]:
    """My tickets, Unassigned, All open, Breaching, Waiting, Recently resolved, Needs reply,
    then custom."""
    views = [
        View("mine", "My tickets", "Mine", QueueQuery(assignee=me)),
        View(
            "unassigned",
            "Unassigned",
            "Unasg",
            QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED),
        ),
        View("open", "All open", "Open", QueueQuery()),
        View("breaching", "Breaching", "Brch", QueueQuery(breaching=True)),
        View("waiting", "Waiting", "Wait", QueueQuery(statuses=(Status.WAITING,))),
        View(
            "resolved",
            "Recently resolved",
            "Done",
            QueueQuery(statuses=(Status.RESOLVED, Status.CLOSED), sort=SortKey.RESOLVED),
        ),
        # Last (not beside Waiting) so the number keys of the views above stay what they were.
        View("reply", "Needs reply", "Reply", QueueQuery(needs_reply=True)),
        # My snoozed tickets: the queue fills in their ids (store/snooze.py with_snoozes).
        View(SNOOZED_VIEW, "Snoozed", "Snz", snoozed_view_query()),
    ]
    for index, spec in enumerate(custom):
        assignee: ObjectId | Assignee = Assignee.ANY
        if spec.assignee == "me":
            assignee = me
        elif spec.assignee == "unassigned":
            assignee = Assignee.UNASSIGNED
        elif spec.assignee and spec.assignee != "any":
            if lookup is None:
                raise InvalidRequest(f"view {spec.name!r}: cannot look up {spec.assignee}")
            found = lookup(spec.assignee)
            if found is None:  # a user document without an _id: nothing to match on
                raise InvalidRequest(f"view {spec.name!r}: cannot look up {spec.assignee}")
            assignee = found
        query = QueueQuery(
            statuses=tuple(spec.statuses) or QueueQuery().statuses,
            assignee=assignee,
            priorities=tuple(spec.priorities),
            categories=tuple(spec.categories),
            tags=tuple(spec.tags),
        )
        views.append(View(f"custom{index + 1}", spec.name, spec.name[:6], query))
    return views


def start_view(views: Sequence[View], key: str) -> int:
    """Where the queue opens: the view ``key`` names (by key or name), else the first."""
    for index, view in enumerate(views):
        if key in (view.key, view.name) or key.lower() == view.name.lower():
            return index
    return 0


def find_view(views: Sequence[View], key: str) -> View:
    for view in views:
        if view.key == key or view.name.lower() == key.lower():
            return view
    names = ", ".join(v.key for v in views)
    raise InvalidRequest(f"unknown view {key!r}; choose one of: {names}")
