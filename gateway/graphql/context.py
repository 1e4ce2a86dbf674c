"""Per-request GraphQL context: the service, the caller, and fresh DataLoaders."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.auth import Principal
from gateway.query.collectors import CollectorRef
from gateway.service import JobService

# (domain the caller may read, the collectors one field needs): one key per page, so a
# page of any size costs one future, and every page of a request one store call.
CollectorKey = tuple[str, tuple[CollectorRef, ...]]


def collector_loader(service: JobService) -> DataLoader[CollectorKey, Any]:
    """Collectors for every field of a request that needs some (a page's, a dashboard's,
    `node`'s), batched: ONE store call for all the keys loaded in the same tick, whatever
    their number, their page sizes and their domains. Each key's value is the list of
    its collectors' documents, in order (None where gone)."""

    async def load(keys: Sequence[CollectorKey]) -> list[Any]:
        by_domain: dict[str, dict[CollectorRef, None]] = defaultdict(dict)
        for domain, refs in keys:
            by_domain[domain].update(dict.fromkeys(refs))
        loaded = await service.load_collectors_of({domain: list(refs) for domain, refs in by_domain.items()})
        found = {
            (domain, ref): doc
            for domain, refs in by_domain.items()
            for ref, doc in zip(refs, loaded[domain], strict=True)
        }
        return [[found[(domain, ref)] for ref in refs] for domain, refs in keys]

    return DataLoader(load_fn=load, cache=False)


@dataclass
class GraphQLContext:
    """What the resolvers of one request (or one batch of operations) share. The
    transport authenticates the caller before execution: ``principal`` is None when
    authentication is off, or for an introspection-only request when it is public."""

    service: JobService
    principal: Principal | None = None
    request: Any = None
    hub: Any = None  # the process's ChangeHub (gateway.live.hub), for subscriptions
    connection_params: Any = None  # graphql-transport-ws's connection_init payload
    collectors: DataLoader[CollectorKey, Any] = field(init=False)
    _pages: int = field(init=False, default=0)
    _settled: asyncio.Event = field(init=False)

    def __post_init__(self) -> None:
        self.collectors = collector_loader(self.service)
        self._settled = asyncio.Event()
        self._settled.set()

    @asynccontextmanager
    async def reading_page(self) -> AsyncIterator[None]:
        """Around the store read of a page: ``pages_read`` waits for it."""
        self._pages += 1
        self._settled.clear()
        try:
            yield
        finally:
            self._pages -= 1
            if not self._pages:
                self._settled.set()

    async def pages_read(self) -> None:
        """Wait until no page of this request is still being read, so that the
        collectors of every page (of every operation of a batch, which run at once) are
        asked for together: one store call, however the store's threads interleave."""
        await self._settled.wait()
