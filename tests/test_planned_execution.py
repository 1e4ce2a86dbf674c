"""Planned execution answers exactly as graphql-core's executor: generated operations
(aliases, merged keys, named and inline fragments, fragments on the Node interface,
@skip/@include by literal and by variable, __typename, several root fields) run both
ways over data with broken documents (field errors, null propagation, error paths),
and the responses must be identical - data in the same key order, errors alike."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from gateway.graphql.context import GraphQLContext
from gateway.graphql.plan import NotPlannable, booleans, plan_operation, select_operation
from gateway.graphql.schema import build_schema
from gateway.service import JobService
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset

LEAVES = {
    "Job": "id jobId status filter totalTasks remainedTasks projectId domainId createdAt updatedAt finishedAt",
    "CollectorInfo": "id collectorId name state priority tags provider capability isPublic projectId domainId "
    "createdAt lastCollectedAt",
    "ErrorInfo": "errorCode message additional",
    "PluginInfo": "pluginId version options secretId secretGroupId provider serviceAccountId metadata upgradeMode",
    "JobsInfo": "totalCount",
    "JobConnection": "totalCount",
    "JobEdge": "cursor",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
}
OBJECTS = {
    "Job": {"errors": "ErrorInfo", "collectorInfo": "CollectorInfo"},
    "CollectorInfo": {"pluginInfo": "PluginInfo"},
    "JobsInfo": {"results": "Job"},
    "JobConnection": {"edges": "JobEdge", "pageInfo": "PageInfo"},
    "JobEdge": {"node": "Job"},
}
NODES = frozenset({"Job", "CollectorInfo"})


class Generator:
    """Random operations over the planned types (a seeded ``random.Random``)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.fragments: dict[str, str] = {}

    def directive(self) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            return " @skip(if: $skip)"
        if roll < 0.16:
            return " @include(if: $show)"
        if roll < 0.2:
            return f" @include(if: {self.rng.choice(['true', 'false'])})"
        return ""

    def selection(self, type_name: str, depth: int) -> str:
        rng = self.rng
        leaves = LEAVES[type_name].split()
        # An alias always names the same field (`{field}A`), so keys never conflict.
        chosen = rng.sample(leaves, rng.randint(1, len(leaves)))
        parts = [f"{rng.choice(['', f + 'A: '])}{f}{self.directive()}" for f in chosen]
        for name, child in OBJECTS.get(type_name, {}).items():
            if depth < 4 and rng.random() < 0.7:
                parts.append(f"{name}{self.directive()} {{ {self.selection(child, depth + 1)} }}")
        if rng.random() < 0.3:
            parts.append("__typename")
        if type_name in NODES and rng.random() < 0.3:
            parts.append(f"... on Node{self.directive()} {{ id }}")
        if rng.random() < 0.3:
            parts.append(f"... on {type_name} {{ {rng.choice(leaves)} }}")
        if rng.random() < 0.2:
            name = f"F{len(self.fragments)}"
            self.fragments[name] = ""  # reserved: a fragment never spreads itself
            self.fragments[name] = f"fragment {name} on {type_name} {{ {self.selection(type_name, depth + 1)} }}"
            parts.append(f"...{name}{self.directive()}")
        rng.shuffle(parts)
        if rng.random() < 0.2:
            parts.append(parts[0])  # the same key twice: merged
        return " ".join(parts)

    def operation(self) -> str:
        rng = self.rng
        roots = []
        for i in range(rng.randint(1, 3)):
            alias = f"r{i}: "
            kind = rng.choice(["jobs", "job", "connection", "jobs", "job", "connection", "counts", "stat"])
            if kind == "jobs":
                args = rng.choice(
                    [
                        "",
                        ", query: {page: {limit: 3}}",
                        ", where: {status: {ne: SUCCESS}}",
                        ", query: {page: {limit: $n}}",
                    ]
                )
                roots.append(f'{alias}jobs(domainId: "{D1}"{args}) {{ {self.selection("JobsInfo", 0)} }}')
            elif kind == "job":
                job = rng.choice(["job-000000000002", "job-00000000abcd", "job-0000000old04", "job-missing"])
                roots.append(f'{alias}job(domainId: "{D1}", jobId: "{job}") {{ {self.selection("Job", 1)} }}')
            elif kind == "counts":
                group = rng.choice(["[STATUS]", "[PROVIDER, COLLECTOR]", "[PERIOD]", "[]"])
                fields = "count status provider period periodStart collector { name provider } __typename"
                roots.append(f'{alias}jobCounts(domainId: "{D1}", groupBy: {group}, period: MONTH) {{ {fields} }}')
            elif kind == "stat":
                roots.append(f'{alias}jobStat(domainId: "{D1}", query: {{distinct: "status"}})')
            else:
                page = rng.choice(["first: 2", "last: 3", "first: 10"])
                roots.append(
                    f'{alias}jobConnection(domainId: "{D1}", {page}) {{ {self.selection("JobConnection", 0)} }}'
                )
        if rng.random() < 0.2:
            roots.append("__typename")
        if rng.random() < 0.2:  # root fields inside an inline fragment on Query
            roots[0] = f"... on Query {{ {roots[0]} }}"
        fragments = " ".join(self.fragments.values())
        body = f"{{ {' '.join(roots)} }} {fragments}"
        definitions = ("$skip: Boolean = false", "$show: Boolean = true", "$n: Int = 2")
        declared = [d for d in definitions if d.split(":")[0] in body]
        return f"query Generated{'(' + ', '.join(declared) + ')' if declared else ''} {body}"


