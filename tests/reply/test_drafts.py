"""Reply drafts on disk: one JSON file per (agent, ticket, mode), atomic, private, forgiving."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

import helpdesk_tui.drafts as drafts_module
from helpdesk_tui.drafts import Draft, Drafts

TICKET = ObjectId()


@pytest.fixture
def drafts(tmp_path: Path) -> Drafts:
    return Drafts(tmp_path / "state" / "drafts", ObjectId())


def full_draft(**overrides: Any) -> Draft:
    fields: dict[str, Any] = {
        "ticket_id": str(TICKET),
        "text": "Hi Carla,\n\nyour parcel left the warehouse on Monday. 📦",
        "internal": False,
        "attachments": "label.pdf, photo.jpg",
        "status": "waiting",
        "saved_at": "10:00 UTC",
        "extra": {"cursor": "3,12"},
    }
    fields.update(overrides)
    return Draft(**fields)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".draft-"))


# --- save and load ---------------------------------------------------------------------------


def test_a_saved_draft_loads_back_with_every_field(drafts: Drafts) -> None:
    draft = full_draft()
    drafts.save(draft)
    assert drafts.load(TICKET) == draft
    assert drafts.load(str(TICKET)) == draft  # by id or by its string


def test_the_file_is_json_named_by_agent_and_ticket_and_keeps_unicode(drafts: Drafts) -> None:
    drafts.save(full_draft(text="Grüße 😀 — ünïcödé"))
    path = drafts.path(TICKET)
    assert path == drafts.directory / f"{drafts.agent}-{TICKET}-reply.json"
    raw = path.read_text(encoding="utf-8")
    assert "Grüße 😀 — ünïcödé" in raw  # written as text, not \\u escapes
    assert json.loads(raw)["text"] == "Grüße 😀 — ünïcödé"


def test_a_reply_and_a_note_on_one_ticket_are_two_drafts_that_never_mix(drafts: Drafts) -> None:
    drafts.save(full_draft(text="Dear customer", internal=False))
    drafts.save(full_draft(text="Customer is a known fraud risk", internal=True))
    reply, note = drafts.load(TICKET), drafts.load(TICKET, internal=True)
    assert reply is not None and (reply.text, reply.internal) == ("Dear customer", False)
    assert note is not None and note.internal
    assert note.text == "Customer is a known fraud risk"
    drafts.discard(TICKET, internal=True)
    assert drafts.load(TICKET, internal=True) is None
    assert drafts.load(TICKET) == reply


def test_the_file_decides_the_mode_not_the_field_inside_it(drafts: Drafts) -> None:
    drafts.save(full_draft(text="a note", internal=True))
    path = drafts.path(TICKET, internal=True)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["internal"] = False  # edited by hand, or written by an older version
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = drafts.load(TICKET, internal=True)
    assert loaded is not None and loaded.internal is True
    assert drafts.load(TICKET) is None


def test_a_ticket_number_with_path_characters_stays_inside_the_drafts_directory(
    drafts: Drafts,
) -> None:
    hostile = "../../etc/TKT-1\x1b[2J"
    drafts.save(full_draft(ticket_id=hostile, text="x"))
    path = drafts.path(hostile)
    assert path.parent == drafts.directory and "/" not in path.name
    loaded = drafts.load(hostile)
    assert loaded is not None and loaded.text == "x"
    assert drafts.path(hostile) != drafts.path("_.._etc_TKT-1__2J")  # no collisions


def test_drafts_of_two_databases_are_kept_apart(tmp_path: Path) -> None:
    agent = ObjectId()
    live, demo = Drafts(tmp_path, agent, scope="helpdesk"), Drafts(tmp_path, agent, scope="demo")
    live.save(full_draft(ticket_id="TKT-000007", text="live"))
    assert demo.load("TKT-000007") is None
    assert live.load("TKT-000007") is not None


def test_no_draft_loads_as_none(drafts: Drafts) -> None:
    assert drafts.load(TICKET) is None
    assert not drafts.directory.exists()  # looking creates nothing


def test_saving_again_replaces_the_previous_draft(drafts: Drafts) -> None:
    drafts.save(full_draft(text="first"))
    drafts.save(full_draft(text="second", internal=False, status=None))
    loaded = drafts.load(TICKET)
    assert loaded is not None
    assert (loaded.text, loaded.internal, loaded.status) == ("second", False, None)
    assert [p.name for p in drafts.directory.iterdir()] == [drafts.path(TICKET).name]


def test_two_agents_keep_separate_drafts_of_the_same_ticket(tmp_path: Path) -> None:
    ana, bo = Drafts(tmp_path, ObjectId()), Drafts(tmp_path, ObjectId())
    ana.save(full_draft(text="Ana's words"))
    bo.save(full_draft(text="Bo's words"))
    assert ana.path(TICKET) != bo.path(TICKET)
    assert (ana.load(TICKET), bo.load(TICKET)) != (None, None)
    assert ana.load(TICKET).text == "Ana's words"  # type: ignore[union-attr]
    assert bo.load(TICKET).text == "Bo's words"  # type: ignore[union-attr]


def test_unknown_keys_in_the_file_are_ignored(drafts: Drafts) -> None:
    drafts.save(full_draft())
    path = drafts.path(TICKET)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["writtenBy"] = "a newer version"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert drafts.load(TICKET) == full_draft()


# --- privacy and atomicity -------------------------------------------------------------------


def test_the_draft_file_is_mode_0600_and_a_new_directory_0700(drafts: Drafts) -> None:
    old = os.umask(0o022)
    try:
        drafts.save(full_draft())
    finally:
        os.umask(old)
    assert stat.S_IMODE(drafts.path(TICKET).stat().st_mode) == 0o600
    assert stat.S_IMODE(drafts.directory.stat().st_mode) == 0o700


def test_a_rewrite_keeps_mode_0600_even_if_the_old_file_was_readable(drafts: Drafts) -> None:
    drafts.save(full_draft(text="one"))
    drafts.path(TICKET).chmod(0o644)
    drafts.save(full_draft(text="two"))
    assert stat.S_IMODE(drafts.path(TICKET).stat().st_mode) == 0o600


def test_the_write_goes_through_a_temp_file_and_a_rename(
    drafts: Drafts, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        renames.append((Path(source).name, Path(target).name))
        assert json.loads(Path(source).read_text(encoding="utf-8"))["text"] == "new"
        real_replace(source, target)

    monkeypatch.setattr(drafts_module.os, "replace", replace)
    drafts.save(full_draft(text="new"))
    [(source, target)] = renames
    assert source.startswith(".draft-") and target == drafts.path(TICKET).name
    assert leftovers(drafts.directory) == []


def test_a_failed_write_keeps_the_old_draft_and_leaves_no_temp_file(
    drafts: Drafts, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts.save(full_draft(text="the good version"))

    def disk_full(obj: Any, handle: Any, **kwargs: Any) -> None:
        handle.write('{"ticket_id": "')  # half written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(drafts_module.json, "dump", disk_full)
    with pytest.raises(OSError, match="No space left"):
        drafts.save(full_draft(text="the new version"))
    monkeypatch.undo()
    loaded = drafts.load(TICKET)
    assert loaded is not None and loaded.text == "the good version"
    assert leftovers(drafts.directory) == []


def test_a_failed_rename_leaves_no_temp_file(
    drafts: Drafts, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: Any, target: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(drafts_module.os, "replace", refuse)
    with pytest.raises(PermissionError):
        drafts.save(full_draft())
    assert leftovers(drafts.directory) == []
    assert not drafts.path(TICKET).exists()


# --- empty drafts ----------------------------------------------------------------------------


def test_saving_an_empty_draft_removes_the_file(drafts: Drafts) -> None:
    drafts.save(full_draft())
    assert drafts.path(TICKET).exists()
    drafts.save(full_draft(text="  \n\t ", attachments=" "))
    assert not drafts.path(TICKET).exists()
    assert drafts.load(TICKET) is None


def test_saving_an_empty_draft_with_no_file_is_a_no_op(drafts: Drafts) -> None:
    drafts.save(Draft(ticket_id=str(TICKET)))
    assert not drafts.directory.exists()


def test_a_draft_with_only_attachments_is_not_empty(drafts: Drafts) -> None:
    draft = full_draft(text="", attachments="invoice.pdf")
    assert not draft.is_empty
    drafts.save(draft)
    assert drafts.load(TICKET) == draft


def test_discard_removes_the_draft_and_tolerates_a_missing_one(drafts: Drafts) -> None:
    drafts.discard(TICKET)  # nothing there: fine
    drafts.save(full_draft())
    drafts.discard(str(TICKET))
    assert drafts.load(TICKET) is None


# --- unreadable or corrupt files -------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"ticket_id": "abc", "text": "half',  # cut off by a crash mid-write (old versions)
        b"not json at all",
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"text": "no ticket id"}',  # a required field missing
    ],
    ids=["empty", "truncated", "not-json", "not-utf8", "no-ticket-id"],
)
def test_a_corrupt_draft_file_loads_as_none(drafts: Drafts, content: bytes) -> None:
    drafts.directory.mkdir(parents=True)
    drafts.path(TICKET).write_bytes(content)
    assert drafts.load(TICKET) is None


def test_an_unreadable_draft_loads_as_none(drafts: Drafts) -> None:
    drafts.path(TICKET).mkdir(parents=True)  # a directory where the file should be
    assert drafts.load(TICKET) is None


def test_a_draft_directory_that_is_a_file_loads_as_none(tmp_path: Path) -> None:
    blocker = tmp_path / "drafts"
    blocker.write_text("not a directory", encoding="utf-8")
    drafts = Drafts(blocker, ObjectId())
    assert drafts.load(TICKET) is None
    with pytest.raises(OSError):  # saving says so (the reply screen shows it)
        drafts.save(full_draft())


@pytest.mark.parametrize("content", ["null", "[]", '"text"', "42"])
def test_a_draft_file_holding_json_that_is_not_an_object_loads_as_none(
    drafts: Drafts, content: str
) -> None:
    drafts.directory.mkdir(parents=True)
    drafts.path(TICKET).write_text(content, encoding="utf-8")
    assert drafts.load(TICKET) is None


def test_a_draft_file_with_wrong_field_types_loads_as_none(drafts: Drafts) -> None:
    drafts.directory.mkdir(parents=True)
    drafts.path(TICKET).write_text(
        json.dumps({"ticket_id": str(TICKET), "text": 5, "attachments": ["a"]}), encoding="utf-8"
    )
    loaded = drafts.load(TICKET)
    assert loaded is None or (isinstance(loaded.text, str) and isinstance(loaded.attachments, str))
