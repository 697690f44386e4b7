"""`helpdesk-tui tickets show` says where a merge's copies came from (issue 16.3).

A merge copies each source's messages onto the target as plain schema messages (Mongoose keeps
no extra field on them) and records their origin in ``ticket_merges`` (store/merge.py). The
ticket screen labels them "from TKT-…"; the CLI's ``show`` must too, in its text and its JSON,
with the origin (a ticket number another writer may have set) shown as untrusted text.
"""

from __future__ import annotations

import json

from conftest import FakeClock
from test_cli import Helpdesk, clean_env, helpdesk, ok, run, three_of_one_customer

__all__ = ["clean_env", "helpdesk"]  # fixtures used by name


def _headers(out: str) -> list[str]:
    """The messages' headers (not the history section's, which follows them)."""
    return [line for line in out.splitlines() if line.startswith("--- ") and line != "--- history"]


def test_show_marks_each_merged_copy_with_the_ticket_it_came_from(
    helpdesk: Helpdesk, clock: FakeClock
) -> None:
    target, first, second = three_of_one_customer(helpdesk, clock)
    ok(run("tickets", "merge", target, first, second))

    out = ok(run("tickets", "show", target))

    headers = _headers(out)
    # The target's own message, the two copies (in time order), the merge's note.
    assert len(headers) == 4
    assert "from TKT" not in headers[0]
    assert headers[1].endswith(f" · from {first}")
    assert headers[2].endswith(f" · from {second}")
    assert "from TKT" not in headers[3]
    data = json.loads(ok(run("tickets", "show", target, "--json")))
    assert [m.get("mergedFrom") for m in data["messages"]] == [None, first, second, None]


def test_a_hostile_origin_is_shown_as_literal_text(helpdesk: Helpdesk, clock: FakeClock) -> None:
    target, first, _ = three_of_one_customer(helpdesk, clock)
    ok(run("tickets", "merge", target, first))
    helpdesk.db.ticket_merges.update_many(
        {}, {"$set": {"sources.0.number": "TKT-1\x1b]52;c;aGk=\x07\x1b[2J\u202e"}}
    )

    out = ok(run("tickets", "show", target))

    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    copy = _headers(out)[1]
    assert "from TKT-1\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202e" in copy
    shown = ok(run("tickets", "show", target, "--json"))
    assert "\x1b" not in shown and "\u202e" not in shown
    assert json.loads(shown)["messages"][1]["mergedFrom"].startswith("TKT-1\x1b]52")
