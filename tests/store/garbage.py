"""Garbage for our own collections: each wrong BSON type a field can hold, planted beside
good records (issue 27: a malformed record of ours is skipped, never breaks a view)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

KINDS = ("missing", "string", "int", "null", "array", "subdocument")


def spoiled(doc: Mapping[str, Any], field: str, kind: str) -> dict[str, Any]:
    """``doc`` with ``field`` replaced by garbage of ``kind``. The array and the subdocument
    hold the good value (an array matches an ``$in`` on its elements: the nastiest kind)."""
    good = doc.get(field)
    bad = dict(doc)
    if kind == "missing":
        bad.pop(field, None)
    else:
        bad[field] = {
            "string": "garbage",
            "int": 7,
            "null": None,
            "array": [good],
            "subdocument": {"value": good},
        }[kind]
    return bad


def cases(fields: Iterable[str], allowed: Mapping[str, Iterable[str]] | None = None) -> list[Any]:
    """``pytest.param(field, kind)`` for every field and every kind of garbage, except the
    kinds ``allowed`` says a field may legitimately hold (e.g. null for an optional date)."""
    allowed = allowed or {}
    return [
        pytest.param(field, kind, id=f"{field}-{kind}")
        for field in fields
        for kind in KINDS
        if kind not in set(allowed.get(field, ()))
    ]
