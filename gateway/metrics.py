"""Prometheus metrics, one registry per app (no process-global state), and the store
wrapper that times every store call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gateway.store.base import Collection, Document, JobStore, ReadPurpose, SortSpec

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The operation label of a batched GraphQL request, and of operations outside the known set.
BATCH_OPERATION = "batch"
OTHER_OPERATION = "other"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's metrics. ``operations`` bounds the GraphQL operation label: a name
    comes from the client, so only these names (the trusted documents' operations)
    are labels of their own; any other is counted as ``other``."""

    def __init__(self, operations: Iterable[str] = ()) -> None:
        self.operations = frozenset(operations) | {"", BATCH_OPERATION}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "job_gateway_requests_total",
            "HTTP requests by route, GraphQL operation name and status.",
            ["route", "operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "job_gateway_request_duration_seconds",
            "HTTP request latency by route and GraphQL operation name.",
            ["route", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "job_gateway_store_call_duration_seconds",
            "Store call latency by method and collection.",
            ["method", "collection"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "job_gateway_errors_total", "Errors answered, by stable error code.", ["code"], registry=self.registry
        )
        self.subscriptions = Gauge(
            "job_gateway_subscriptions_active",
            "Subscriptions (jobChanged and jobsLive) open in this process.",
            registry=self.registry,
        )
        self.events = Counter(
            "job_gateway_subscription_events_total",
            "Job changes delivered to jobChanged subscribers.",
            registry=self.registry,
        )
        self.batches = Counter(
            "job_gateway_subscription_batches_total",
            "Batches of job changes matched against one domain's subscriptions (one query on the jobs each).",
            registry=self.registry,
        )

    def observe_request(self, route: str, operation: str, status: int, seconds: float) -> None:
        """Count one answered request (``job_gateway_requests_total``) and its latency
        in seconds (``job_gateway_request_duration_seconds``); an operation name outside
        ``operations`` is labelled ``other``."""
        operation = operation if operation in self.operations else OTHER_OPERATION
        self.requests.labels(route, operation, str(status)).inc()
        self.latency.labels(route, operation).observe(seconds)

    def error(self, code: str) -> None:
        """Count one error answered, by its stable code (``ERROR_...``, gateway.errors)."""
        self.errors.labels(code).inc()

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text exposition format (served as ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)


class InstrumentedStore:
    """A JobStore that records each call's latency; everything else passes through."""

    def __init__(self, inner: JobStore, metrics: Metrics) -> None:
        self._inner = inner
        self._latency = metrics.store_latency

    def _timer(self, method: str, collection: str) -> Any:
        return self._latency.labels(method, collection).time()

    async def find(
        self,
        collection: Collection,
        filter: Mapping[str, Any],
        *,
        projection: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[Document]:
        """``JobStore.find``, timed under the labels (``find``, collection)."""
        with self._timer("find", collection):
            return await self._inner.find(collection, filter, projection=projection, sort=sort, skip=skip, limit=limit)

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        """``JobStore.count``, timed under (``count``, collection)."""
        with self._timer("count", collection):
            return await self._inner.count(collection, filter)

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        """``JobStore.aggregate``, timed under (``aggregate``, collection)."""
        with self._timer("aggregate", collection):
            return await self._inner.aggregate(collection, pipeline, read=read)

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        """``JobStore.distinct``, timed under (``distinct``, collection)."""
        with self._timer("distinct", collection):
            return await self._inner.distinct(collection, key, filter)

    async def ping(self) -> None:
        """``JobStore.ping``, not timed (a health probe, not a query)."""
        await self._inner.ping()

    async def close(self) -> None:
        """``JobStore.close`` of the wrapped store."""
        await self._inner.close()
