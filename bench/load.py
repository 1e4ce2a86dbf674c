"""A small HTTP/1.1 load generator: keep-alive connections on asyncio streams, no
dependencies, so the client costs little next to the server it measures."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any = None

    def encode(self, host: str) -> bytes:
        payload = b"" if self.body is None else json.dumps(self.body).encode()
        head = (
            f"{self.method} {self.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
        )
        return head.encode() + payload


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    elapsed: float = 0.0

    def merge(self, other: Result) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def one(host: str, port: int, request: Request) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request.encode(host))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


async def _worker(host: str, port: int, request: bytes, until: float, result: Result, check: Any) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status, body = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            if status != 200 or (check is not None and not check(body)):
                result.errors += 1
    finally:
        writer.close()


async def drive(
    host: str, port: int, request: Request, *, concurrency: int, seconds: float, check: Any = None
) -> Result:
    """Send ``request`` from ``concurrency`` connections, each waiting for its answer,
    for ``seconds``."""
    result = Result()
    encoded = request.encode(host)
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_worker(host, port, encoded, until, result, check) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def graphql_ok(body: bytes) -> bool:
    # A GraphQL error object starts with "message"; a job's `errors` items with "errorCode".
    return b'"errors":[{"message"' not in body
