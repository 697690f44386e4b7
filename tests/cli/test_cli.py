"""The scriptable CLI: JSON a script can parse, writes that land, one clear line per error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, as_service
from helpers import assert_mongoose_valid
from typer.testing import CliRunner, Result

import helpdesk_tui.cli as cli
from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import ACTIVE_STATUSES, Category, NewTicket
from helpdesk_tui.domain.sla import evaluate, sort_key
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

AGENT = seed.AGENTS[0][1]  # ana, role agent
OTHER_AGENT = seed.AGENTS[1][1]  # bo
SUPERVISOR = seed.SUPERVISOR[1]  # sam
ENV_OVERRIDES = ("HELPDESK_TUI_MONGO_URI", "MONGODB_URI", "HELPDESK_TUI_DB", "HELPDESK_TUI_AGENT")


@dataclass
class Helpdesk:
    store: TicketStore
    data: seed.DemoData
    config: Path
    db: Any

    def user_id(self, email: str) -> ObjectId:
        doc = self.db.users.find_one({"email": email})
        assert doc is not None
        return doc["_id"]

    @property
    def customer_email(self) -> str:
        doc = self.db.users.find_one({"role": "customer"})
        assert doc is not None
        return str(doc["email"])

    def ticket(self, **query: Any) -> dict[str, Any]:
        """A well-formed demo ticket matching ``query``."""
        doc = self.db.tickets.find_one({**query, "legacyField": {"$exists": False}})
        assert doc is not None, query
        return dict(doc)

    def raw(self, number: str) -> dict[str, Any]:
        doc = self.db.tickets.find_one({"ticketNumber": number})
        assert doc is not None
        return dict(doc)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_OVERRIDES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def helpdesk(
    db: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Helpdesk]:
    """The demo team and 40 tickets on the test server; the CLI's `connect` hands out this store."""
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    data = seed.generate(clock.now, tickets=40, customers=10, seed=7)
    seed.load(store, data)
    config = write_config(tmp_path / "config.toml", f'[agent]\nemail = "{AGENT}"\n')
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setattr(cli, "connect", lambda _config: store)
    yield Helpdesk(store, data, config, db)


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli.app, list(args), input=input)


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert result.exception is None
    return result.stdout


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Non-zero exit, exactly one line on stderr, nothing on stdout, no crash."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("helpdesk-tui: ")
    for fragment in fragments:
        assert fragment in line, line
    assert result.stdout == ""
    return line


def test_stderr_is_captured_apart_from_stdout() -> None:
    # The error-path assertions rely on it: this Typer keeps the two streams separate.
    result = CliRunner().invoke(cli.app, ["tickets", "list", "--view"])

    assert result.stderr
    assert result.stdout == ""


# --- tickets list ----------------------------------------------------------------------------


def test_list_json_is_valid_and_sorted_most_urgent_first(helpdesk: Helpdesk) -> None:
    rows = json.loads(ok(run("tickets", "list", "--json")))

    active = [s.value for s in ACTIVE_STATUSES]
    expected = helpdesk.db.tickets.count_documents({"status": {"$in": active}})
    assert len(rows) == expected > 10
    assert all(row["status"] in active for row in rows)
    now, policy = helpdesk.store.now(), helpdesk.store.settings.sla
    keys = [
        sort_key(evaluate(helpdesk.store.find_ticket(r["ticketNumber"]), now, policy)) for r in rows
    ]
    assert keys == sorted(keys)
    assert rows[0]["sla"]["state"] == "breached"
    assert rows[0]["sla"]["countdown"].startswith("-")
    assert "messages" not in rows[0]


def test_list_json_rows_name_customer_and_assignee(helpdesk: Helpdesk) -> None:
    rows = json.loads(ok(run("tickets", "list", "--view", "mine", "--json")))

    ana = str(helpdesk.user_id(AGENT))
    assert rows
    assert all(row["assignee"] == {"id": ana, "name": "Ana Lima", "email": AGENT} for row in rows)
    assert all(row["customer"]["email"].endswith("@mail.example") for row in rows)


def test_list_with_search_and_limit(helpdesk: Helpdesk) -> None:
    everything = json.loads(ok(run("tickets", "list", "--json")))
    top = json.loads(ok(run("tickets", "list", "--limit", "3", "--json")))
    found = json.loads(ok(run("tickets", "list", "--search", "package", "--json")))

    assert top == everything[:3]
    assert found
    assert all("package" in row["subject"].lower() for row in found)


