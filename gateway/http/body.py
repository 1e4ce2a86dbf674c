"""The one reader of JSON request bodies, for every route (REST and ``/graphql``),
and of JSON carried in query parameters.

A body is bounded twice before it is parsed: in size (``max_body_bytes``: by its
declared ``Content-Length``, then as it streams in) and in nesting
(``max_json_depth``: counted on the raw text, so that neither the parser nor any code
that walks the value later recurses without bound). Its strings must be Unicode: an
escaped unpaired surrogate (``"\ud800"``) is refused, as no UTF-8 answer could carry
it back. The refusals are client errors: ``PayloadTooLarge`` (413) and
``InvalidRequestBody`` (400).
"""

from __future__ import annotations

import json
import math
import re
from functools import partial
from itertools import accumulate, count
from operator import sub
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from gateway.display import got, json_fault
from gateway.errors import InvalidRequestBody, PayloadTooLarge

# A JSON string as the JSON lexer sees it, or an unterminated one running to the end
# (so that the scan never restarts inside it: linear time on any input).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# Each bracket as its step plus one (an opening one 2, a closing one 0): unsigned bytes.
_STEP_PLUS_ONE = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Python's refusal of an integer beyond sys.get_int_max_str_digits.
_TOO_MANY_DIGITS = re.compile(r"Exceeds the limit \((\d+) digits\).*has (\d+) digits")
# A body larger than this is parsed off the event loop (reading it costs tens of
# milliseconds per megabyte), so that other requests are answered meanwhile.
OFF_LOOP_BYTES = 64 * 1024


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (0 for a scalar); brackets inside
    strings do not count. For invalid JSON, the depth its valid prefix reaches."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode().translate(_STEP_PLUS_ONE)
    # The depth after the i-th bracket (from 1) is the sum of the steps plus one, less
    # i. Iterated by C code alone (no Python call per bracket): the body's size is
    # bounded, but its reading must not cost a Python step per value.
    return max(0, max(map(sub, accumulate(brackets), count(1)), default=0))


def parse_json(raw: bytes | str, *, max_depth: int, source: str = "request body") -> Any:
    """The JSON value of ``raw`` (UTF-8, RFC 8259), with integers kept exact.

    Raises ``InvalidRequestBody`` naming ``source`` when it is not UTF-8, not JSON, or
    nests deeper than ``max_depth``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidRequestBody(f"{source} is not UTF-8.") from None
    # Cheap first: a text with few brackets cannot nest deeply.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise InvalidRequestBody(f"{source} nests deeper than the limit max_json_depth ({max_depth}).")
    try:
        # Integers are read by the parser's own C code (no callback per number).
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_double)
    except _NumberOutOfRange as exc:
        raise InvalidRequestBody(f"{source} has {exc}.") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequestBody(f"{source} is not valid JSON: {json_fault(exc)}.") from None
    except ValueError as exc:
        digits = _TOO_MANY_DIGITS.search(str(exc))
        if digits:  # Python refuses to read it (sys.get_int_max_str_digits)
            limit, count = digits.groups()
            raise InvalidRequestBody(f"{source} has an integer of {count} digits (more than {limit}).") from None
        raise InvalidRequestBody(f"{source} is not valid JSON: {exc}.") from None
    if _SURROGATE_ESCAPE.search(text) and not _unicode(value):
        raise InvalidRequestBody(f"{source} has a string with an unpaired UTF-16 surrogate (not a character).")
    return value


def _unicode(value: Any) -> bool:
    """Whether every string (keys included) of a parsed JSON value is valid Unicode:
    written back as UTF-8 by C code alone (no Python step per value)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _NumberOutOfRange(Exception):
    """A JSON number no value of the API can hold (it says which, in JSON's words)."""


def _double(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # beyond a double (RFC 8259 section 6: interoperable range)
        raise _NumberOutOfRange(f"a number beyond the range of a double: {text[:40]}")
    return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259 section 6), whatever Python's parser allows.
    raise ValueError(f"{name} is not a JSON value")


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The raw body, refused with ``PayloadTooLarge`` as soon as it is known to be over
    ``max_bytes``: by its declared length before reading, or as it streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"request body is {int(declared)} bytes; the limit max_body_bytes is {max_bytes}.")
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > max_bytes:
            raise PayloadTooLarge(f"request body is over the limit max_body_bytes ({max_bytes} bytes).")
        chunks.append(chunk)
    return b"".join(chunks)


def expect_object(value: Any, what: str = "the request body") -> dict[str, Any]:
    """``value`` if it is a JSON object, else ``InvalidRequestBody`` naming ``what``."""
    if not isinstance(value, dict):
        raise InvalidRequestBody(f"{what} must be a JSON object, got {got(value)}.")
    return value


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()  # what ``read_json`` answers for a body with nothing in it (JSON null is None)


async def read_json(request: Request, *, max_bytes: int, max_depth: int) -> Any:
    """The body's JSON value (bounded as the module says); ``EMPTY`` for a body that is
    empty or only whitespace."""
    raw = await read_body(request, max_bytes=max_bytes)
    if not raw.strip():
        return EMPTY
    if len(raw) > OFF_LOOP_BYTES:
        return await anyio.to_thread.run_sync(partial(parse_json, raw, max_depth=max_depth))
    return parse_json(raw, max_depth=max_depth)
