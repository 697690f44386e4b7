"""The text bars and series of the pulse (pure): a bar never overflows its width and never
drops a part it was given; a series walks back from now by the hourly flows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_tui.domain.pulse import BREACHED, MET, PENDING, Attainment, Clock, bar, median, series
from helpdesk_tui.screens.pulse import attainment_lines


@pytest.mark.parametrize("width", [1, 3, 8, 40])
@pytest.mark.parametrize("counts", [(99, 1, 0), (1, 1, 1), (0, 0, 5), (500, 3, 2), (1, 0, 0)])
def test_a_bar_fits_and_keeps_every_part(width: int, counts: tuple[int, int, int]) -> None:
    parts = list(zip(counts, (MET, BREACHED, PENDING), strict=True))
    drawn = bar(parts, sum(counts), width)
    assert len(drawn) <= width
    if width >= sum(1 for c in counts if c):
        for count, symbol in parts:
            assert (symbol in drawn) == (count > 0), (drawn, counts)


def test_series_walks_back_from_now() -> None:
    now = datetime(2030, 11, 26, 10, 30, tzinfo=UTC)
    hour = now.replace(minute=0)
    ins = {hour: 2, hour - timedelta(hours=1): 3}
    outs = {hour - timedelta(hours=1): 1}
    samples = [hour - timedelta(hours=1), hour, now]
    # 10 now; before 10:00, the 2 that came in since were not there; before 09:00, 3 more
    # had not come and the 1 that left since was still there.
    assert series(samples, now, 10, ins, outs) == (10 - 2 - 3 + 1, 8, 10)


def test_median() -> None:
    assert median([]) is None
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2.5


@pytest.mark.parametrize("width", [36, 60, 76, 116])
def test_attainment_lines_never_wider_than_the_screen(width: int) -> None:
    rows = (Attainment("medium", Clock(1234, 99, 7), Clock(0, 0, 0)),)
    lines = attainment_lines(rows, 6, width)
    assert all(len(line) <= width for line in lines), lines
    assert any("░" in line for line in lines) and any("—" in line for line in lines)
