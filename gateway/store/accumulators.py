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
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError


def _number(value: Any) -> Any:
    return value.to_decimal() if isinstance(value, Decimal128) else value


class Sum(Accumulator):
    def __init__(self) -> None:
        self.total: Any = 0

    def add(self, value: Any) -> None:
        if is_number(value):
            self.total += _number(value)

    def result(self) -> Any:
        return self.total


class Avg(Accumulator):
    def __init__(self) -> None:
        self.total: Any = 0
        self.count = 0

    def add(self, value: Any) -> None:
        if is_number(value):
            self.total += _number(value)
            self.count += 1

    def result(self) -> Any:
        if not self.count:
            return None
        if isinstance(self.total, Decimal):
            return self.total / self.count
        return float(self.total) / self.count


class Extreme(Accumulator):
    def __init__(self, largest: bool) -> None:
        self.largest = largest
        self.best: Any = MISSING
        self.key: Any = None

    def add(self, value: Any) -> None:
        if value is None or value is MISSING:
            return
        key = sort_key(value)
        if self.best is MISSING or (key > self.key if self.largest else key < self.key):
            self.best, self.key = value, key

    def result(self) -> Any:
        return None if self.best is MISSING else self.best


class First(Accumulator):
    def __init__(self) -> None:
        self.value: Any = MISSING
        self.seen = False

    def add(self, value: Any) -> None:
        if not self.seen:
            self.value, self.seen = value, True

    def result(self) -> Any:
        return None if self.value is MISSING else self.value


class Last(First):
    def add(self, value: Any) -> None:
        self.value = value


class Push(Accumulator):
    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> None:
        if value is not MISSING:
            self.values.append(value)

    def result(self) -> Any:
        return self.values


class AddToSet(Push):
    def __init__(self) -> None:
        super().__init__()
        self.keys: set[Any] = set()

    def add(self, value: Any) -> None:
        if value is MISSING:
            return
        key = sort_key(value)
        if key not in self.keys:
            self.keys.add(key)
            self.values.append(value)


class MergeObjects(Accumulator):
    def __init__(self) -> None:
        self.merged: dict[str, Any] = {}

    def add(self, value: Any) -> None:
        if value is None or value is MISSING:
            return
        if not isinstance(value, dict):
            raise QueryRejected(
                f"the database rejected the query: $mergeObjects requires object inputs, not {json_text(value)}."
            )
        self.merged.update(value)

    def result(self) -> Any:
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
