"""``$group`` accumulators, as MongoDB computes them
(https://www.mongodb.com/docs/manual/reference/operator/aggregation/group/#accumulator-operator).

- ``$sum``: the numbers added up (non-numbers, arrays included, ignored); 0 when none.
- ``$avg``: the mean of the numbers; null when none.
- ``$max``/``$min``: by BSON order, null and missing ignored; null when none.
- ``$first``/``$last``: the value of the first/last document, missing as null.
- ``$push``: every value, missing ones left out.
- ``$addToSet``: every distinct value (BSON equality), missing left out.
- ``$mergeObjects``: the objects merged in order, null and missing ignored; any other
  value is an error (MongoDB 40400).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bson import Decimal128

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.store.bsonorder import MISSING, is_number, sort_key


class Accumulator:
    """Collects the values of one group; ``result`` answers for the group."""

    def add(self, value: Any) -> None:
        """Take the value one document gives (``bsonorder.MISSING`` when the document
        has none), in the pipeline's document order."""
        raise NotImplementedError

    def result(self) -> Any:
        """The group's value, once every document was added."""
        raise NotImplementedError


def _number(value: Any) -> Any:
    return value.to_decimal() if isinstance(value, Decimal128) else value


class Sum(Accumulator):
    """``$sum``: the numbers added up."""

    def __init__(self) -> None:
        self.total: Any = 0

    def add(self, value: Any) -> None:
        """Add a number (int, float; Decimal128 as ``Decimal``); ignore anything else,
        arrays, null and missing included, as MongoDB does."""
        if is_number(value):
            self.total += _number(value)

    def result(self) -> Any:
        """The total: 0 when no number was added."""
        return self.total


class Avg(Accumulator):
    """``$avg``: the mean of the numbers."""

    def __init__(self) -> None:
        self.total: Any = 0
        self.count = 0

    def add(self, value: Any) -> None:
        """Count a number in (Decimal128 as ``Decimal``); ignore anything else."""
        if is_number(value):
            self.total += _number(value)
            self.count += 1

    def result(self) -> Any:
        """The mean as a float (a ``Decimal`` if a Decimal128 was added); null when no
        number was added."""
        if not self.count:
            return None
        if isinstance(self.total, Decimal):
            return self.total / self.count
        return float(self.total) / self.count


class Extreme(Accumulator):
    """``$max`` (``largest``) or ``$min``: by BSON comparison order."""

    def __init__(self, largest: bool) -> None:
        self.largest = largest
        self.best: Any = MISSING
        self.key: Any = None

    def add(self, value: Any) -> None:
        """Keep ``value`` if it passes the best so far (the first of equals stays);
        null and missing are ignored."""
        if value is None or value is MISSING:
            return
        key = sort_key(value)
        if self.best is MISSING or (key > self.key if self.largest else key < self.key):
            self.best, self.key = value, key

    def result(self) -> Any:
        """The largest (smallest) value; null when only null or missing was added."""
        return None if self.best is MISSING else self.best


class First(Accumulator):
    """``$first``: the first document's value, whatever it is."""

    def __init__(self) -> None:
        self.value: Any = MISSING
        self.seen = False

    def add(self, value: Any) -> None:
        """Keep the first value added, null and missing included."""
        if not self.seen:
            self.value, self.seen = value, True

    def result(self) -> Any:
        """The kept value; a missing one as null (as MongoDB)."""
        return None if self.value is MISSING else self.value


class Last(First):
    """``$last``: the last document's value, whatever it is."""

    def add(self, value: Any) -> None:
        """Keep the latest value added, null and missing included."""
        self.value = value


class Push(Accumulator):
    """``$push``: every value, in document order."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> None:
        """Append ``value``, null included; a missing one is left out."""
        if value is not MISSING:
            self.values.append(value)

    def result(self) -> Any:
        """The values as a list; empty when none."""
        return self.values


class AddToSet(Push):
    """``$addToSet``: every distinct value (equal by BSON comparison, so 1 and 1.0 are
    one), in the order first seen; MongoDB leaves the order unspecified."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[Any] = set()

    def add(self, value: Any) -> None:
        """Append ``value`` unless an equal one is there; missing is left out."""
        if value is MISSING:
            return
        key = sort_key(value)
        if key not in self.keys:
            self.keys.add(key)
            self.values.append(value)


class MergeObjects(Accumulator):
    """``$mergeObjects``: the objects merged, a later one's fields winning."""

    def __init__(self) -> None:
        self.merged: dict[str, Any] = {}

    def add(self, value: Any) -> None:
        """Merge an object in; null and missing are ignored. Raises ``QueryRejected``
        for any other value, as MongoDB's error 40400."""
        if value is None or value is MISSING:
            return
        if not isinstance(value, dict):
            raise QueryRejected(
                f"the database rejected the query: $mergeObjects requires object inputs, not {json_text(value)}."
            )
        self.merged.update(value)

    def result(self) -> Any:
        """The merged object; ``{}`` when none was added."""
        return self.merged


ACCUMULATORS: dict[str, Callable[[], Accumulator]] = {
    "$sum": Sum,
    "$avg": Avg,
    "$max": lambda: Extreme(largest=True),
    "$min": lambda: Extreme(largest=False),
    "$first": First,
    "$last": Last,
    "$push": Push,
    "$addToSet": AddToSet,
    "$mergeObjects": MergeObjects,
}


def accumulator(op: str) -> Callable[[], Accumulator]:
    """The factory of accumulator ``op``; refuses the ones the engine lacks."""
    if op not in ACCUMULATORS:
        raise UnsupportedByEngine(f"the embedded engine does not implement the accumulator {op}.")
    return ACCUMULATORS[op]
