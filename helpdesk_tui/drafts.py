"""Reply drafts on local disk, so a crash or a dropped SSH link loses nothing typed.

One JSON file per (agent, ticket), written atomically (temp file + rename) with mode 0600:
drafts hold customer data and live in the agent's own XDG state directory.
"""

from __future__ import annotations

import json
import os
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


class Drafts:
    def __init__(self, directory: Path, agent: ObjectId) -> None:
        self.directory = directory
        self.agent = agent

    def path(self, ticket_id: ObjectId | str) -> Path:
        return self.directory / f"{self.agent}-{ticket_id}.json"

    def refusal(self, ticket_id: ObjectId | str) -> str | None:
        """Why the saved draft will not be opened (too large, not a file), or None."""
        path = self.path(ticket_id)
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

    def load(self, ticket_id: ObjectId | str) -> Draft | None:
        """The saved draft, or None if there is none, it is unreadable or too large (never
        raises; ``refusal`` says why)."""
        if self.refusal(ticket_id) is not None:
            return None
        try:
            data = json.loads(self.path(ticket_id).read_text(encoding="utf-8"))
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
        try:
            return Draft(**fields)
        except TypeError:
            return None

    def save(self, draft: Draft) -> None:
        """Write atomically; an empty draft removes the file instead."""
        if draft.is_empty:
            problem = self.discard(draft.ticket_id)
            if problem is not None:
                raise DraftError(problem)
            return
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
            fields = asdict(draft)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # Text as text; a lone surrogate (pasted bytes) only survives as \u escapes.
                json.dump(fields, handle, ensure_ascii=not _encodable(fields))
            os.chmod(temp, 0o600)
            os.replace(temp, self.path(draft.ticket_id))
        except OSError:
            Path(temp).unlink(missing_ok=True)
            raise

    def discard(self, ticket_id: ObjectId | str) -> str | None:
        """Remove the draft; never raises (it runs after a reply was sent): what went wrong."""
        path = self.path(ticket_id)
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            return f"could not remove the draft {path} ({error.strerror or error})"
        return None
