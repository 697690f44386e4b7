"""Status transitions: the Ticket Service's diagram, extendable from config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from helpdesk_tui.domain.errors import InvalidTransition
from helpdesk_tui.domain.models import Status

DEFAULT_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.OPEN: (Status.IN_PROGRESS,),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.OPEN,),
    Status.RESOLVED: (Status.CLOSED,),
    Status.CLOSED: (),
}


@dataclass(frozen=True)
class Workflow:
    """Which status may follow which. ``extra`` adds edges (e.g. reopen: resolved -> open)."""

    transitions: Mapping[Status, tuple[Status, ...]] = field(
        default_factory=lambda: dict(DEFAULT_TRANSITIONS)
    )

    @classmethod
    def with_extra(
        cls, extra: Mapping[Status, Iterable[Status]] | Mapping[str, Iterable[str]]
    ) -> Workflow:
        table = {status: list(nexts) for status, nexts in DEFAULT_TRANSITIONS.items()}
        for source, targets in extra.items():
            for target in targets:
                if Status(target) not in table[Status(source)]:
                    table[Status(source)].append(Status(target))
        return cls({status: tuple(nexts) for status, nexts in table.items()})

    def allowed(self, current: Status) -> tuple[Status, ...]:
        return self.transitions.get(current, ())

    def check(self, current: Status, target: Status) -> None:
        """Raise ``InvalidTransition`` naming the allowed next states."""
        if target in self.allowed(current):
            return
        allowed = ", ".join(s.label for s in self.allowed(current)) or "none (final state)"
        raise InvalidTransition(
            f"cannot move from {current.label} to {target.label}; allowed: {allowed}"
        )

    def path(self, current: Status, target: Status) -> tuple[Status, ...]:
        """The fewest allowed steps from ``current`` to ``target`` (``target`` last; empty if
        already there), for "submit as": open → waiting is in_progress, then waiting.

        Raises ``InvalidTransition`` naming what can be reached when no chain of steps leads
        there (e.g. nothing leaves closed; resolved leads only to closed).
        """
        if current is target:
            return ()
        previous: dict[Status, Status] = {}
        frontier = [current]
        while frontier and target not in previous:
            following = []
            for status in frontier:
                for step in self.allowed(status):
                    if step not in previous and step is not current:
                        previous[step] = status
                        following.append(step)
            frontier = following
        if target not in previous:
            reachable = ", ".join(s.label for s in Status if s in previous)
            raise InvalidTransition(
                f"no path from {current.label} to {target.label} in the workflow; "
                f"from {current.label} only {reachable or 'nothing (final state)'} can follow"
            )
        steps = [target]
        while previous[steps[-1]] is not current:
            steps.append(previous[steps[-1]])
        return tuple(reversed(steps))
