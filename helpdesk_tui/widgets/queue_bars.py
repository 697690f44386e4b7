"""The queue's bars: who is signed in and the feed's state (TopBar), the views with their
counts (ViewBar)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from helpdesk_tui.domain.text import one_line
from helpdesk_tui.widgets.line import Line


class NamedView(Protocol):
    """A queue view as the bar names it (views.View)."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def short(self) -> str: ...


class TopBar(Static):
    """``helpdesk-tui  Ana Lima (agent, …)  live``: the feed's state is never cut (a badge that
    says "⚠ not answering" must be read at 80 columns too); the name yields its room first."""

    _args: tuple[str, str, bool] | None = None

    def on_resize(self) -> None:
        if self._args is not None:
            self.show(*self._args)

    def show(self, who: str, feed: str, live: bool) -> None:
        self._args = (who, feed, live)
        head = Text("helpdesk-tui", style="bold")
        # Not live: bold, with its ⚠ (the symbol carries it without colour).
        state = Text(feed, style="dim" if live else "bold")
        room = self.content_region.width - head.cell_len - state.cell_len - 4
        person = Text(who)
        if room < 6:  # too narrow for a name: the state first, then the rest cut at the edge
            line = Text.assemble(head, "  ", state, no_wrap=True, overflow="ellipsis")
        else:
            person.truncate(room, overflow="ellipsis")
            line = Text.assemble(head, "  ", person, "  ", state, no_wrap=True)
        self.update(line)


class ViewBar(Line):
    """``1 Mine 12  2 Unassigned 40  …``: the current view highlighted, short names when narrow."""

    _args: tuple[Sequence[NamedView], int, dict[str, int]] | None = None

    def on_resize(self) -> None:
        if self._args is not None:
            self.show(*self._args)  # long or short names for the new width, now

    def show(self, views: Sequence[NamedView], current: int, counts: dict[str, int]) -> None:
        self._args = (views, current, counts)
        width = self.size.width
        # Long names; then the current view's long name and the others' short ones; then all
        # short; then only the current view named; each with and then without the gaps: the
        # first that fits (the counts at the end of the bar are what an agent looks for).
        narrow = bool(width and width < 100)
        layouts = [("long", " "), ("long", ""), ("current", " "), ("current", "")]
        layouts += [("short", " "), ("short", ""), ("numbers", " "), ("numbers", "")]
        for names, gap in layouts[4:] if narrow else layouts:
            text = self._text(views, current, counts, names, gap)
            if not width or text.cell_len <= width:
                break
        self.set_text(text)

    @staticmethod
    def _text(
        views: Sequence[NamedView], current: int, counts: dict[str, int], names: str, gap: str
    ) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        # Without the gap, only the highlighted view keeps the spaces around its label.
        tight = gap == ""
        for index, view in enumerate(views):
            if index:
                text.append(" " if tight else gap)
            count = counts.get(view.key)
            long = names == "long" or (names == "current" and index == current)
            # A view can be named after an agent (from the workload screen): database text.
            name = one_line(view.name if long else view.short)
            if names == "numbers" and index != current:
                name = ""  # the last resort on a narrow terminal: numbers and counts
            label = f"{index + 1} {name}" if name else f"{index + 1}"
            label += f" {count}" if count is not None else ""
            if index == current or not tight:
                label = f" {label} "
            style = "reverse bold" if index == current else ""
            if view.key == "breaching" and count:
                style += " red" if index != current else ""
            text.append(label, style=style.strip())
        return text
