"""Schema set-up: the indexes our queries need and the queue index brought up to date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.collection import Collection

from helpdesk_tui.store import pulse
from helpdesk_tui.store.audit import AuditTrail
from helpdesk_tui.store.queries import index_plan
from helpdesk_tui.store.queue_index import QueueIndex
from helpdesk_tui.store.search_index import create_text_index


def init_schema(
    tickets: Collection[Any],
    audit: AuditTrail,
    queue: QueueIndex,
    now: datetime,
    *,
    rebuild: bool = False,
) -> list[str]:
    """Create every index (idempotent; never drops anything) and catch the queue index up
    (``rebuild``: derive every ticket's entry again). Returns ``collection.index`` names."""
    created = [
        f"{tickets.name}.{tickets.create_index(keys, **options)}" for keys, options in index_plan()
    ]
    searched = create_text_index(tickets)  # None where the server has no text indexes
    if searched:
        created.append(f"{tickets.name}.{searched}")
    created.append(f"{audit.events.name}.{audit.init()}")
    created += [f"{audit.events.name}.{name}" for name in pulse.init(audit.events)]
    created += [f"{queue.entries.name}.{name}" for name in queue.init()]
    if rebuild:
        queue.rebuild(now)
    else:
        queue.catch_up(now)  # builds the index if it has never been built
    return created