def broken_dataset() -> dict[str, list[dict[str, Any]]]:
    """The test dataset with stored documents that break the schema's promises."""
    data = dataset()
    jobs = {j["job_id"]: j for j in data["job"]}
    jobs["job-000000000002"]["errors"].append({"error_code": 404, "message": None})
    jobs["job-00000000abcd"]["status"] = "PAUSED"
    jobs["job-00000000abcd"]["total_tasks"] = "three"
    del jobs["job-0000000000c6"]["created_at"]
    jobs["job-000000000007"]["errors"] = "none"
    jobs["job-0000000old04"]["finished_at"] = "yesterday"
    collectors = {c["collector_id"]: c for c in data["collector"]}
    del collectors["collector-gcp000000002"]["name"]
    collectors["collector-aws000000001"]["plugin_info"]["upgrade_mode"] = "SOMETIMES"
    collectors["collector-old000000004"]["priority"] = 2**40
    return data


@pytest.fixture(scope="module")
def service() -> JobService:
    return JobService(memory_with(broken_dataset()), clock=fixed_clock)


def execute(schema: Any, service: JobService, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    async def run() -> Any:
        return await schema.execute(document, variable_values=variables, context_value=GraphQLContext(service=service))

    result = asyncio.run(run())
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [e.formatted for e in result.errors]
    return out


# Generous document limits: the generated operations are large, and valid.
LIMITS = Settings(max_aliases=10_000, max_query_depth=50, max_tokens=1_000_000)
PLANNED, REFERENCE = build_schema(LIMITS), build_schema(LIMITS, planned=False)
SEEDS = range(150)


@pytest.mark.parametrize("seed", SEEDS)
def test_planned_and_graphql_core_answer_alike(service: JobService, seed: int) -> None:
    rng = random.Random(seed)
    document = Generator(rng).operation()
    variables = {"skip": rng.random() < 0.5, "show": rng.random() < 0.5}
    planned = execute(PLANNED, service, document, variables)
    reference = execute(REFERENCE, service, document, variables)
    invalid = [
        e for e in reference.get("errors", ()) if e["extensions"].get("reason") == "ERROR_INVALID_GRAPHQL_DOCUMENT"
    ]
    assert invalid == [], document
    # Data identical, keys in the same order; errors identical root field by root field
    # (GraphQL leaves the order of errors of different root fields, which graphql-core
    # completes concurrently, unspecified).
    assert json.dumps(planned["data"]) == json.dumps(reference["data"]), document
    assert by_root(planned) == by_root(reference), document


def by_root(response: dict[str, Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in response.get("errors", ()):
        grouped.setdefault(str((error.get("path") or [None])[0]), []).append(json.dumps(error))
    return grouped


def test_the_generated_operations_are_planned(service: JobService) -> None:
    """The comparison above is between two executors: every generated operation is
    one the planner takes (none falls back to graphql-core)."""
    from graphql import parse

    schema = PLANNED._schema
    for seed in SEEDS:
        rng = random.Random(seed)
        document = parse(Generator(rng).operation())
        operation = select_operation(document, None)
        variables = {"skip": rng.random() < 0.5, "show": rng.random() < 0.5}
        names = [n for n in ("skip", "show") if f"${n}" in Generator(random.Random(seed)).operation()]
        plan_operation(schema, document, operation, booleans(operation, names, variables))


def test_the_generated_data_has_errors_to_compare(service: JobService) -> None:
    document = f'{{ jobs(domainId: "{D1}") {{ results {{ jobId status totalTasks createdAt finishedAt errors {{ errorCode }} collectorInfo {{ name priority pluginInfo {{ upgradeMode }} }} }} }} }}'
    reference = execute(REFERENCE, service, document, {})
    assert len(reference["errors"]) >= 6
    assert None in reference["data"]["jobs"]["results"]


@pytest.mark.parametrize(
    "document",
    [
        "{ __schema { queryType { name } } }",
        f'{{ jobs(domainId: "{D1}") {{ totalCount }} node(id: "x") {{ id }} }}',
        f'query($id: ID!) {{ jobs(domainId: "{D1}") {{ totalCount }} nodes(ids: [$id]) {{ id }} }}',
        f'{{ jobs(domainId: "{D1}") {{ totalCount @deprecated }} }}',
    ],
)
def test_what_the_plan_does_not_cover_is_left_to_graphql_core(service: JobService, document: str) -> None:
    from graphql import parse

    parsed = parse(document)
    with pytest.raises(NotPlannable):
        plan_operation(PLANNED._schema, parsed, select_operation(parsed, None), {})
    assert execute(PLANNED, service, document, {}) == execute(REFERENCE, service, document, {})
