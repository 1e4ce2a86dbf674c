"""Output types. Scalar fields are plain attributes filled once from the stored
document; only `collectorInfo` resolves, through the per-request DataLoader."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry

from gateway.graphql.scalars import JSON, DateTime


@strawberry.enum(description="The state of a collection job.")
class JobStatus(Enum):
    CREATED = "CREATED"
    CANCELED = "CANCELED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"


@strawberry.enum(description="A status filter: `JOB_STATE_NONE` means no status filter.")
class JobStatusFilter(Enum):
    # The list request's own enum (the published API's), kept beside JobStatus.
    JOB_STATE_NONE = "JOB_STATE_NONE"
    CREATED = "CREATED"
    CANCELED = "CANCELED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"


@strawberry.enum
class CollectorState(Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@strawberry.enum
class UpgradeMode(Enum):
    NONE = "NONE"
    MANUAL = "MANUAL"
    AUTO = "AUTO"


def _enum(kind: type[Enum], value: Any) -> Any:
    # A value the enum does not know (a newer server's status) reads as null
    # rather than failing the whole response.
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


@strawberry.type
class ErrorInfo:
    error_code: str | None
    message: str | None
    additional: JSON | None

    @classmethod
    def from_doc(cls, doc: Any) -> ErrorInfo:
        doc = doc if isinstance(doc, Mapping) else {}
        return cls(error_code=doc.get("error_code"), message=doc.get("message"), additional=doc.get("additional"))


@strawberry.type
class PluginInfo:
    plugin_id: str | None
    version: str | None
    options: JSON | None
    secret_id: str | None
    secret_group_id: str | None
    provider: str | None
    service_account_id: str | None
    metadata: JSON | None
    upgrade_mode: UpgradeMode | None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PluginInfo:
        return cls(
            plugin_id=doc.get("plugin_id"),
            version=doc.get("version"),
            options=doc.get("options"),
            secret_id=doc.get("secret_id"),
            secret_group_id=doc.get("secret_group_id"),
            provider=doc.get("provider"),
            service_account_id=doc.get("service_account_id"),
            metadata=doc.get("metadata"),
            upgrade_mode=_enum(UpgradeMode, doc.get("upgrade_mode")),
        )


@strawberry.type(description="The collector a job ran with, in full.")
class CollectorInfo:
    collector_id: str | None
    name: str | None
    state: CollectorState | None
    plugin_info: PluginInfo | None
    priority: int | None
    tags: JSON | None
    provider: str | None
    capability: JSON | None
    is_public: bool | None
    project_id: str | None
    domain_id: str | None
    created_at: DateTime | None
    last_collected_at: DateTime | None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CollectorInfo:
        plugin = doc.get("plugin_info")
        return cls(
            collector_id=doc.get("collector_id"),
            name=doc.get("name"),
            state=_enum(CollectorState, doc.get("state")),
            plugin_info=PluginInfo.from_doc(plugin) if isinstance(plugin, Mapping) else None,
            priority=doc.get("priority"),
            tags=doc.get("tags"),
            provider=doc.get("provider"),
            capability=doc.get("capability"),
            is_public=doc.get("is_public"),
            project_id=doc.get("project_id"),
            domain_id=doc.get("domain_id"),
            created_at=doc.get("created_at"),
            last_collected_at=doc.get("last_collected_at"),
        )


@strawberry.type(description="One collection job.")
class Job:
    job_id: str | None
    status: JobStatus | None
    filter: JSON | None
    total_tasks: int | None
    remained_tasks: int | None
    errors: list[ErrorInfo] | None
    # Filled for a whole page at once through the request's DataLoader (see
    # resolvers.py), so that no job needs a resolver of its own.
    collector_info: CollectorInfo | None = strawberry.field(
        description="The job's collector, in full; null when it no longer exists."
    )
    project_id: str | None
    domain_id: str | None
    created_at: DateTime | None
    updated_at: DateTime | None
    finished_at: DateTime | None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], collector: CollectorInfo | None = None) -> Job:
        errors = doc.get("errors")
        return cls(
            job_id=doc.get("job_id"),
            status=_enum(JobStatus, doc.get("status")),
            filter=doc.get("filters"),
            total_tasks=doc.get("total_tasks"),
            remained_tasks=doc.get("remained_tasks"),
            errors=[ErrorInfo.from_doc(e) for e in errors] if isinstance(errors, list) else None,
            collector_info=collector,
            project_id=doc.get("project_id"),
            domain_id=doc.get("domain_id"),
            created_at=doc.get("created_at"),
            updated_at=doc.get("updated_at"),
            finished_at=doc.get("finished_at"),
        )


@strawberry.type
class JobsInfo:
    results: list[Job]
    total_count: int = strawberry.field(description="Every match, ignoring the page.")
