"""No module in screens/ grows past 450 lines (issue 28): a screen that does is absorbing what
belongs in a feature mixin, a model or the store."""

from __future__ import annotations

from pathlib import Path

import helpdesk_tui.screens

LIMIT = 450


def test_no_module_in_screens_is_over_450_lines() -> None:
    root = Path(helpdesk_tui.screens.__file__).parent
    sizes = {
        str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
        for path in root.rglob("*.py")
    }
    assert len(sizes) > 20  # the package's modules were found
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
