"""The store's settings: collection names and policies, defined once.

The config (``config.py``) is read here into one :class:`StoreSettings`; every part of the
store (tickets, people, audit, schema, presence, the queue index) takes its collection from
this object, so a renamed collection is renamed everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from helpdesk_tui.config import Config
from helpdesk_tui.domain.sla import SlaPolicy
from helpdesk_tui.domain.workflow import Workflow

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreSettings:
    """Collection names and policies; built from the config by :func:`settings_from_config`."""

    tickets: str = "tickets"
    users: str = "users"
    orders: str = "orders"
    events: str = "ticket_events"
    counters: str = "counters"
    presence: str = "presence"
    queue_index: str = "queue_index"
    meta: str = "helpdesk_meta"
    merges: str = "ticket_merges"
    snoozes: str = "snoozes"
    pulse_state: str = "pulse_state"  # store/pulse.py: the pulse's state, for the next process
    counter_key: str = "ticketNumber"
    counter_field: str = "seq"
    number_format: str = "TKT-{seq:06d}"
    max_reply_chars: int = 10_000
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    workflow: Workflow = field(default_factory=Workflow)
    keep_earliest_created: bool = False


def settings_from_config(config: Config) -> StoreSettings:
    """The one translation of the ``[mongo]``, ``[reply]``, ``[sla]`` and ``[workflow]`` config."""
    mongo = config.mongo
    return StoreSettings(
        tickets=mongo.tickets,
        users=mongo.users,
        orders=mongo.orders,
        events=mongo.events,
        counters=mongo.counter.collection,
        presence=mongo.presence,
        counter_key=mongo.counter.key,
        counter_field=mongo.counter.field,
        number_format=mongo.counter.format,
        max_reply_chars=config.reply.max_chars,
        sla=config.sla,
        workflow=Workflow.with_extra(config.workflow.extra_transitions),
        keep_earliest_created=config.merge.keep_earliest_created,
    )
