"""A collection of the embedded engine: documents partitioned by ``domain_id``, with the
in-memory indexes the gateway's access paths use.

Every read is scoped to one domain, so each domain's documents form a partition. Within
it: ``created_at`` in order (the default sort, time windows), per ``status`` in
``created_at`` order (status filters, and status with a time window), and hash indexes
on ``job_id``, ``collector_id`` and ``_id``. An index only chooses candidates: every
candidate is checked by the whole filter (``matching``), so answers never depend on
which index was used. Documents whose indexed field is not a plain value (missing,
null, an array, another type) are kept beside each index and always checked, never
lost. A count whose filter the indexes answer exactly (the domain, a status set, a time
window) is read off the indexes.
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from bson import ObjectId

from gateway.store.bsonorder import OBJECT_ID, sort_key, utc
from gateway.store.budget import checked
from gateway.store.fieldpaths import query_values
from gateway.store.matching import compile_filter
from gateway.store.pipeline import lookup_keys
from gateway.store.sorting import SortSpec, sort_key_function

Document = dict[str, Any]
PARTITION_FIELD, TIME_FIELD, CATEGORY_FIELD = "domain_id", "created_at", "status"
HASH_FIELDS = ("job_id", "collector_id", "_id")
# Values a hash index holds (equal as Python values exactly when equal in MongoDB); any
# other value (arrays, objects, numbers, null...) is kept beside the index.
_HASHABLE = frozenset({str, ObjectId})
_IRREGULAR = object()  # the partition of documents whose domain_id is not a string


@dataclass
class _Ordered:
    """Documents whose time field is a date, in (time, _id) order."""

    times: list[datetime] = field(default_factory=list)
    docs: list[Document] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)  # each document's insertion number

    def numbered(
        self, low: tuple[datetime, bool] | None, high: tuple[datetime, bool] | None
    ) -> list[tuple[int, Document]]:
        """The window's documents with their insertion numbers."""
        lo, hi = self.window(low, high)
        return list(zip(self.seqs[lo:hi], self.docs[lo:hi], strict=True))

    def window(self, low: tuple[datetime, bool] | None, high: tuple[datetime, bool] | None) -> tuple[int, int]:
        """The index range of documents inside the window (bounds: instant, inclusive)."""
        lo = 0 if low is None else (bisect_left if low[1] else bisect_right)(self.times, low[0])
        hi = len(self.times) if high is None else (bisect_right if high[1] else bisect_left)(self.times, high[0])
        return lo, max(lo, hi)


@dataclass
class _Partition:
    docs: list[Document] = field(default_factory=list)
    by_time: _Ordered = field(default_factory=_Ordered)
    time_irregular: list[Document] = field(default_factory=list)
    by_category: dict[str, _Ordered] = field(default_factory=dict)
    category_time_irregular: dict[str, list[Document]] = field(default_factory=dict)
    category_irregular: list[Document] = field(default_factory=list)
    hashed: dict[str, dict[Any, list[Document]]] = field(default_factory=dict)
    hash_irregular: dict[str, list[Document]] = field(default_factory=dict)

    def build(self, seq: Mapping[int, int]) -> None:
        """(Re)build every index of the partition from ``docs``, in one pass."""
        timed: list[tuple[datetime, Any, int, Document]] = []
        self.time_irregular, self.category_irregular = [], []
        self.category_time_irregular = {}
        self._build_hashes()
        for doc in self.docs:
            at, category = doc.get(TIME_FIELD), doc.get(CATEGORY_FIELD)
            if type(at) is datetime:
                timed.append((at, _id_key(doc.get("_id")), seq[id(doc)], doc))
            else:
                self.time_irregular.append(doc)
                if type(category) is str:
                    self.category_time_irregular.setdefault(category, []).append(doc)
            if type(category) is not str:
                self.category_irregular.append(doc)
        timed.sort(key=_first_three)
        self.by_time = _Ordered([t[0] for t in timed], [t[3] for t in timed], [t[2] for t in timed])
        grouped: dict[str, _Ordered] = {}
        for at, _, number, doc in timed:
            category = doc.get(CATEGORY_FIELD)
            if type(category) is str:
                ordered = grouped.get(category)
                if ordered is None:
                    ordered = grouped[category] = _Ordered()
                ordered.times.append(at)
                ordered.docs.append(doc)
                ordered.seqs.append(number)
        self.by_category = grouped

    @staticmethod
    def alike(old: Document, new: Document) -> bool:
        """Whether ``old`` and ``new`` index alike: the same values, of the same types,
        in every indexed field (a job's progress)."""
        return all(_indexed(old, name) == _indexed(new, name) for name in _INDEXED_FIELDS)

    def swap(self, old: Document, new: Document) -> None:
        """Put ``new`` in the place of ``old`` in every index without rebuilding; the
        two must index ``alike`` (``Table._built_alike`` checks)."""
        category = new.get(CATEGORY_FIELD)
        lists = [self.docs, self.by_time.docs, self.time_irregular, self.category_irregular]
        if type(category) is str:
            ordered = self.by_category.get(category)
            lists += [ordered.docs if ordered else [], self.category_time_irregular.get(category, [])]
        for name in HASH_FIELDS:
            value = new.get(name)
            lists.append(self.hashed.get(name, {}).get(value, []) if type(value) in _HASHABLE else [])
            lists.append(self.hash_irregular.get(name, []))
        for docs in lists:
            for i, doc in enumerate(docs):
                if doc is old:
                    docs[i] = new

    def _build_hashes(self) -> None:
        self.hashed = {name: {} for name in HASH_FIELDS}
        self.hash_irregular = {name: [] for name in HASH_FIELDS}
        for name in HASH_FIELDS:
            table, odd = self.hashed[name], self.hash_irregular[name]
            for doc in self.docs:
                value = doc.get(name)
                if type(value) in _HASHABLE:
                    entries = table.get(value)
                    if entries is None:
                        table[value] = [doc]
                    else:
                        entries.append(doc)
                else:
                    odd.append(doc)


