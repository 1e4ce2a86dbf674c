"""What a GraphQL selection asks for, as wire field names, so the service fetches,
counts and looks up only that."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import SelectedField, Selection

from gateway.query.listing import JOB_FIELDS


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# The wire fields each Job field reads. `jobId` is always read besides, so that an error
# about a stored job can name it.
GRAPHQL_TO_WIRE: dict[str, tuple[str, ...]] = {
    **{_camel(name): (name,) for name in JOB_FIELDS},
    "id": ("job_id", "domain_id"),
}


def fields_of(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """Selected fields, looking through fragments (directives are not evaluated, so
    an `@skip`ped field is fetched anyway: over-fetching, never under-fetching)."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from fields_of(selection.selections)


def children(selections: Iterable[Selection], name: str) -> list[SelectedField]:
    """The sub-fields of every selection of field ``name`` (aliases merged)."""
    return [sub for f in fields_of(selections) if f.name == name for sub in fields_of(f.selections)]


def job_wire_fields(job_selections: Iterable[SelectedField]) -> frozenset[str]:
    """The wire fields to fetch for a selection of Job fields (``job_id`` always)."""
    return frozenset(("job_id", *(wire for f in job_selections for wire in GRAPHQL_TO_WIRE.get(f.name, ()))))
