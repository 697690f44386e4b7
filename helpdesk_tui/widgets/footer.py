"""The footer of every screen, never with a key cut in half.

Textual's ``Footer`` lays its keys out in a row and lets the ones past the right edge fall off
(at 80 columns the ticket screen showed ``c Cu▏^p palette``). ``KeyFooter`` shows the same
bindings (``show=True``, with the key ``[keys]`` gave them), but fits them to the width: all of
them as Textual would when they fit; otherwise the compact style (one space less per key);
otherwise the compact style with the least important keys left out, ``first`` naming the ones
that matter most. A key left out stays on the help screen (``?``) and in the palette. Keys
and descriptions are shown by the rendering rule (``App.get_key_display`` and ``literal``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer

from helpdesk_tui.domain.text import literal
from helpdesk_tui.textual_seam import (
    FooterKey,
    node_bindings,
)

# Cells a key takes besides its key and description text: " r Reply " (padding around the
# key, after the description), or compact "r Reply" plus its right margin.
_EXTRA = {False: 3, True: 2}
_EXTRA_NO_DESCRIPTION = {False: 2, True: 1}
# The palette key on the right: "▏^p palette" plus its right padding or margin.
_PALETTE_EXTRA = 3


def declared_order(node: DOMNode) -> dict[str, int]:
    """Each action's place in ``node``'s bindings as declared: a key [keys] moved keeps its
    action's place (Textual's keymap appends the rebound keys last)."""
    declared = [b.action for bs in node_bindings(node).key_to_bindings.values() for b in bs]
    return {action: n for n, action in reversed(list(enumerate(declared)))}


def _width(binding: Binding, display: str, compact: bool) -> int:
    if binding.description:
        return cell_len(display) + cell_len(binding.description) + _EXTRA[compact]
    return cell_len(display) + _EXTRA_NO_DESCRIPTION[compact]


class KeyFooter(Footer):
    """A ``Footer`` whose keys fit the screen's width (see the module docstring)."""

    def __init__(self, *, first: Sequence[str] = (), show_command_palette: bool = True) -> None:
        """``first``: binding ids (or action names), most important first; the keys not named
        come after them, in the order of the bindings."""
        super().__init__(show_command_palette=show_command_palette)
        self.first = tuple(first)
        self._laid_out_for = 0
        self._rebuild_due = False
        self._composed: tuple[object, ...] | None = None  # what the keys shown were made of

    def _width_now(self) -> int:
        return self.size.width or self.screen.size.width or self.app.size.width

    def _shown(self) -> list[tuple[Binding, bool, str]]:
        """The footer's bindings (one per action, in binding order), as Textual picks them."""
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        place: dict[str, tuple[int, int]] = {}  # action: (its node's turn, its declared place)
        turns: dict[int, int] = {}
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = (binding, enabled, tooltip)
                order = declared_order(node)
                turn = turns.setdefault(id(node), len(turns))
                place[binding.action] = (turn, order.get(binding.action, len(order)))
        # Node by node as Textual gives them, each node's actions as declared: a key [keys]
        # moved keeps its action's place (Textual's keymap puts a rebound key last).
        return [by_action[a] for a in sorted(by_action, key=place.__getitem__)]

    def _rank(self, binding: Binding) -> int:
        for index, name in enumerate(self.first):
            if name in (binding.id, binding.action):
                return index
        return len(self.first)

    def fit(self, width: int) -> tuple[list[tuple[Binding, bool, str]], bool]:
        """The bindings to show at ``width`` (in binding order) and whether compact."""
        shown = self._shown()
        palette = self._palette()
        room = width
        if palette is not None:
            binding, _, _ = palette
            display = self.app.get_key_display(binding)
            room -= cell_len(display) + cell_len(binding.description) + _PALETTE_EXTRA

        def total(items: list[tuple[Binding, bool, str]], compact: bool) -> int:
            return sum(_width(b, self.app.get_key_display(b), compact) for b, _, _ in items)

        if total(shown, False) <= room:
            return shown, False
        if total(shown, True) <= room:
            return shown, True
        kept: list[tuple[Binding, bool, str]] = []
        used = 0
        ranked = sorted(range(len(shown)), key=lambda i: (self._rank(shown[i][0]), i))
        for index in ranked:
            binding = shown[index][0]
            size = _width(binding, self.app.get_key_display(binding), True)
            if used + size <= room:
                kept.append(shown[index])
                used += size
        return [item for item in shown if item in kept], True

    def _palette(self) -> tuple[Binding, bool, str] | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        try:
            _node, binding, enabled, tooltip = self.screen.active_bindings[
                self.app.COMMAND_PALETTE_BINDING
            ]
        except KeyError:
            return None
        return binding, enabled, tooltip

    def _signature(
        self, items: list[tuple[Binding, bool, str]], compact: bool
    ) -> tuple[object, ...]:
        """What the keys are made of: the same twice, no rebuild."""
        keys = tuple(
            (b.key, self.app.get_key_display(b), b.description, b.action, enabled, tooltip)
            for b, enabled, tooltip in [*items, *filter(None, [self._palette()])]
        )
        return (compact, keys)

    def compose(self) -> ComposeResult:
        # The keys at once, from the screen's bindings as they stand (Textual's Footer waits
        # for the first bindings signal, after the screen's first paint: then every key is
        # mounted and the whole screen painted again). A signal that changes nothing shown
        # rebuilds nothing (``_rebuild``).
        width = self._width_now()
        self._laid_out_for = width
        items, compact = self.fit(width)
        self._composed = self._signature(items, compact)
        self.set_class(compact, "-compact")
        # Each key is born compact or not, class included: ``key.compact = ...`` ran its
        # watcher twice (the default, then the value), restyling every key twice a rebuild.
        for binding, enabled, tooltip in items:
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                literal(binding.description),
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
                classes="-compact" if compact else "",
            )
            key.set_reactive(FooterKey.compact, compact)
            yield key
        palette = self._palette()
        if palette is not None:
            binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                literal(binding.description),
                binding.action,
                classes="-command-palette -compact",  # compact, as Textual's Footer has it
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's, but signals that come before the rebuild they asked for runs share it:
        each rebuild mounts a widget per key (16-40 ms), and a start or a screen switch sends
        several signals at once (two rebuilds in a row, around the first rows, before this)."""
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_soon()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._rebuild_soon()

    def _rebuild_soon(self) -> None:
        if not self._rebuild_due:  # False if it could not be scheduled: the next signal tries
            self._rebuild_due = self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_due = False  # a signal from now on needs a rebuild of its own
        if self._composed is not None and self.is_attached:
            width = self._width_now()
            if self._signature(*self.fit(width)) == self._composed:
                # The same keys, enabled alike, at a width they were fitted to: a rebuild
                # would mount the same widgets again and repaint the whole screen (an open
                # ticket's bindings signal twice after its first paint).
                self._laid_out_for = width
                return
        await self.recompose()
