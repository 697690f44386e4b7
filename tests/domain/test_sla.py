"""SLA clocks, states, countdowns and business hours, all against a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId

from helpdesk_tui.domain.models import Priority, Ticket
from helpdesk_tui.domain.sla import (
    BusinessHours,
    ClockKind,
    ClockStatus,
    SlaPolicy,
    SlaState,
    SlaStatus,
    SlaTarget,
    countdown,
    due_at,
    elapsed,
    evaluate,
    sort_key,
)

# A Tuesday, noon UTC.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CUSTOMER = ObjectId()
AGENT = ObjectId()
DEFAULT = SlaPolicy()
PAUSING = SlaPolicy(pause_when_waiting=True)
OFFICE = BusinessHours()  # UTC, Monday-Friday 09:00-17:00
OFFICE_POLICY = SlaPolicy(business_hours=OFFICE)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DUBAI = ZoneInfo("Asia/Dubai")


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz: ZoneInfo | None = None
) -> datetime:
    """An aware UTC instant, read as wall-clock time in ``tz`` when given."""
    return datetime(year, month, day, hour, minute, tzinfo=tz or UTC).astimezone(UTC)


def message(when: datetime, *, sender: ObjectId = AGENT, internal: bool = False) -> dict[str, Any]:
    return {"sender": sender, "content": "hello", "isInternal": internal, "createdAt": when}


def ticket(
    created: datetime | None = NOW,
    *,
    priority: str = "medium",
    status: str = "open",
    messages: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Ticket:
    doc: dict[str, Any] = {
        "ticketNumber": "TKT-1",
        "subject": "Where is my order?",
        "user": CUSTOMER,
        "category": "order",
        "priority": priority,
        "status": status,
        "messages": messages or [],
        **fields,
    }
    if created is not None:
        doc["createdAt"] = created
    return Ticket.from_mongo(doc)


def replied(created: datetime, after: timedelta, **kwargs: Any) -> Ticket:
    return ticket(created, messages=[message(created + after)], **kwargs)


# --- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        ("urgent", timedelta(hours=1), timedelta(hours=4)),
        ("high", timedelta(hours=4), timedelta(hours=24)),
        ("medium", timedelta(hours=8), timedelta(hours=48)),
        ("low", timedelta(hours=24), timedelta(hours=72)),
    ],
)
def test_default_targets_per_priority_count_from_created_at(
    priority: str, first_response: timedelta, resolution: timedelta
) -> None:
    status = evaluate(ticket(NOW, priority=priority), NOW, DEFAULT)

    assert status.first_response == ClockStatus(
        ClockKind.FIRST_RESPONSE, SlaState.ON_TRACK, NOW + first_response, None, first_response
    )
    assert status.resolution == ClockStatus(
        ClockKind.RESOLUTION, SlaState.ON_TRACK, NOW + resolution, None, resolution
    )
    assert status.next == status.first_response
    assert status.row_state is SlaState.ON_TRACK


def test_configured_targets_override_defaults_and_missing_priorities_fall_back() -> None:
    policy = SlaPolicy(
        targets={Priority.URGENT: SlaTarget(first_response_minutes=10, resolution_minutes=30)}
    )

    urgent = evaluate(ticket(NOW, priority="urgent"), NOW, policy)
    low = evaluate(ticket(NOW, priority="low"), NOW, policy)

    assert urgent.first_response.due == NOW + timedelta(minutes=10)
    assert urgent.resolution.due == NOW + timedelta(minutes=30)
    assert low.first_response.due == NOW + timedelta(hours=24)


def test_clock_labels() -> None:
    status = evaluate(ticket(), NOW, DEFAULT)

    assert status.first_response.label == "first response"
    assert status.resolution.label == "resolution"


# --- first response --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "state"),
    [
        (timedelta(minutes=20), SlaState.MET),
        (timedelta(hours=1), SlaState.MET),  # exactly at the due time is on time
        (timedelta(hours=1, seconds=1), SlaState.BREACHED),  # a historical breach
    ],
)
def test_first_response_met_by_agent_reply(after: timedelta, state: SlaState) -> None:
    created = NOW - timedelta(hours=2)

    clock = evaluate(replied(created, after, priority="urgent"), NOW, DEFAULT).first_response

    assert clock.state is state
    assert clock.met_at == created + after
    assert clock.due == created + timedelta(hours=1)
    assert clock.remaining is None
    assert not clock.running


@pytest.mark.parametrize(
    "messages",
    [
        [message(NOW - timedelta(minutes=30), internal=True)],
        [message(NOW - timedelta(minutes=30), sender=CUSTOMER)],
        [
            message(NOW - timedelta(minutes=40), sender=CUSTOMER),
            message(NOW - timedelta(minutes=30), internal=True),
        ],
    ],
    ids=["internal note", "customer message", "both"],
)
def test_internal_notes_and_customer_messages_do_not_satisfy_first_response(
    messages: list[dict[str, Any]],
) -> None:
    created = NOW - timedelta(hours=2)

    status = evaluate(ticket(created, priority="urgent", messages=messages), NOW, DEFAULT)

    assert status.first_response.met_at is None
    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.remaining == timedelta(hours=-1)
    assert status.next == status.first_response


def test_reply_after_a_note_counts_from_the_reply() -> None:
    created = NOW - timedelta(hours=2)
    messages = [message(created, internal=True), message(created + timedelta(minutes=5))]

    clock = evaluate(ticket(created, messages=messages), NOW, DEFAULT).first_response

    assert clock.state is SlaState.MET
    assert clock.met_at == created + timedelta(minutes=5)


# --- running clocks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "state", "remaining"),
    [
        (timedelta(0), SlaState.ON_TRACK, timedelta(hours=1)),
        (timedelta(minutes=44, seconds=59), SlaState.ON_TRACK, timedelta(minutes=15, seconds=1)),
        (timedelta(minutes=45), SlaState.ON_TRACK, timedelta(minutes=15)),  # exactly 25% left
        (
            timedelta(minutes=45, microseconds=1),
            SlaState.AT_RISK,
            timedelta(minutes=15, microseconds=-1),
        ),
        (timedelta(minutes=59), SlaState.AT_RISK, timedelta(minutes=1)),
        (timedelta(hours=1), SlaState.BREACHED, timedelta(0)),  # due now: breached
        (timedelta(hours=1, minutes=35), SlaState.BREACHED, timedelta(minutes=-35)),
    ],
)
def test_running_first_response_state_by_remaining_share(
    age: timedelta, state: SlaState, remaining: timedelta
) -> None:
    status = evaluate(ticket(NOW - age, priority="urgent"), NOW, DEFAULT)

    assert status.first_response.state is state
    assert status.first_response.remaining == remaining
    assert status.first_response.running
    assert status.row_state is state


def test_at_risk_share_is_configurable() -> None:
    created = NOW - timedelta(minutes=30)  # urgent first response: 30 of 60 minutes left

    assert evaluate(ticket(created, priority="urgent"), NOW, DEFAULT).row_state is (
        SlaState.ON_TRACK
    )
    assert evaluate(
        ticket(created, priority="urgent"), NOW, SlaPolicy(at_risk_share=0.6)
    ).row_state is (SlaState.AT_RISK)


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(hours=1), SlaState.ON_TRACK),
        (timedelta(hours=3, minutes=1), SlaState.AT_RISK),
        (timedelta(hours=4), SlaState.BREACHED),
    ],
)
def test_running_resolution_states(age: timedelta, state: SlaState) -> None:
    status = evaluate(replied(NOW - age, timedelta(minutes=5), priority="urgent"), NOW, DEFAULT)

    assert status.resolution.state is state
    assert status.resolution.remaining == timedelta(hours=4) - age
    assert status.next == status.resolution
    assert status.row_state is state


# --- paused ----------------------------------------------------------------------------------


def test_waiting_pauses_resolution_when_the_team_turns_pausing_on() -> None:
    created = NOW - timedelta(hours=10)
    waiting = replied(created, timedelta(minutes=5), priority="urgent", status="waiting")

    status = evaluate(waiting, NOW, PAUSING)

    assert status.resolution == ClockStatus(ClockKind.RESOLUTION, SlaState.PAUSED, None, None, None)
    assert status.next is None
    assert status.row_state is SlaState.PAUSED
    assert status.countdown == "paused"


def test_waiting_does_not_pause_without_the_flag() -> None:
    created = NOW - timedelta(hours=10)
    waiting = replied(created, timedelta(minutes=5), priority="urgent", status="waiting")

    status = evaluate(waiting, NOW, DEFAULT)

    assert status.resolution.state is SlaState.BREACHED
    assert status.row_state is SlaState.BREACHED
    assert status.countdown == "-6h 00m"


def test_first_response_is_never_paused() -> None:
    waiting = ticket(NOW - timedelta(minutes=50), priority="urgent", status="waiting")

    status = evaluate(waiting, NOW, PAUSING)

    assert status.resolution.state is SlaState.PAUSED
    assert status.first_response.state is SlaState.AT_RISK
    assert status.next == status.first_response
    assert status.row_state is SlaState.AT_RISK
    assert status.countdown == "10m"


@pytest.mark.parametrize("status", ["open", "in_progress"])
def test_only_waiting_pauses(status: str) -> None:
    active = replied(NOW - timedelta(hours=1), timedelta(minutes=5), status=status)

    assert evaluate(active, NOW, PAUSING).resolution.state is SlaState.ON_TRACK


# --- done ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["resolved", "closed"])
@pytest.mark.parametrize(
    ("resolved_after", "state"),
    [(timedelta(hours=3), SlaState.MET), (timedelta(hours=5), SlaState.BREACHED)],
)
def test_done_ticket_resolution_met_or_breached_late(
    status: str, resolved_after: timedelta, state: SlaState
) -> None:
    created = NOW - timedelta(days=2)
    done = replied(
        created,
        timedelta(minutes=5),
        priority="urgent",
        status=status,
        resolvedAt=created + resolved_after,
    )

    result = evaluate(done, NOW, DEFAULT)

    assert result.resolution.state is state
    assert result.resolution.met_at == created + resolved_after
    assert result.resolution.remaining is None
    assert result.first_response.state is SlaState.MET
    assert result.next is None
    assert result.row_state is SlaState.MET  # the row says "done" even after a late resolution
    assert result.countdown == "done"


@pytest.mark.parametrize(
    ("fields", "met_at"),
    [
        ({"closedAt": NOW - timedelta(hours=2), "updatedAt": NOW}, NOW - timedelta(hours=2)),
        ({"updatedAt": NOW - timedelta(hours=1)}, NOW - timedelta(hours=1)),
        ({}, None),
    ],
    ids=["closedAt", "updatedAt", "nothing"],
)
def test_done_without_resolved_at_falls_back_to_closed_then_updated(
    fields: dict[str, Any], met_at: datetime | None
) -> None:
    done = ticket(NOW - timedelta(hours=3), status="closed", **fields)

    status = evaluate(done, NOW, DEFAULT)

    assert status.resolution.met_at == met_at
    assert status.resolution.state is SlaState.MET
    assert status.first_response.met_at == met_at
    assert not status.first_response.running
    assert status.row_state is SlaState.MET
    assert status.countdown == "done"


@pytest.mark.parametrize(
    ("resolved_after", "state"),
    [(timedelta(hours=6), SlaState.MET), (timedelta(hours=9), SlaState.BREACHED)],
)
def test_resolved_without_a_reply_meets_first_response_at_resolution(
    resolved_after: timedelta, state: SlaState
) -> None:
    created = NOW - timedelta(days=1)
    done = ticket(created, status="resolved", resolvedAt=created + resolved_after)

    clock = evaluate(done, NOW, DEFAULT).first_response

    assert clock.state is state
    assert clock.met_at == created + resolved_after


def test_reopened_ticket_ignores_a_stale_resolved_at() -> None:
    created = NOW - timedelta(hours=10)
    reopened = replied(
        created, timedelta(minutes=5), status="open", resolvedAt=created + timedelta(hours=1)
    )

    status = evaluate(reopened, NOW, DEFAULT)

    assert status.resolution.running
    assert status.resolution.state is SlaState.ON_TRACK
    assert status.resolution.met_at is None


# --- row state and next ----------------------------------------------------------------------


def test_row_takes_the_worst_running_clock() -> None:
    # Medium: first response breached 1h ago, resolution (48h) still on track.
    status = evaluate(ticket(NOW - timedelta(hours=9)), NOW, DEFAULT)

    assert status.first_response.state is SlaState.BREACHED
    assert status.resolution.state is SlaState.ON_TRACK
    assert status.row_state is SlaState.BREACHED
    assert status.next == status.first_response
    assert status.countdown == "-1h 00m"


def test_next_is_the_running_clock_due_first() -> None:
    policy = SlaPolicy(
        targets={Priority.MEDIUM: SlaTarget(first_response_minutes=120, resolution_minutes=90)}
    )

    status = evaluate(ticket(NOW - timedelta(minutes=80)), NOW, policy)

    assert status.next == status.resolution
    assert status.row_state is SlaState.AT_RISK  # resolution: 10 of 90 minutes left
    assert status.countdown == "10m"


def test_met_first_response_hands_over_to_resolution() -> None:
    status = evaluate(replied(NOW - timedelta(hours=40), timedelta(hours=1)), NOW, DEFAULT)

    assert status.next == status.resolution
    assert status.row_state is SlaState.AT_RISK  # 8 of 48 hours left
    assert status.countdown == "8h 00m"


def test_late_first_response_does_not_color_an_active_row() -> None:
    # Answered late (historical breach), resolution on track: the row follows the running clock.
    status = evaluate(replied(NOW - timedelta(hours=10), timedelta(hours=9)), NOW, DEFAULT)

    assert status.first_response.state is SlaState.BREACHED
    assert status.row_state is SlaState.ON_TRACK


# --- countdown -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=1), "1h 00m"),
        (timedelta(hours=2, minutes=5), "2h 05m"),
        (timedelta(hours=2, minutes=14, seconds=59), "2h 14m"),
        (timedelta(hours=23, minutes=59), "23h 59m"),
        (timedelta(days=1), "1d 0h"),
        (timedelta(days=3, hours=4, minutes=59), "3d 4h"),
        (timedelta(days=12, hours=23), "12d 23h"),
        (timedelta(seconds=-30), "-0m"),
        (timedelta(minutes=-35), "-35m"),
        (timedelta(minutes=-35, seconds=-30), "-35m"),
        (timedelta(hours=-1, minutes=-5), "-1h 05m"),
        (timedelta(days=-2, hours=-3), "-2d 3h"),
    ],
)
def test_countdown_formats(delta: timedelta, text: str) -> None:
    assert countdown(delta) == text


@pytest.mark.parametrize("minutes", [-99 * 60, -60, -1, 0, 1, 59, 60, 9 * 60 + 59, 99 * 60])
def test_countdown_stays_short(minutes: int) -> None:
    assert len(countdown(timedelta(minutes=minutes))) <= 7


# --- business hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "priority", "due"),
    [
        # Overnight: starts counting at Tuesday's opening.
        (at(2026, 11, 24, 2, 0), "urgent", at(2026, 11, 24, 10, 0)),
        # Inside hours, ending exactly at closing time: due then, not at the next opening.
        (at(2026, 11, 24, 9, 0), "medium", at(2026, 11, 24, 17, 0)),
        # Crossing the night: 30 minutes on Tuesday, 7h30 on Wednesday.
        (at(2026, 11, 24, 16, 30), "medium", at(2026, 11, 25, 16, 30)),
        # Friday evening: nothing counts until Monday 09:00.
        (at(2026, 11, 20, 18, 0), "high", at(2026, 11, 23, 13, 0)),
        # Friday afternoon: 2h on Friday, 2h on Monday.
        (at(2026, 11, 20, 15, 0), "high", at(2026, 11, 23, 11, 0)),
        # Sunday: starts Monday 09:00.
        (at(2026, 11, 22, 10, 0), "urgent", at(2026, 11, 23, 10, 0)),
        # 72h of 8h days: nine working days, across a weekend.
        (at(2026, 11, 23, 9, 0), "low", at(2026, 12, 3, 17, 0)),
    ],
)
def test_business_hours_due_times(created: datetime, priority: str, due: datetime) -> None:
    status = evaluate(ticket(created, priority=priority), NOW, OFFICE_POLICY)
    target = OFFICE_POLICY.target(Priority(priority))
    clock = status.first_response if priority != "low" else status.resolution
    minutes = target.first_response_minutes if priority != "low" else target.resolution_minutes

    assert clock.due == due
    assert due_at(created, timedelta(minutes=minutes), OFFICE) == due


def test_business_hours_remaining_and_breach_count_only_working_time() -> None:
    # Created Tuesday 02:00, urgent first response due 10:00; two working hours since then.
    status = evaluate(ticket(at(2026, 11, 24, 2, 0), priority="urgent"), NOW, OFFICE_POLICY)

    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.remaining == timedelta(hours=-2)
    assert status.countdown == "-2h 00m"


def test_business_hours_multi_day_remaining() -> None:
    # Medium resolution (48h = six working days) from Monday 09:00: due Monday 30th 17:00.
    created = at(2026, 11, 23, 9, 0)

    clock = evaluate(replied(created, timedelta(hours=1)), NOW, OFFICE_POLICY).resolution

    assert clock.due == at(2026, 11, 30, 17, 0)
    assert clock.remaining == timedelta(hours=48 - 8 - 3)
    assert countdown(clock.remaining) == "1d 13h"


def test_business_hours_at_risk_compares_business_time() -> None:
    # Medium first response from Monday 10:00 is due Tuesday 10:00. On Monday evening 14 wall
    # hours are left but only one working hour: at risk (under 2 of 8 hours).
    now = at(2026, 11, 23, 20, 0)

    clock = evaluate(ticket(at(2026, 11, 23, 10, 0)), now, OFFICE_POLICY).first_response

    assert clock.due == at(2026, 11, 24, 10, 0)
    assert clock.remaining == timedelta(hours=1)
    assert clock.state is SlaState.AT_RISK
    assert clock.due - now == timedelta(hours=14)  # in wall time it would look on track


def test_business_hours_breach_after_closing_stays_overdue_overnight() -> None:
    # Due Monday 17:00; at 20:00 no working time has passed since, yet it is breached.
    status = evaluate(ticket(at(2026, 11, 23, 9, 0)), at(2026, 11, 23, 20, 0), OFFICE_POLICY)

    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.remaining == timedelta(0)
    assert status.countdown == "-0m"


def test_business_hours_late_reply_after_closing_is_a_breach() -> None:
    created = at(2026, 11, 23, 9, 0)  # due 17:00 the same day
    status = evaluate(replied(created, timedelta(hours=11)), NOW, OFFICE_POLICY)

    assert status.first_response.state is SlaState.BREACHED


@pytest.mark.parametrize(
    ("hours", "created", "minutes", "due"),
    [
        # Berlin, DST ends Sunday 25 Oct 2026: Friday 16:00 CEST + 8h = Monday 16:00 CET.
        (
            BusinessHours(timezone="Europe/Berlin"),
            at(2026, 10, 23, 16, 0, tz=BERLIN),
            8 * 60,
            at(2026, 10, 26, 16, 0, tz=BERLIN),
        ),
        # Berlin, DST starts Sunday 29 Mar 2026.
        (
            BusinessHours(timezone="Europe/Berlin"),
            at(2026, 3, 27, 13, 0, tz=BERLIN),
            8 * 60,
            at(2026, 3, 30, 13, 0, tz=BERLIN),
        ),
        # New York, DST starts Sunday 8 Mar 2026: Friday 15:00 EST + 4h = Monday 11:00 EDT.
        (
            BusinessHours(timezone="America/New_York"),
            at(2026, 3, 6, 15, 0, tz=NEW_YORK),
            4 * 60,
            at(2026, 3, 9, 11, 0, tz=NEW_YORK),
        ),
        # New York, DST ends Sunday 1 Nov 2026.
        (
            BusinessHours(timezone="America/New_York"),
            at(2026, 10, 30, 16, 0, tz=NEW_YORK),
            4 * 60,
            at(2026, 11, 2, 12, 0, tz=NEW_YORK),
        ),
        # Sunday-Thursday week in Dubai: Thursday 16:00 + 4h skips Friday and Saturday.
        (
            BusinessHours(timezone="Asia/Dubai", days=(7, 1, 2, 3, 4)),
            at(2026, 11, 19, 16, 0, tz=DUBAI),
            4 * 60,
            at(2026, 11, 22, 12, 0, tz=DUBAI),
        ),
        # Night shift 22:00-06:00 every day: one hour before 06:00, three after 22:00.
        (
            BusinessHours(days=(1, 2, 3, 4, 5, 6, 7), start=time(22, 0), end=time(6, 0)),
            at(2026, 11, 24, 5, 0),
            4 * 60,
            at(2026, 11, 25, 1, 0),
        ),
    ],
    ids=["berlin-autumn", "berlin-spring", "ny-spring", "ny-autumn", "dubai-sun-thu", "night"],
)
def test_business_hours_in_other_zones_and_weeks(
    hours: BusinessHours, created: datetime, minutes: int, due: datetime
) -> None:
    assert due_at(created, timedelta(minutes=minutes), hours) == due
    assert elapsed(created, due, hours) == timedelta(minutes=minutes)


def test_business_hours_wall_clock_day_in_berlin_dst_change_week() -> None:
    # 09:00-17:00 local is eight real hours on both sides of the change; the weekend counts 0.
    hours = BusinessHours(timezone="Europe/Berlin")
    start = at(2026, 10, 19, 0, 0, tz=BERLIN)

    assert elapsed(start, start + timedelta(days=14), hours) == timedelta(hours=80)


def test_business_hours_whole_day_window_follows_real_time_over_dst() -> None:
    # start == end is the whole day; the spring-forward Sunday in Berlin has only 23 hours.
    hours = BusinessHours(timezone="Europe/Berlin", days=(7,), start=time(0), end=time(0))
    sunday = at(2026, 3, 29, 0, 0, tz=BERLIN)

    assert elapsed(sunday - timedelta(days=1), sunday + timedelta(days=2), hours) == timedelta(
        hours=23
    )


def test_business_hours_in_berlin_on_a_ticket() -> None:
    policy = SlaPolicy(business_hours=BusinessHours(timezone="Europe/Berlin"))
    # Tuesday 12:00 UTC is 13:00 in Berlin: created at 08:00 local, counting from 09:00 local.
    status = evaluate(ticket(at(2026, 11, 24, 8, 0, tz=BERLIN), priority="urgent"), NOW, policy)

    assert status.first_response.due == at(2026, 11, 24, 10, 0, tz=BERLIN)
    assert status.first_response.remaining == timedelta(hours=-3)


STARTS = [
    at(2026, 10, 23, 0, 0, tz=BERLIN) + timedelta(hours=h, minutes=17 * (h % 4))
    for h in range(0, 7 * 24, 5)
]
TARGETS = [timedelta(minutes=m) for m in (1, 45, 8 * 60, 8 * 60 + 1, 72 * 60)]
CALENDARS = [
    OFFICE,
    BusinessHours(timezone="Europe/Berlin"),
    BusinessHours(timezone="America/New_York", days=(7, 1, 2, 3, 4)),
    BusinessHours(timezone="Europe/Berlin", days=(6, 7), start=time(20, 0), end=time(2, 30)),
]


@pytest.mark.parametrize("hours", [None, *CALENDARS])
@pytest.mark.parametrize("target", TARGETS)
def test_elapsed_is_symmetric_with_due_at(hours: BusinessHours | None, target: timedelta) -> None:
    for start in STARTS:
        due = due_at(start, target, hours)
        assert elapsed(start, due, hours) == target
        assert elapsed(due, start, hours) == -target
        before = due_at(start, -target, hours)
        assert before <= start
        assert elapsed(before, start, hours) == target
        assert elapsed(start, before, hours) == -target


@pytest.mark.parametrize("hours", [None, *CALENDARS])
def test_elapsed_of_nothing_is_zero(hours: BusinessHours | None) -> None:
    assert elapsed(NOW, NOW, hours) == timedelta(0)


def test_business_hours_reject_unknown_zones_and_days() -> None:
    with pytest.raises(ValueError, match="time zone"):
        BusinessHours(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="ISO weekdays"):
        BusinessHours(days=(0, 1))
    assert BusinessHours(days=(5, 1, 1)).days == (1, 5)


# --- odd data --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [DEFAULT, PAUSING, OFFICE_POLICY])
def test_ticket_without_created_at_does_not_raise(policy: SlaPolicy) -> None:
    broken = ticket(None)

    status = evaluate(broken, NOW, policy)

    assert broken.is_broken
    assert status.first_response == ClockStatus(
        ClockKind.FIRST_RESPONSE, SlaState.ON_TRACK, None, None, None
    )
    assert status.row_state is SlaState.ON_TRACK
    assert status.countdown == "unknown"


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"createdAt": "yesterday", "status": "exploded", "priority": 7},
        {"createdAt": datetime(9999, 12, 31, 23, 0), "priority": "low"},
        {"createdAt": datetime(1, 1, 1), "status": "waiting"},
        {"status": "closed", "resolvedAt": "soon"},
        {"createdAt": NOW, "messages": "not a list", "_firstResponseAt": 3},
    ],
)
@pytest.mark.parametrize("policy", [DEFAULT, PAUSING, OFFICE_POLICY])
def test_odd_documents_never_raise(doc: dict[str, Any], policy: SlaPolicy) -> None:
    status = evaluate(Ticket.from_mongo(doc), NOW, policy)

    assert isinstance(status.countdown, str)
    assert isinstance(sort_key(status), tuple)


def test_done_ticket_without_created_at_is_done() -> None:
    status = evaluate(ticket(None, status="resolved", resolvedAt=NOW), NOW, DEFAULT)

    assert status.resolution.state is SlaState.MET
    assert status.resolution.met_at == NOW
    assert status.row_state is SlaState.MET
    assert status.countdown == "done"


def test_naive_datetimes_are_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    created = naive_now - timedelta(minutes=50)
    constructed = Ticket.model_construct(created_at=created, priority=Priority.URGENT)

    status = evaluate(constructed, naive_now, DEFAULT)

    assert status == evaluate(ticket(NOW - timedelta(minutes=50), priority="urgent"), NOW, DEFAULT)
    assert status.first_response.due == NOW + timedelta(minutes=10)
    assert status.first_response.due.tzinfo is UTC
    assert due_at(created, timedelta(hours=1), OFFICE) == at(2026, 11, 24, 12, 10)
    assert elapsed(created, naive_now, OFFICE) == timedelta(minutes=50)


# --- sorting ---------------------------------------------------------------------------------


def _status(name: str) -> SlaStatus:
    """Urgent tickets in every row state, keyed by a name that says what they are."""
    cases = {
        "breached long ago": ticket(NOW - timedelta(hours=3), priority="urgent"),
        "breached": ticket(NOW - timedelta(hours=1, minutes=10), priority="urgent"),
        "at risk sooner": ticket(NOW - timedelta(minutes=55), priority="urgent"),
        "at risk": ticket(NOW - timedelta(minutes=50), priority="urgent"),
        "on track sooner": ticket(NOW - timedelta(minutes=20), priority="urgent"),
        "on track": ticket(NOW, priority="urgent"),
        "paused": replied(
            NOW - timedelta(hours=9), timedelta(minutes=1), priority="urgent", status="waiting"
        ),
        "done": ticket(NOW - timedelta(hours=1), status="resolved", resolvedAt=NOW),
        "unknown": ticket(None, priority="urgent"),
    }
    return evaluate(cases[name], NOW, PAUSING)


ORDER = [
    "breached long ago",
    "breached",
    "at risk sooner",
    "at risk",
    "on track sooner",
    "on track",
    "unknown",
    "paused",
    "done",
]


def test_sort_key_puts_the_most_urgent_first() -> None:
    statuses = {name: _status(name) for name in ORDER}

    ordered = sorted(reversed(ORDER), key=lambda name: sort_key(statuses[name]))

    assert ordered == ORDER
    assert [statuses[name].row_state for name in ORDER] == [
        SlaState.BREACHED,
        SlaState.BREACHED,
        SlaState.AT_RISK,
        SlaState.AT_RISK,
        SlaState.ON_TRACK,
        SlaState.ON_TRACK,
        SlaState.ON_TRACK,
        SlaState.PAUSED,
        SlaState.MET,
    ]


def test_sort_key_ranks_running_clocks_by_deadline_across_priorities() -> None:
    # Like the store's pipeline: an on-track urgent ticket due in 50 minutes comes before an
    # at-risk low one due in 5 hours.
    urgent = evaluate(ticket(NOW - timedelta(minutes=10), priority="urgent"), NOW, DEFAULT)
    low = evaluate(ticket(NOW - timedelta(hours=19), priority="low"), NOW, DEFAULT)

    assert (urgent.row_state, low.row_state) == (SlaState.ON_TRACK, SlaState.AT_RISK)
    assert sort_key(urgent) < sort_key(low)
