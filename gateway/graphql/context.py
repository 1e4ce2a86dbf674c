"""Per-request GraphQL context: the service, the caller, and fresh DataLoaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.auth import Principal
from gateway.query.collectors import CollectorRef
from gateway.service import JobService

CollectorKey = tuple[str, CollectorRef]  # (domain the caller may read, reference)


def collector_loader(service: JobService) -> DataLoader[CollectorKey, Any]:
    """Collectors for every job of a response, batched: one store call per domain
    (one domain per request in practice), whatever the page size."""

    async def load(keys: Sequence[CollectorKey]) -> list[Any]:
        by_domain: dict[str, list[CollectorRef]] = defaultdict(list)
        for domain, ref in keys:
            by_domain[domain].append(ref)
        found: dict[CollectorKey, Any] = {}
        for domain, refs in by_domain.items():
            for ref, doc in zip(refs, await service.load_collectors(domain, refs), strict=True):
                found[(domain, ref)] = doc
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class GraphQLContext:
    """What the resolvers of one request (or one batch of operations) share. The
    transport authenticates the caller before execution: ``principal`` is None when
    authentication is off, or for an introspection-only request when it is public."""

    service: JobService
    principal: Principal | None = None
    request: Any = None
    collectors: DataLoader[CollectorKey, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.collectors = collector_loader(self.service)
