"""Where the process learns of job changes - one source per process, whatever the
number of subscribers:

- a store that streams its changes (``ChangeFeed``: MongoDB's change stream on a replica
  set, with full documents; the embedded engine's own events) is watched once, and
  after a network error or a failover the watch resumes after the last change seen, by
  its resume token, so no change is lost
  (https://www.mongodb.com/docs/manual/changeStreams/#resume-a-change-stream);
- a MongoDB without change streams (a standalone server) is polled: jobs whose
  ``updated_at`` moved past the last one seen, every ``interval``, said loudly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from gateway.errors import GatewayError, StoreUnavailable
from gateway.store.base import JOB, Change, ChangesUnsupported, JobStore

log = logging.getLogger("gateway.live")

RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
POLL_PAGE = 1000


class ChangeSource:
    """The changes of the job collection, from ``store``: its change stream when it has
    one (resumed after errors), else polling every ``poll_seconds``."""

    def __init__(self, store: JobStore, *, poll_seconds: float = 1.0) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.resume_token: Any = None  # of the last change seen
        self.polling = False
        self.resumes = 0  # how many times the stream was resumed after an error
        self.ready = asyncio.Event()  # set once changes are watched (stream open, or polling begun)

    async def changes(self) -> AsyncIterator[Change]:
        """Every change from now on, without end (cancel the consumer to stop)."""
        watch = getattr(self.store, "watch", None)
        if watch is not None:
            try:
                async for change in self._stream():
                    yield change
                return
            except ChangesUnsupported as exc:
                reason = str(exc)
        else:
            reason = "the store has no change stream"
        log.warning(
            "LIVE UPDATES BY POLLING: %s; jobs are polled for updated_at every %.1f s (subscribers learn of a "
            "change up to that late). Run MongoDB as a replica set for change streams.",
            reason,
            self.poll_seconds,
        )
        self.polling = True
        async for change in self._poll():
            yield change

    async def _stream(self) -> AsyncIterator[Change]:
        failures = 0
        while True:
            try:
                async for change in self.store.watch(  # type: ignore[attr-defined]
                    JOB, resume_after=self.resume_token, opened=self.ready.set
                ):
                    failures = 0
                    self.resume_token = change.resume_token
                    yield change
            except GatewayError as exc:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                self.resumes += 1
                if isinstance(exc, StoreUnavailable):
                    log.warning("change stream interrupted (%s); resuming in %.1f s", exc.message, delay)
                else:
                    # Rejected by the server (e.g. the resume token fell off the oplog: error
                    # 286 ChangeStreamHistoryLost): resuming cannot work, so watch again from
                    # now (changes in between are lost, said loudly) rather than end live updates.
                    self.resume_token = None
                    log.error("change stream failed (%s); watching again from now in %.1f s", exc.message, delay)
                await asyncio.sleep(delay)

    async def _poll(self) -> AsyncIterator[Change]:
        since: datetime | None = None
        seen: dict[Any, datetime] = {}  # the jobs at `since` exactly, already reported
        while True:
            try:
                if since is None:  # from now on: the newest change is the starting point
                    newest = await self.store.find(
                        JOB, {}, projection={"updated_at": 1}, sort=[("updated_at", -1)], limit=1
                    )
                    at = newest[0].get("updated_at") if newest else None
                    since = at if isinstance(at, datetime) else datetime.min
                    current = await self.store.find(JOB, {"updated_at": {"$eq": since}}, projection={"_id": 1})
                    seen = {doc["_id"]: since for doc in current}
                    self.ready.set()
                else:
                    found = await self.store.find(
                        JOB,
                        {"updated_at": {"$gte": since}},
                        sort=[("updated_at", 1), ("_id", 1)],
                        limit=POLL_PAGE,
                    )
                    for doc in found:
                        at = doc.get("updated_at")
                        if not isinstance(at, datetime) or seen.get(doc["_id"]) == at:
                            continue
                        if at > since:
                            since, seen = at, {}
                        seen[doc["_id"]] = at
                        yield Change("insert" if doc.get("created_at") == at else "update", doc["_id"], doc)
            except GatewayError as exc:
                log.warning("polling for changes failed (%s); trying again", exc.message)
            await asyncio.sleep(self.poll_seconds)