def test_list_text_shows_one_line_per_ticket_without_control_characters(
    helpdesk: Helpdesk,
) -> None:
    out = ok(run("tickets", "list", "--view", "open", "--limit", "100"))

    lines = out.splitlines()
    rows = json.loads(ok(run("tickets", "list", "--limit", "100", "--json")))
    assert [line.split()[0] for line in lines] == [r["ticketNumber"] for r in rows]
    assert "\x1b" not in out


def test_list_lists_the_malformed_demo_ticket_without_failing(helpdesk: Helpdesk) -> None:
    doc = helpdesk.db.tickets.find_one_and_update(
        {"legacyField": {"$exists": True}}, {"$set": {"status": "open"}}
    )
    as_service(helpdesk.store, doc["_id"])

    rows = json.loads(ok(run("tickets", "list", "--limit", "100", "--json")))

    (broken,) = [r for r in rows if r["problems"]]
    assert any(p.startswith("category") for p in broken["problems"])


# --- tickets show ----------------------------------------------------------------------------


def test_show_json_has_the_conversation(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress")

    data = json.loads(ok(run("tickets", "show", doc["ticketNumber"], "--json")))

    assert data["ticketNumber"] == doc["ticketNumber"]
    assert data["status"] == "in_progress"
    assert len(data["messages"]) == len(doc["messages"]) > 0
    first = data["messages"][0]
    assert first["content"] == doc["messages"][0]["content"]
    assert first["sender"]["id"] == str(doc["user"])
    assert first["sender"]["name"]
    assert isinstance(first["isInternal"], bool)
    assert isinstance(first["attachments"], list)
    assert data["description"] == doc["description"]


def test_show_accepts_bare_digits_and_lowercase(helpdesk: Helpdesk) -> None:
    by_digits = json.loads(ok(run("tickets", "show", "7", "--json")))
    by_lower = json.loads(ok(run("tickets", "show", "tkt-000007", "--json")))

    assert by_digits["ticketNumber"] == by_lower["ticketNumber"] == "TKT-000007"


def test_show_text_prints_customer_escape_sequences_literally(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(description={"$regex": "\x1b"})

    out = ok(run("tickets", "show", doc["ticketNumber"]))

    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred" in out
    assert "[bold red]URGENT[/] read me" in out  # markup shown as typed, not applied


# --- writes ----------------------------------------------------------------------------------


def test_create_opens_a_ticket_for_a_customer(helpdesk: Helpdesk) -> None:
    data = json.loads(
        ok(
            run(
                "tickets",
                "create",
                "--subject",
                "Blender arrived broken",
                "--customer",
                helpdesk.customer_email,
                "--category",
                "product",
                "--priority",
                "high",
                "--tag",
                "damaged",
                "--tag",
                "vip",
                "--json",
            )
        )
    )

    assert data["ticketNumber"] == "TKT-000041"
    doc = helpdesk.raw("TKT-000041")
    assert_mongoose_valid(doc)
    assert doc["subject"] == "Blender arrived broken"
    assert doc["user"] == helpdesk.user_id(helpdesk.customer_email)
    assert (doc["category"], doc["priority"], doc["status"]) == ("product", "high", "open")
    assert doc["tags"] == ["damaged", "vip"]
    assert data["customer"]["email"] == helpdesk.customer_email


def test_create_with_blank_subject_is_one_line_error(helpdesk: Helpdesk) -> None:
    result = run(
        "tickets",
        "create",
        "--subject",
        "   ",
        "--customer",
        helpdesk.customer_email,
        "--category",
        "other",
    )

    assert_one_line_error(result, "subject")
    assert helpdesk.db.tickets.count_documents({}) == 40


def test_reply_appends_a_public_message_from_me(helpdesk: Helpdesk, clock: FakeClock) -> None:
    doc = helpdesk.ticket(status="in_progress")
    clock.advance(minutes=1)

    data = json.loads(
        ok(run("tickets", "reply", doc["ticketNumber"], "-m", "On its way!", "--json"))
    )

    after = helpdesk.raw(doc["ticketNumber"])
    assert_mongoose_valid(after)
    assert len(after["messages"]) == len(doc["messages"]) + 1
    last = after["messages"][-1]
    assert (last["content"], last["isInternal"]) == ("On its way!", False)
    assert last["sender"] == helpdesk.user_id(AGENT)
    assert after["__v"] == doc["__v"] + 1
    assert data["messages"][-1]["content"] == "On its way!"


def test_reply_internal_note_from_stdin_with_attachment_and_status(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress")

    ok(
        run(
            "tickets",
            "reply",
            doc["ticketNumber"],
            "--internal",
            "--attach",
            "trace.log",
            "--status",
            "waiting",
            input="Checked the warehouse.\n",
        )
    )

    after = helpdesk.raw(doc["ticketNumber"])
    last = after["messages"][-1]
    assert last["content"] == "Checked the warehouse."
    assert last["isInternal"] is True
    assert last["attachments"] == ["trace.log"]
    assert after["status"] == "waiting"


def test_assign_me_takes_an_unassigned_ticket(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="open", assignedTo={"$exists": False})

    data = json.loads(ok(run("tickets", "assign", doc["ticketNumber"], "me", "--json")))

    assert helpdesk.raw(doc["ticketNumber"])["assignedTo"] == helpdesk.user_id(AGENT)
    assert data["assignee"]["email"] == AGENT


def test_supervisor_assigns_to_another_agent_and_to_nobody(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress")
    number = doc["ticketNumber"]

    ok(run("--as", SUPERVISOR, "tickets", "assign", number, OTHER_AGENT))
    assert helpdesk.raw(number)["assignedTo"] == helpdesk.user_id(OTHER_AGENT)

    ok(run("--as", SUPERVISOR, "tickets", "assign", number, "nobody"))
    after = helpdesk.raw(number)
    assert "assignedTo" not in after
    assert_mongoose_valid(after)


def test_status_moves_the_ticket_along_the_workflow(helpdesk: Helpdesk, clock: FakeClock) -> None:
    doc = helpdesk.ticket(status="in_progress")
    clock.advance(minutes=2)

    data = json.loads(ok(run("tickets", "status", doc["ticketNumber"], "resolved", "--json")))

    after = helpdesk.raw(doc["ticketNumber"])
    assert_mongoose_valid(after)
    assert after["status"] == "resolved"
    assert after["resolvedAt"] == helpdesk.store.now()
    assert data["status"] == "resolved"


# --- every error: one line on stderr, non-zero exit ------------------------------------------


def test_unknown_ticket_is_one_line_error(helpdesk: Helpdesk) -> None:
    assert_one_line_error(run("tickets", "show", "TKT-999999"), "no ticket TKT-999999")


def test_invalid_transition_names_the_allowed_states_and_changes_nothing(
    helpdesk: Helpdesk,
) -> None:
    doc = helpdesk.ticket(status="open")

    result = run("tickets", "status", doc["ticketNumber"], "closed")

    assert_one_line_error(result, "cannot move from open to closed", "allowed: in progress")
    assert helpdesk.raw(doc["ticketNumber"]) == doc


def test_unknown_status_value_is_refused(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="open")

    result = run("tickets", "status", doc["ticketNumber"], "pending")

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert helpdesk.raw(doc["ticketNumber"]) == doc


def test_empty_reply_is_one_line_error_and_writes_nothing(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress")

    result = run("tickets", "reply", doc["ticketNumber"], "-m", "   \n")

    assert_one_line_error(result, "the reply is empty")
    assert helpdesk.raw(doc["ticketNumber"]) == doc


def test_unknown_as_email_is_one_line_error(helpdesk: Helpdesk) -> None:
    result = run("--as", "nobody@nowhere.example", "tickets", "list")

    assert_one_line_error(result, "nobody@nowhere.example")


def test_customer_as_me_is_refused(helpdesk: Helpdesk) -> None:
    result = run("--as", helpdesk.customer_email, "tickets", "list")

    assert_one_line_error(result, helpdesk.customer_email, "'customer'")


def test_missing_identity_asks_who_you_are(helpdesk: Helpdesk, tmp_path: Path) -> None:
    config = write_config(tmp_path / "anonymous.toml", "[ui]\nmouse = false\n")

    result = run("--config", str(config), "tickets", "list")

    assert_one_line_error(result, "--as")


def test_agent_assigning_to_someone_else_is_refused(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="open", assignedTo={"$exists": False})

    result = run("tickets", "assign", doc["ticketNumber"], OTHER_AGENT)

    assert_one_line_error(result, "only a supervisor can assign tickets to someone else")
    assert helpdesk.raw(doc["ticketNumber"]) == doc


def test_agent_taking_another_agents_ticket_is_refused(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress", assignedTo={"$ne": helpdesk.user_id(AGENT)})

    result = run("tickets", "assign", doc["ticketNumber"], "me")

    # Said as what happened (issue 27): someone has it, by name; not a permission lecture.
    assert_one_line_error(result, "was already taken by ")
    assert helpdesk.raw(doc["ticketNumber"]) == doc


def test_assigning_to_a_customer_is_refused(helpdesk: Helpdesk) -> None:
    doc = helpdesk.ticket(status="in_progress")

    result = run(
        "--as", SUPERVISOR, "tickets", "assign", doc["ticketNumber"], helpdesk.customer_email
    )

    assert_one_line_error(result, "'customer'")
    assert helpdesk.raw(doc["ticketNumber"]) == doc


@pytest.mark.parametrize(
    "command",
    [
        ["tickets", "status", "{number}", "resolved"],
        ["tickets", "reply", "{number}", "-m", "hello"],
        ["tickets", "assign", "{number}", "me"],
        [
            "tickets",
            "create",
            "--subject",
            "x",
            "--customer",
            "{customer}",
            "--category",
            "other",
        ],
    ],
    ids=["status", "reply", "assign", "create"],
)
def test_read_only_refuses_every_write(helpdesk: Helpdesk, command: list[str]) -> None:
    doc = helpdesk.ticket(status="in_progress")
    before = list(helpdesk.db.tickets.find({}, {"_id": 1, "updatedAt": 1}))
    args = [a.format(number=doc["ticketNumber"], customer=helpdesk.customer_email) for a in command]

    result = run("--read-only", "--as", SUPERVISOR, *args)

    assert_one_line_error(result, "read-only")
    assert list(helpdesk.db.tickets.find({}, {"_id": 1, "updatedAt": 1})) == before


def test_read_only_still_reads(helpdesk: Helpdesk) -> None:
    assert json.loads(ok(run("--read-only", "tickets", "list", "--json")))


def test_bad_config_key_is_named(helpdesk: Helpdesk) -> None:
    write_config(helpdesk.config, f'[agent]\nemial = "{AGENT}"\n')

    assert_one_line_error(run("tickets", "list"), "agent.emial: unknown key")


def test_bad_config_value_is_named(helpdesk: Helpdesk) -> None:
    write_config(helpdesk.config, '[ui]\npage_size = "lots"\n')

    assert_one_line_error(run("tickets", "list"), "ui.page_size")


def test_missing_config_file_is_one_line_error(
    helpdesk: Helpdesk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(tmp_path / "nope.toml"))

    assert_one_line_error(run("tickets", "list"), "config file not found")


def test_bad_view_name_lists_the_views(helpdesk: Helpdesk) -> None:
    result = run("tickets", "list", "--view", "nope")

    assert_one_line_error(result, "unknown view 'nope'", "mine", "unassigned", "breaching")


# --- the real connect() ----------------------------------------------------------------------


def test_unreachable_server_is_one_line_error_with_the_password_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        f'[agent]\nemail = "{AGENT}"\n[mongo]\nserver_selection_timeout_ms = 300\n',
    )
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    uri = "mongodb://helpdesk:secret@127.0.0.1:1/?serverSelectionTimeoutMS=300"

    result = run("--uri", uri, "tickets", "list")

    line = assert_one_line_error(result, "cannot reach MongoDB")
    assert "secret" not in result.output
    assert "helpdesk:****@127.0.0.1:1" in line


def test_unreachable_server_says_in_one_whole_line_what_was_tried_what_failed_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        f'[agent]\nemail = "{AGENT}"\n[mongo]\nuri = "mongodb://127.0.0.1:1/"\n'
        "server_selection_timeout_ms = 300\n",
    )
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))

    result = run("tickets", "list")

    line = assert_one_line_error(result, "cannot reach MongoDB at mongodb://127.0.0.1:1/")
    assert "connection refused" in line.lower()  # what failed, in the driver's words
    assert "Topology" not in line and "configured timeouts" not in line  # not the driver's dump
    assert "0.3 s" in line  # how long it tried
    assert f"URI from {config}" in line  # where the URI came from
    assert "helpdesk-tui doctor" in line and "helpdesk-tui demo" in line  # what to do
    assert not line.rstrip().endswith(("Descript", ":", ","))  # a whole line, not a cut one


def test_unreachable_server_from_an_environment_uri_is_masked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        f'[agent]\nemail = "{AGENT}"\n[mongo]\nserver_selection_timeout_ms = 300\n',
    )
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setenv("HELPDESK_TUI_MONGO_URI", "mongodb://ops:hunter2@127.0.0.1:1/helpdesk")

    result = run("tickets", "show", "1")

    assert_one_line_error(result, "cannot reach MongoDB")
    assert "hunter2" not in result.output


def test_server_selection_timeout_in_the_uri_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pymongo
    from pymongo.errors import ServerSelectionTimeoutError

    config = write_config(tmp_path / "config.toml", f'[agent]\nemail = "{AGENT}"\n')
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    seen: list[float] = []
    real_client = pymongo.MongoClient

    def client_without_network(*args: Any, **kwargs: Any) -> Any:
        client = real_client(*args, connect=False, **kwargs)
        seen.append(client.options.server_selection_timeout)
        client.close()
        raise ServerSelectionTimeoutError("127.0.0.1:1: connection refused")

    monkeypatch.setattr(pymongo, "MongoClient", client_without_network)

    result = run("--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", "tickets", "list")

    assert_one_line_error(result, "cannot reach MongoDB")
    assert seen == [0.3]


def test_main_entry_point_turns_a_crash_into_one_line_without_its_data_and_a_private_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    customer = "eve.secret@example.com"

    def boom() -> None:
        email = customer  # customer data in scope and in the message
        raise RuntimeError(f"something broke for {email}")

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.delenv("HELPDESK_TUI_DEBUG", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 70
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1
    assert customer not in err + captured.out
    assert "internal error (RuntimeError)" in err
    assert "HELPDESK_TUI_DEBUG" in err
    log = tmp_path / "state" / "helpdesk-tui" / "crash.log"
    assert str(log) in err
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700
    assert "Traceback" in log.read_text() and customer in log.read_text()


def test_doctor_masks_every_secret_of_the_uri_even_in_a_driver_error(
    helpdesk: Helpdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo.errors import OperationFailure

    uri = (
        "mongodb://AKIA:pw1@h/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:tok123&tlsCertificateKeyFilePassword=kp9"
    )

    def refused() -> None:
        raise OperationFailure(f"authentication failed for {uri} (session token tok123)")

    monkeypatch.setattr(helpdesk.db.client, "server_info", refused, raising=False)

    result = run("--uri", uri, "doctor")

    for secret in ("pw1", "tok123", "kp9"):
        assert secret not in result.output
    assert "AWS_SESSION_TOKEN:****" in result.stdout
    assert "tlsCertificateKeyFilePassword=****" in result.stdout


def test_the_demo_hands_out_the_same_ids_for_a_seed_whatever_the_time() -> None:
    """Drafts on disk name the agent's id: a restarted demo must give the same ones."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)
    first = seed.generate(start, tickets=40, customers=10, seed=7)
    later = seed.generate(start + timedelta(days=3, minutes=7), tickets=40, customers=10, seed=7)
    other = seed.generate(start, tickets=40, customers=10, seed=8)

    def ids(data: seed.DemoData) -> list[object]:
        return [u["_id"] for u in data.users] + [
            (t["_id"], t.get("user"), t.get("assignedTo"), [m["_id"] for m in t["messages"]])
            for t in data.tickets
            if isinstance(t.get("messages"), list)
        ]

    assert ids(first) == ids(later)
    assert {u["email"]: u["_id"] for u in first.users} == {
        u["email"]: u["_id"] for u in later.users
    }
    assert first.users[0]["_id"] != other.users[0]["_id"]
    senders = {m["sender"] for t in first.tickets for m in t.get("messages") or []}
    assert senders <= {u["_id"] for u in first.users}  # every reference follows its user


# --- tickets search (issue 16) ---------------------------------------------------------------


def test_search_json_ranks_the_number_first_and_carries_snippets_not_messages(
    helpdesk: Helpdesk,
) -> None:
    number = helpdesk.ticket(status="open")["ticketNumber"]
    data = json.loads(ok(run("tickets", "search", number, "--json")))
    assert data["results"][0]["ticketNumber"] == number
    assert data["results"][0]["matched"] == "number"
    assert data["path"] == "scan" and data["bounded"] is False
    assert data["searched"].startswith("scanned all")

    found = json.loads(ok(run("tickets", "search", '"third time"', "--json")))["results"]
    expected = {
        d["ticketNumber"]
        for d in helpdesk.db.tickets.find(
            {"messages.content": {"$regex": "third time", "$options": "i"}}
        )
    }
    assert {r["ticketNumber"] for r in found} == expected
    assert all(r["snippet"]["match"].lower() == "third time" for r in found)
    assert not any("messages" in r for r in found)


def test_search_text_lists_results_with_their_line_and_what_was_searched(
    helpdesk: Helpdesk,
) -> None:
    out = ok(run("tickets", "search", "from:mail.example status:closed", "--limit", "3"))
    lines = out.splitlines()
    assert "closed" in lines[0]
    assert lines[-1].startswith("-- 3 results (more: --skip 3); scanned all")
    nothing = ok(run("tickets", "search", "from:zzz-nobody"))
    assert nothing.splitlines() == [
        "-- 0 results; scanned all 0 tickets (no text index)",
        "-- note: no customer matches “zzz-nobody”",
    ]


# --- merge and split (store/merge.py) ---------------------------------------------------------


def three_of_one_customer(helpdesk: Helpdesk, clock: FakeClock) -> list[str]:
    customer = helpdesk.db.users.find_one({"role": "customer"})
    assert customer is not None
    numbers = []
    for n in range(3):
        new = NewTicket(subject=f"dup {n}", user=customer["_id"], category=Category.ORDER)
        numbers.append(helpdesk.store.create_ticket(new).ticket_number)
        helpdesk.store.add_message(
            helpdesk.store.find_ticket(numbers[-1]).id or "",
            sender=customer["_id"],
            content=f"customer words {n}",
        )
        clock.advance(minutes=1)
    return numbers


def test_cli_merge_closes_the_sources_and_prints_the_target(
    helpdesk: Helpdesk, clock: FakeClock
) -> None:
    target, *sources = three_of_one_customer(helpdesk, clock)

    out = ok(run("tickets", "merge", target, *sources))

    assert (
        out.splitlines()[0] == f"merged {sources[0]}, {sources[1]} into {target}: "
        "2 messages copied, sources closed"
    )
    after = helpdesk.raw(target)
    assert_mongoose_valid(after)
    assert [m["content"] for m in after["messages"]][:3] == [
        "customer words 0",
        "customer words 1",
        "customer words 2",
    ]
    for number in sources:
        assert helpdesk.raw(number)["status"] == "closed"
        assert f"merged-into-{target}" in helpdesk.raw(number)["tags"]


def test_cli_merge_of_a_closed_source_is_one_line_and_writes_nothing(
    helpdesk: Helpdesk, clock: FakeClock
) -> None:
    target, *sources = three_of_one_customer(helpdesk, clock)
    ok(run("tickets", "merge", target, sources[0]))
    before = helpdesk.raw(target)
    assert_one_line_error(run("tickets", "merge", target, *sources), "merged already")
    assert helpdesk.raw(target) == before


def test_cli_split_moves_messages_by_position_into_a_new_ticket(
    helpdesk: Helpdesk, clock: FakeClock
) -> None:
    number = three_of_one_customer(helpdesk, clock)[0]
    ticket = helpdesk.store.find_ticket(number)
    assert ticket.id is not None
    helpdesk.store.add_message(ticket.id, sender=ticket.user or ticket.id, content="second topic")

    data = json.loads(
        ok(run("tickets", "split", number, "-m", "2", "--subject", "Second topic", "--json"))
    )

    assert data["subject"] == "Second topic"
    assert data["messages"][0]["content"] == "second topic"
    assert "second topic" not in [m["content"] for m in helpdesk.raw(number)["messages"]]
    assert_mongoose_valid(helpdesk.raw(data["ticketNumber"]))