_INDEXED_FIELDS = (PARTITION_FIELD, TIME_FIELD, CATEGORY_FIELD, *HASH_FIELDS)


def _indexed(doc: Document, name: str) -> tuple[type, Any]:
    value = doc.get(name, _IRREGULAR)
    return type(value), value


def _first_three(entry: tuple[datetime, Any, int, Document]) -> tuple[datetime, Any, int]:
    return entry[0], entry[1], entry[2]


def _partition_key(doc: Document) -> Any:
    key = doc.get(PARTITION_FIELD)
    return key if type(key) is str else _IRREGULAR


def _id_key(value: Any) -> Any:
    """The sort key of an ``_id`` (ObjectIds, the usual case, by their bytes)."""
    return (OBJECT_ID, value.binary) if type(value) is ObjectId else sort_key(value)


@dataclass(frozen=True)
class _Plan:
    """What the filter tells the indexes (each part None when it tells nothing)."""

    partition: Any = None
    categories: tuple[str, ...] | None = None
    low: tuple[datetime, bool] | None = None
    high: tuple[datetime, bool] | None = None
    hashed: tuple[str, tuple[Any, ...]] | None = None
    exact: bool = False  # the filter is the partition, categories and window alone


class Table:
    """One collection's documents and indexes. Reads may run in several threads at
    once; a write (``insert``, ``replace``) must run alone (``scheduler``), and the
    indexes it leaves to rebuild are rebuilt by one reader while the others wait."""

    def __init__(self) -> None:
        self._preparing = threading.Lock()
        self._docs: list[Document] = []
        self._seq: dict[int, int] = {}
        self._ids: set[Any] = set()
        self._by_id: dict[Any, Document] = {}
        self._partitions: dict[Any, _Partition] = {}
        self._dirty: set[Any] = set()
        self._lookups: dict[str, dict[Any, list[Document]]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def insert(self, docs: list[Document]) -> Document | None:
        """Add ``docs``; or, if one's ``_id`` is taken (here or earlier in ``docs``),
        add none and give that one."""
        keys = [_id_key(doc.get("_id")) for doc in docs]
        if len(set(keys)) < len(keys) or not self._ids.isdisjoint(keys):
            seen = set(self._ids)
            for key, doc in zip(keys, docs, strict=True):
                if key in seen:
                    return doc
                seen.add(key)
        self._ids.update(keys)
        for key, doc in zip(keys, docs, strict=True):
            self._by_id[key] = doc
            self._seq[id(doc)] = len(self._docs)
            self._docs.append(doc)
            partition = _partition_key(doc)
            self._partitions.setdefault(partition, _Partition()).docs.append(doc)
            self._dirty.add(partition)
        self._lookups.clear()
        return None

    def replace(self, doc: Document) -> Document | None:
        """Put ``doc`` in the place of the document with its ``_id`` (in insertion order;
        in its indexes as they are when it indexes as the old one did, else its partition
        is re-indexed at the next read); the document replaced, or None when there is
        none (then nothing changes). A live demo's writes (``--simulate``)."""
        key = _id_key(doc.get("_id"))
        old = self._by_id.get(key)
        if old is None:
            return None
        seq = self._seq.pop(id(old))
        self._docs[seq], self._seq[id(doc)], self._by_id[key] = doc, seq, doc
        self._lookups.clear()
        built = self._built_alike(old, doc)
        if built is not None:
            built.swap(old, doc)
            return old  # indexed alike (a job's progress): its indexes stay as they are
        for partition_key, replacing in ((_partition_key(old), old), (_partition_key(doc), None)):
            partition = self._partitions.setdefault(partition_key, _Partition())
            if replacing is not None:
                partition.docs[:] = [d for d in partition.docs if d is not replacing]
            else:
                partition.docs.append(doc)
            self._dirty.add(partition_key)
        return old

    def _built_alike(self, old: Document, new: Document) -> _Partition | None:
        """``old``'s partition when its indexes are built and ``new`` indexes alike
        (``_Partition.alike``): then ``new`` can take ``old``'s place in them as it is."""
        key = _partition_key(old)
        built = self._partitions.get(key) if key not in self._dirty else None
        return built if built is not None and _Partition.alike(old, new) else None

    def update(self, old: Document, new: Document) -> Document:
        """Make the stored document ``old`` hold ``new`` (the same ``_id``, every field
        of ``old``, in its order, and perhaps more after them); the document stored.
        Where every index holds the two alike (a job's progress) ``old`` is changed in
        place: nothing is allocated but the values set, no reader runs meanwhile (a
        write runs alone) and every read copies what it answers. Otherwise ``new``
        takes ``old``'s place (``replace``)."""
        if self._built_alike(old, new) is not None:
            old.update(new)
            self._lookups.clear()
            return old
        self.replace(new)
        return new

    def prepare(self) -> None:
        """Build the indexes of the partitions that changed."""
        for key in self._dirty:
            self._partitions[key].build(self._seq)
        self._dirty.clear()

    def _ready(self) -> None:
        if self._dirty:
            with self._preparing:
                if self._dirty:
                    self.prepare()

    # -- reads ------------------------------------------------------------------

    def count(self, filter: Mapping[str, Any]) -> int:
        """How many documents match ``filter`` (MongoDB's ``countDocuments``): from the
        domain partition's indexes when the filter is exactly answerable by them, else
        by matching every candidate."""
        self._ready()
        plan = _plan(filter)
        if plan.exact and plan.partition is not None and _IRREGULAR not in self._partitions:
            partition = self._partitions.get(plan.partition)
            if partition is None:
                return 0
            predicate = compile_filter(filter)
            regular, odd = _exact_count(partition, plan)
            return regular + sum(1 for d in checked(odd) if predicate(d))
        return len(self.select(filter))

    def select(self, filter: Mapping[str, Any]) -> list[Document]:
        """The matching documents, in insertion order."""
        self._ready()
        plan = _plan(filter)
        predicate = compile_filter(filter)
        partition = self._partitions.get(plan.partition)
        seq = self._seq
        if plan.exact and partition is not None and _IRREGULAR not in self._partitions:
            exact, odd = _exact_rows(partition, plan)
            numbered = exact + [(seq[id(d)], d) for d in checked(odd) if predicate(d)]
        else:
            numbered = [(seq[id(d)], d) for d in checked(self._candidates(plan)) if predicate(d)]
        numbered.sort(key=_first)
        return [d for _, d in numbered]

    def find(self, filter: Mapping[str, Any], sort: SortSpec | None, skip: int, limit: int) -> list[Document]:
        """The matching documents in ``sort`` order, ``skip`` and ``limit`` applied."""
        self._ready()
        plan = _plan(filter)
        predicate = compile_filter(filter)
        wanted = skip + limit if limit else None
        if sort and _by_time(sort) and plan.hashed is None:
            key = sort_key_function(sort)
            ordered = (d for d in checked(self._time_ordered(plan, sort[0][1] < 0, key)) if predicate(d))
            rows = list(_take(ordered, wanted))
        else:
            matches = [d for d in checked(self._candidates(plan)) if predicate(d)]
            if sort:
                key = sort_key_function(sort)
                rows = heapq.nsmallest(wanted, matches, key=key) if wanted else sorted(matches, key=key)
            else:
                seq = self._seq
                rows = sorted(matches, key=lambda d: seq[id(d)])
        return rows[skip:wanted]

    def position(self, doc: Document) -> int:
        """Where ``doc`` stands in insertion (natural) order."""
        return self._seq[id(doc)]

    def index_on(self, path: str) -> Mapping[Any, list[Document]]:
        """Every document by the keys of its ``path`` values (for ``$lookup``)."""
        index = self._lookups.get(path)
        if index is None:
            values = query_values(path)
            index = {}
            for doc in self._docs:
                for key in lookup_keys(values(doc)):
                    index.setdefault(key, []).append(doc)
            self._lookups[path] = index
        return index

    # -- planning ---------------------------------------------------------------

    def _partitions_of(self, plan: _Plan) -> list[_Partition]:
        if plan.partition is None:
            return list(self._partitions.values())
        return [p for p in (self._partitions.get(plan.partition), self._partitions.get(_IRREGULAR)) if p is not None]

    def _candidates(self, plan: _Plan) -> Iterator[Document]:
        for partition in self._partitions_of(plan):
            yield from _partition_candidates(partition, plan)

    def _time_ordered(self, plan: _Plan, descending: bool, key: Any) -> Iterator[Document]:
        """Candidates in the order of a sort on the time field (then ``_id``)."""
        streams: list[Iterable[Document]] = []
        odd: list[Document] = []
        for partition in self._partitions_of(plan):
            if plan.categories is not None:
                for category in plan.categories:
                    ordered = partition.by_category.get(category)
                    if ordered is not None:
                        streams.append(_walk(ordered, plan, descending))
                    odd += partition.category_time_irregular.get(category, ())
                odd += partition.category_irregular
            else:
                streams.append(_walk(partition.by_time, plan, descending))
                odd += partition.time_irregular
        streams.append(sorted(odd, key=key))
        return heapq.merge(*streams, key=key)


def _take(items: Iterator[Document], count: int | None) -> Iterator[Document]:
    for i, item in enumerate(items):
        if count is not None and i >= count:
            return
        yield item


def _walk(ordered: _Ordered, plan: _Plan, descending: bool) -> Iterator[Document]:
    """The window's documents by time (ascending or descending), ties by ``_id`` ascending."""
    lo, hi = ordered.window(plan.low, plan.high)
    docs, times = ordered.docs, ordered.times
    if not descending:
        yield from docs[lo:hi]
        return
    i = hi
    while i > lo:
        j = i - 1
        while j > lo and times[j - 1] == times[i - 1]:
            j -= 1
        yield from docs[j:i]
        i = j


def _partition_candidates(partition: _Partition, plan: _Plan) -> Iterable[Document]:
    options: list[tuple[int, Iterable[Document]]] = [(len(partition.docs), partition.docs)]
    if plan.hashed is not None:
        name, values = plan.hashed
        table = partition.hashed[name]
        found = list(chain.from_iterable(table.get(v, ()) for v in values))
        odd = partition.hash_irregular[name]
        options.append((len(found) + len(odd), chain(found, odd)))
    if plan.low is not None or plan.high is not None:
        lo, hi = partition.by_time.window(plan.low, plan.high)
        options.append(
            (hi - lo + len(partition.time_irregular), chain(partition.by_time.docs[lo:hi], partition.time_irregular))
        )
    if plan.categories is not None:
        parts: list[Iterable[Document]] = []
        size = len(partition.category_irregular)
        for category in plan.categories:
            ordered = partition.by_category.get(category)
            if ordered is not None:
                lo, hi = ordered.window(plan.low, plan.high)
                parts.append(ordered.docs[lo:hi])
                size += hi - lo
            extra = partition.category_time_irregular.get(category, [])
            parts.append(extra)
            size += len(extra)
        parts.append(partition.category_irregular)
        options.append((size, chain.from_iterable(parts)))
    return min(options, key=lambda o: o[0])[1]


def _first(pair: tuple[int, Document]) -> int:
    return pair[0]


def _exact_rows(partition: _Partition, plan: _Plan) -> tuple[list[tuple[int, Document]], list[Document]]:
    """For an exact plan: the documents the indexes answer for (with their insertion
    numbers), and the ones they cannot answer for (to be checked one by one)."""
    if plan.categories is None:
        return partition.by_time.numbered(plan.low, plan.high), partition.time_irregular
    rows: list[tuple[int, Document]] = []
    odd = list(partition.category_irregular)
    for category in plan.categories:
        ordered = partition.by_category.get(category)
        if ordered is not None:
            rows += ordered.numbered(plan.low, plan.high)
        odd += partition.category_time_irregular.get(category, ())
    return rows, odd


def _exact_count(partition: _Partition, plan: _Plan) -> tuple[int, list[Document]]:
    """For an exact plan: the count read off the indexes, and the documents the indexes
    cannot answer for (to be checked one by one)."""
    if plan.categories is None:
        lo, hi = partition.by_time.window(plan.low, plan.high)
        return hi - lo, partition.time_irregular
    total = 0
    odd = list(partition.category_irregular)
    for category in plan.categories:
        ordered = partition.by_category.get(category)
        if ordered is not None:
            lo, hi = ordered.window(plan.low, plan.high)
            total += hi - lo
        odd += partition.category_time_irregular.get(category, ())
    return total, odd


def _by_time(sort: SortSpec) -> bool:
    return len(sort) in (1, 2) and sort[0][0] == TIME_FIELD and (len(sort) == 1 or tuple(sort[1]) == ("_id", 1))


def _conjuncts(filter: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in filter.items():
        if key == "$and" and isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            for sub in value:
                out += _conjuncts(sub)
        else:
            out.append((key, value))
    return out


def domain_of(filter: Mapping[str, Any]) -> Any:
    """The domain (partition) whose documents ``filter`` reads, or None when it names
    none: a query's turn in the engine's scheduler."""
    return _plan(filter).partition if isinstance(filter, Mapping) else None


def _plan(filter: Mapping[str, Any]) -> _Plan:
    """What ``filter``'s conjuncts tell the indexes. Each part is a set (``$in`` is set
    membership: a value listed twice is one value), and conjuncts on the same field
    intersect: the tightest bounds of a window win, an exclusive bound over an
    inclusive one at the same instant."""
    partition: Any = None
    categories: tuple[str, ...] | None = None
    low: tuple[datetime, bool] | None = None
    high: tuple[datetime, bool] | None = None
    hashed: tuple[str, tuple[Any, ...]] | None = None
    exact = True
    for key, value in _conjuncts(filter):
        ops = _ops(value)
        if key == PARTITION_FIELD and ops is not None and set(ops) == {"$eq"} and type(ops["$eq"]) is str:
            if partition is not None and partition != ops["$eq"]:
                exact = False  # two domains: only a document holding both (an array) can match
            partition = ops["$eq"] if partition is None else partition
        elif key == CATEGORY_FIELD and ops is not None and (found := _strings(ops)) is not None:
            found = tuple(dict.fromkeys(found))
            categories = found if categories is None else tuple(c for c in categories if c in found)
        elif key == TIME_FIELD and ops is not None and all(type(v) is datetime for v in ops.values()):
            for op, operand in ops.items():
                instant = utc(operand)
                if op in ("$gt", "$gte", "$eq"):
                    low = _tighter(low, (instant, op != "$gt"), above=True)
                if op in ("$lt", "$lte", "$eq"):
                    high = _tighter(high, (instant, op != "$lt"), above=False)
        elif key in HASH_FIELDS and ops is not None and (values := _strings(ops, _HASHABLE)) is not None:
            if hashed is None or len(set(values)) < len(set(hashed[1])):
                hashed = (key, tuple(dict.fromkeys(values)))
            exact = False
        else:
            exact = False
    return _Plan(partition, categories, low, high, hashed, exact)


def _tighter(
    bound: tuple[datetime, bool] | None, other: tuple[datetime, bool], *, above: bool
) -> tuple[datetime, bool]:
    """The tighter of two lower (``above``) or upper bounds (instant, inclusive)."""
    if bound is None or bound[0] != other[0]:
        return other if bound is None or (other[0] > bound[0]) == above else bound
    return (bound[0], bound[1] and other[1])


def _ops(value: Any) -> dict[str, Any] | None:
    """A condition as operators (an implicit equality as ``$eq``), or None if not plain."""
    if isinstance(value, Mapping):
        if value and all(k in ("$eq", "$in", "$gt", "$gte", "$lt", "$lte") for k in value):
            return dict(value)
        return None
    if isinstance(value, list):
        return None
    return {"$eq": value}


def _strings(ops: Mapping[str, Any], kinds: frozenset[type] = frozenset({str})) -> tuple[Any, ...] | None:
    """The values an ``$eq``/``$in`` of ``kinds`` (strings) admits (None: not of that shape)."""
    if set(ops) == {"$eq"} and type(ops["$eq"]) in kinds:
        return (ops["$eq"],)
    if set(ops) == {"$in"} and isinstance(ops["$in"], list) and all(type(v) in kinds for v in ops["$in"]):
        return tuple(ops["$in"])
    return None
