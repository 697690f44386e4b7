"""Reply drafts on local disk, so a crash or a dropped SSH link loses nothing typed.

One JSON file per (agent, ticket, mode), written atomically (temp file + rename) with mode
0600: drafts hold customer data and live in the agent's own XDG state directory. A public reply
and an internal note on the same ticket are two drafts in two files, so text written for one
audience can never be restored into the other without the agent saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bson import ObjectId

# A draft is a reply being written (the reply limit is 10,000 characters by default): far more
# than that is a paste gone wrong, and a megabyte takes the editor many seconds to open.
MAX_DRAFT_BYTES = 256 * 1024


class DraftError(OSError):
    """A draft that cannot be written (too large, or its directory is not usable)."""


def _encodable(fields: dict[str, object]) -> bool:
    try:
        json.dumps(fields, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


@dataclass
class Draft:
    ticket_id: str
    text: str = ""
    internal: bool = False
    attachments: str = ""
    status: str | None = None
    saved_at: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.attachments.strip()


def _safe(name: str) -> str:
    """``name`` as a file-name part: it comes from the database (a ticket number), so anything
    but letters, digits, ``.``, ``_`` and ``-`` is replaced, and a hash keeps names apart."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80].lstrip(".")
    if cleaned == name:
        return name
    return f"{cleaned}~{hashlib.sha256(name.encode()).hexdigest()[:8]}"


class Drafts:
    """The drafts of one agent on one database (``scope``), each filed under a key that stays
    across restarts: the ticket number, not an id the demo makes anew at each start."""

    def __init__(self, directory: Path, agent: ObjectId, scope: str = "") -> None:
        self.directory = directory
        self.agent = agent
        self.scope = scope

    def path(self, ticket: ObjectId | str, *, internal: bool = False) -> Path:
        """The file of one draft: a reply and a note on the same ticket never share one."""
        mode = "note" if internal else "reply"
        scope = f"{_safe(self.scope)}-" if self.scope else ""
        return self.directory / f"{self.agent}-{scope}{_safe(str(ticket))}-{mode}.json"

    def refusal(self, ticket_id: ObjectId | str, *, internal: bool = False) -> str | None:
        """Why the saved draft will not be opened (too large, not a file), or None."""
        path = self.path(ticket_id, internal=internal)
        try:
            if path.is_dir():
                return f"the draft path {path} is a directory; drafts for this ticket are off"
            size = path.stat().st_size
        except OSError:
            return None
        if size > MAX_DRAFT_BYTES:
            return (
                f"the saved draft is {_size(size)}, over the {_size(MAX_DRAFT_BYTES)} limit; "
                f"it was not opened and stays in {path}"
            )
        return None

    def load(self, ticket_id: ObjectId | str, *, internal: bool = False) -> Draft | None:
        """The saved draft of that mode, or None if there is none, it is unreadable or too
        large (``refusal`` says why).

        Never raises. The file decides the mode: a draft read from the note file is a note,
        whatever its ``internal`` field says.
        """
        if self.refusal(ticket_id, internal=internal) is not None:
            return None
        try:
            data = json.loads(self.path(ticket_id, internal=internal).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        fields = {k: v for k, v in data.items() if k in Draft.__dataclass_fields__}
        strings = ("ticket_id", "text", "attachments", "saved_at")
        if any(not isinstance(fields.get(k, ""), str) for k in strings):
            return None
        if not isinstance(fields.get("internal", False), bool) or not isinstance(
            fields.get("status"), str | None
        ):
            return None
        extra = fields.get("extra", {})
        if not isinstance(extra, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
        ):
            fields["extra"] = {}  # ours (a pending message id): unreadable means none
        fields["internal"] = internal
        try:
            return Draft(**fields)
        except TypeError:
            return None

    def _refused(self, path: Path) -> bool:
        """Whether ``path`` holds a draft too large to open: the app said it "stays in" that
        path, so nothing here removes or overwrites it."""
        try:
            return path.is_file() and path.stat().st_size > MAX_DRAFT_BYTES
        except OSError:
            return False

    def set_aside(self, ticket_id: ObjectId | str, *, internal: bool = False) -> Path | None:
        """Move a too-large draft out of the way of a new one (next to it, ``.too-large``
        and a number if needed) and say where it went; None when there is none."""
        path = self.path(ticket_id, internal=internal)
        if not self._refused(path):
            return None
        for n in range(1, 1000):
            aside = path.with_name(f"{path.name}.too-large" + (f".{n}" if n > 1 else ""))
            if not aside.exists():
                path.rename(aside)
                return aside
        raise DraftError(f"draft not saved: an over-limit draft is in the way at {path}")

    def save(self, draft: Draft) -> Path | None:
        """Write atomically to the file of the draft's mode; an empty draft removes it instead.

        A too-large draft already there is never lost: an empty draft leaves it be, a new one
        first moves it aside, and the path it went to is returned (to tell the agent)."""
        if draft.is_empty:
            if self._refused(self.path(draft.ticket_id, internal=draft.internal)):
                return None
            problem = self.discard(draft.ticket_id, internal=draft.internal)
            if problem is not None:
                raise DraftError(problem)
            return None
        size = len(draft.text.encode("utf-8", "surrogatepass")) + len(draft.attachments)
        if size > MAX_DRAFT_BYTES:
            raise DraftError(
                f"draft not saved: {_size(size)} is over the {_size(MAX_DRAFT_BYTES)} limit"
            )
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".draft-", suffix=".json")
        except OSError as error:
            raise DraftError(
                f"draft not saved: {self.directory} is not a usable directory "
                f"({error.strerror or error})"
            ) from error
        try:
            moved = self.set_aside(draft.ticket_id, internal=draft.internal)
        except OSError as error:
            Path(temp).unlink(missing_ok=True)
            raise DraftError(
                f"draft not saved: the over-limit draft could not be moved aside ({error})"
            ) from error
        try:
            fields = asdict(draft)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # Text as text; a lone surrogate (pasted bytes) only survives as \u escapes.
                json.dump(fields, handle, ensure_ascii=not _encodable(fields))
            os.chmod(temp, 0o600)
            os.replace(temp, self.path(draft.ticket_id, internal=draft.internal))
        except OSError:
            Path(temp).unlink(missing_ok=True)
            raise
        return moved

    def discard(self, ticket_id: ObjectId | str, *, internal: bool = False) -> str | None:
        """Remove the draft; never raises (it runs after a reply was sent): what went wrong.
        A too-large draft (never opened, so never what was sent) is left where it is."""
        path = self.path(ticket_id, internal=internal)
        if self._refused(path):
            return None
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            return f"could not remove the draft {path} ({error.strerror or error})"
        return None
