"""Stored documents read as the schema's values, checked.

Every output field of a stored object is read by one function here, called by the
field's reader (``gateway.graphql.types``), which both the Strawberry resolvers and the
planned serializer (``gateway.graphql.completion``) call, so both paths answer alike.
A reader returns the value the field's GraphQL type serializes as is (a string, an int
within 32 bits, a naive UTC ``datetime``, an enum member...), or None for a nullable
field that is null or missing; a stored value of any other shape raises
``StoredDocumentInvalid`` naming the document and the field, which GraphQL reports as
a field error (null propagating to the nearest nullable parent - a list item for a
page of jobs) instead of guessing a value.

What the inventory service always writes is required (contract section 1): a job's
``job_id``, ``status``, ``domain_id`` and ``created_at``; a collector's
``collector_id`` and ``name``. A missing or null ``errors`` reads as the empty list,
as protobuf (the published API's form) reads an absent repeated field.

``owner`` names the document in an error; it is a function, called only when there is
an error to report (reading a page must not pay for naming every document).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from gateway.display import got
from gateway.errors import StoredDocumentInvalid

E = TypeVar("E", bound=Enum)
Document = Mapping[str, Any]
Owner = Callable[[], str]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL's Int
_MISSING: Any = object()


def job_name(doc: Document) -> str:
    """How error messages name a stored job: its ``job_id``, else its document id."""
    job_id = doc.get("job_id")
    if isinstance(job_id, str) and job_id:
        return f"job {job_id}"
    return f"job with _id {doc['_id']}" if "_id" in doc else "a job without job_id"


def collector_name(doc: Document) -> str:
    """How error messages name a stored collector."""
    collector_id = doc.get("collector_id")
    if isinstance(collector_id, str) and collector_id:
        return f"collector {collector_id}"
    return f"collector with _id {doc['_id']}" if "_id" in doc else "a collector without collector_id"


def _broken(owner: Owner, path: str, value: object, expected: str) -> StoredDocumentInvalid:
    shown = "missing" if value is _MISSING else got(value)
    return StoredDocumentInvalid(f"stored {owner()}: {path} is {shown}, not {expected}.")


def _get(doc: Document, key: str) -> Any:
    try:
        return doc.get(key, _MISSING)
    except AttributeError:  # not a document at all
        return _MISSING


def string(doc: Document, key: str, owner: Owner, *, required: bool = False, path: str | None = None) -> str | None:
    """A string field (None when null or missing, unless ``required``)."""
    value = _get(doc, key)
    if value.__class__ is str or isinstance(value, str):
        return value
    if value is _MISSING or value is None:
        if not required:
            return None
        raise _broken(owner, path or key, value, "a string (the field is required)")
    raise _broken(owner, path or key, value, "a string")


def integer(doc: Document, key: str, owner: Owner, *, path: str | None = None) -> int | None:
    """An int field that fits GraphQL's 32-bit Int (None when null or missing)."""
    value = _get(doc, key)
    if value.__class__ is int and INT_MIN <= value <= INT_MAX:
        return value
    if value is _MISSING or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not INT_MIN <= value <= INT_MAX:
        raise _broken(owner, path or key, value, "a 32-bit integer")
    return value


def boolean(doc: Document, key: str, owner: Owner, *, path: str | None = None) -> bool | None:
    """A bool field (None when null or missing)."""
    value = _get(doc, key)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, bool):
        raise _broken(owner, path or key, value, "true or false")
    return value


def instant(doc: Document, key: str, owner: Owner, *, required: bool = False) -> datetime | None:
    """A BSON datetime field (None when null or missing, unless ``required``)."""
    value = _get(doc, key)
    if isinstance(value, datetime):
        return value
    if (value is _MISSING or value is None) and not required:
        return None
    raise _broken(owner, key, value, "a date" + (" (the field is required)" if required else ""))


@cache
def _members(kind: type[Enum]) -> dict[Any, Enum]:
    return {member.value: member for member in kind}


def enum(
    kind: type[E], doc: Document, key: str, owner: Owner, *, required: bool = False, path: str | None = None
) -> E | None:
    """An enum field stored by name; a name the enum does not know is an error, not a null."""
    value = _get(doc, key)
    if value.__class__ is str:
        member = _members(kind).get(value)
        if member is not None:
            return member  # type: ignore[return-value]
    if (value is _MISSING or value is None) and not required:
        return None
    names = ", ".join(m.value for m in kind)
    suffix = " (the field is required)" if value is _MISSING or value is None else ""
    raise _broken(owner, path or key, value, f"one of {names}{suffix}")


def json_value(doc: Document, key: str) -> Any:
    """A free-form field as stored (the ``JSON`` scalar writes dates as wire timestamps
    and object ids as strings)."""
    value = _get(doc, key)
    return None if value is _MISSING else value


def sub_documents(doc: Document, key: str, owner: Owner) -> list[Document]:
    """A list of sub-documents; missing or null reads as the empty list."""
    value = _get(doc, key)
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, list):
        raise _broken(owner, key, value, "a list")
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise _broken(owner, f"{key}[{i}]", item, "an object")
    return value


def sub_document(doc: Document, key: str, owner: Owner) -> Document | None:
    """A sub-document (None when null or missing)."""
    value = _get(doc, key)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, Mapping):
        raise _broken(owner, key, value, "an object")
    return value
