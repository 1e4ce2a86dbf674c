"""The costliest single requests the default limits still allow, on the demo data.

    python bench/worst_case.py            # every case, 3 runs each, on 3,000 demo jobs
    python bench/worst_case.py --quick    # one run each, on 300 demo jobs

Each case is built to sit just under the limits that bound it (body size, page size,
conditions, list values, keyword words, group fields, stages...). The script prints
each case's status, answer size, time (best of the runs) and the Python memory it
peaked at (tracemalloc, a separate run), then the largest answer and the longest
request. It runs in-process on the embedded engine: what one request can cost the
gateway itself (a real MongoDB adds its own work under `timeoutMS`).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.demo import DEMO_DOMAINS
from gateway.settings import Settings

SEARCH, STAT, GRAPHQL = "/inventory/v1/jobs/search", "/inventory/v1/jobs/stat", "/graphql"
JOB_FIELDS = """jobId status filter totalTasks remainedTasks projectId domainId createdAt updatedAt finishedAt
  errors { errorCode message additional }
  collectorInfo { collectorId name provider capability tags pluginInfo { pluginId version options metadata } }"""


def graphql_pages(settings: Settings, domain: str) -> str:
    """One document of as many aliased full pages as max_aliases allows."""
    pages = " ".join(
        f'a{i}: jobs(domainId: "{domain}", query: {{page: {{limit: {settings.max_page_size}, start: {i * 100 + 1}}}}}) '
        f"{{ results {{ {JOB_FIELDS} }} }}"
        for i in range(settings.max_aliases)
    )
    return "{ " + pages + " }"


def cases(settings: Settings) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (route, query) of the published routes at the default limits, each body
    under max_body_bytes (main adds the GraphQL document of the most aliased pages)."""
    body = settings.max_body_bytes - 4096  # room for the envelope
    n_values, n_conditions, n_patterns = settings.max_list_values, settings.max_conditions, settings.max_patterns
    per_value = body // (n_values * n_conditions) - 16  # JSON quotes, commas and the distinct prefix
    long_value = body // n_values - 8
    fields = settings.max_group_fields
    push_all = [{"name": f"p{i}", "operator": "push", "key": "errors"} for i in range(fields)]
    regex = "(x|xx)*" * ((settings.max_regex_length - 1) // 7) + "y"  # whole groups, just under the limit
    return {
        "list: a full page, every field": (SEARCH, {"page": {"limit": settings.max_page_size}}),
        "list: keyword, max words, body-sized": (
            SEARCH,
            {"keyword": " ".join("w" * (body // settings.max_keyword_words - 1) for _ in range(settings.max_keyword_words))},
        ),
        "list: one `in` of max values, body-sized": (
            SEARCH, {"filter": [{"k": "job_id", "v": ["x" * long_value] * n_values, "o": "in"}]},
        ),
        "list: max conditions of max `in` values": (
            SEARCH,
            {"filter": [{"k": "job_id", "v": [f"{c}-{i}-" + "x" * per_value for i in range(n_values)], "o": "in"}
                        for c in range(n_conditions)]},
        ),
        "list: max conditions of max `not_in` values": (
            SEARCH,
            {"filter": [{"k": "job_id", "v": [f"{c}-{i}-" + "x" * per_value for i in range(n_values)], "o": "not_in"}
                        for c in range(n_conditions)], "page": {"limit": settings.max_page_size}},
        ),
        "list: max patterns, body-sized literals": (
            SEARCH, {"filter": [{"k": "job_id", "v": ["x" * (body // n_patterns - 8)] * n_patterns, "o": "contain_in"}]},
        ),
        "list: max patterns, regexes of max length": (
            SEARCH, {"filter_or": [{"k": "job_id", "v": [regex] * n_patterns, "o": "regex_in"}]},
        ),
        "list: sorted by a collector field, full page": (
            SEARCH, {"sort": {"key": "collector_info.name"}, "page": {"limit": settings.max_page_size}},
        ),
        "stat: one row of max push fields (errors)": (STAT, {"aggregate": [{"group": {"fields": push_all}}]}),
        "stat: a row per job, max fields": (
            STAT,
            {"aggregate": [{"group": {"keys": [{"key": "job_id", "name": "id"}], "fields": push_all[:fields - 1]}}]},
        ),
        "stat: distinct job ids": (STAT, {"distinct": "job_id"}),
        "stat: max stages of unwind and group": (
            STAT,
            {"aggregate": [{"unwind": {"path": "errors"}}]
             + [{"group": {"keys": [{"key": "errors", "name": "errors"}], "fields": [{"name": "n", "operator": "count"}]}}]
             + [{"group": {"keys": [{"key": "errors", "name": "errors"}], "fields": [{"name": "n", "operator": "sum", "key": "n"}]}}]
             * (settings.max_stages - 2)},
        ),
        "stat: joined collector, grouped by it": (
            STAT,
            {"aggregate": [{"group": {"keys": [{"key": "collector_info.name", "name": "c"}, {"key": "job_id", "name": "j"}],
                                      "fields": push_all[:fields - 2]}}]},
        ),
    }  # fmt: skip


def measure(call: Callable[[], Any], runs: int) -> tuple[Any, float, int]:
    """(response, best time in seconds, peak traced bytes of one more run)."""
    best, response = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        response = call()
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return response, best, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each, on 300 demo jobs")
    args = parser.parse_args()
    settings = Settings(demo_jobs=300 if args.quick else 3000)
    runs = 1 if args.quick else 3
    domain = DEMO_DOMAINS[0]
    results = []
    requests = {
        name: (route, {"domain_id": domain, "query": query}) for name, (route, query) in cases(settings).items()
    }
    requests["graphql: max aliases of full pages"] = (GRAPHQL, {"query": graphql_pages(settings, domain)})
    with TestClient(create_app(settings)) as client:
        for name, (route, payload) in requests.items():
            request_bytes = len(json.dumps(payload))
            response, seconds, peak = measure(lambda: client.post(route, json=payload), runs)  # noqa: B023
            results.append((name, response.status_code, request_bytes, len(response.content), seconds, peak))
    print(f"{'case':<50} {'status':>6} {'request':>10} {'answer':>10} {'time ms':>9} {'peak MiB':>9}")
    for name, status, sent, size, seconds, peak in results:
        print(f"{name:<50} {status:>6} {sent:>10,} {size:>10,} {seconds * 1000:>9.1f} {peak / 2**20:>9.1f}")
    largest = max(results, key=lambda r: r[3])
    longest = max(results, key=lambda r: r[4])
    print(f"largest answer: {largest[3]:,} bytes ({largest[0]})")
    print(f"longest request: {longest[4] * 1000:.0f} ms ({longest[0]})")


if __name__ == "__main__":
    main()
