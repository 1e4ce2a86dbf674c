"""The published REST routes over the same service, answering in the published JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth import Authenticator, Principal
from gateway.encoding import encode_json
from gateway.errors import InvalidParameterType
from gateway.http.body import EMPTY, expect_object, parse_json, read_json
from gateway.query.collectors import CollectorRef, collector_ref
from gateway.rest.protojson import job_info
from gateway.service import JobService
from gateway.store.base import Document


class FastJSONResponse(JSONResponse):
    """Starlette's ``JSONResponse``, encoded by orjson (``encoding.encode_json``)."""

    def render(self, content: Any) -> bytes:
        """Compact JSON bytes of ``content``; an integer beyond 64 bits through the
        standard library."""
        return encode_json(content)


def _service(request: Request) -> JobService:
    service: JobService = request.state.service
    return service


def _principal(request: Request) -> Principal | None:
    authenticator: Authenticator = request.state.authenticator
    return authenticator.authenticate(request.headers.get("authorization"))


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (bounded in size and nesting); ``{}`` when empty."""
    settings = request.state.settings
    body = await read_json(request, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
    return {} if body is EMPTY else expect_object(body)


async def _list(request: Request, body: dict[str, Any], principal: Principal | None) -> FastJSONResponse:
    service = _service(request)
    page = await service.list_jobs(body, principal)
    collectors = await service.page_collectors(page) if "collector_info" in page.fields.fields else {}
    results = [job_info(job, _collector(collectors, job), page.fields) for job in page.jobs]
    return FastJSONResponse({"results": results, "total_count": page.total_count or 0})


def _collector(collectors: Mapping[CollectorRef, Document], job: Document) -> Document | None:
    ref = collector_ref(job)
    return None if ref is None else collectors.get(ref)


async def search_jobs(request: Request) -> JSONResponse:
    """``POST /inventory/v1/jobs/search`` (spec section 5): the list request as a JSON
    body, answered ``{"results": [job...], "total_count": n}`` in the published API's
    protobuf JSON form. The caller is authenticated before the body is read; errors
    (``GatewayError``) become ``{"error": {code, message}}`` with their status."""
    principal = _principal(request)  # who is calling, before reading what they send
    body = await read_json_object(request)
    return await _list(request, body, principal)


async def list_jobs(request: Request) -> JSONResponse:
    """``GET /inventory/v1/jobs`` (spec section 5): the list request from the query
    string, its shortcuts (``job_id``, ``status``, ...; a repeated name is a list) and
    ``query`` as a JSON string; answered as ``search_jobs``. Raises
    ``InvalidParameterType`` when ``query`` is given twice, ``InvalidRequestBody`` when
    it is not JSON or nests too deep."""
    principal = _principal(request)
    params: dict[str, Any] = {}
    for name in set(request.query_params):
        values = request.query_params.getlist(name)
        params[name] = values[0] if len(values) == 1 else values
    raw_query = params.get("query")
    if raw_query is not None:
        if not isinstance(raw_query, str):
            raise InvalidParameterType("query must be given once, as a JSON string.")
        params["query"] = parse_json(
            raw_query, max_depth=request.state.settings.max_json_depth, source="query parameter"
        )
    return await _list(request, params, principal)


async def stat_jobs(request: Request) -> JSONResponse:
    """``POST /inventory/v1/jobs/stat`` (spec sections 4 and 5): ``{"query":
    StatisticsQuery, "domain_id"}`` answered ``{"results": [row...]}`` (plus
    ``total_count`` when ``page.limit`` > 0), rows as computed."""
    principal = _principal(request)
    body = await read_json_object(request)
    return FastJSONResponse(await _service(request).stat(body, principal))


routes = [
    Route("/inventory/v1/jobs", list_jobs, methods=["GET"]),
    Route("/inventory/v1/jobs/search", search_jobs, methods=["POST"]),
    Route("/inventory/v1/jobs/stat", stat_jobs, methods=["POST"]),
]
