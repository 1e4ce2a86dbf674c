"""Output types (contract section 6). Each wraps a stored document and reads its
fields through ``gateway.graphql.stored``, checked: non-null exactly where the inventory
service always writes the field, and a stored value that breaks the schema is a field
error naming the document. ``collectorInfo`` comes filled for a whole page at once
(through the request's DataLoader, see ``resolvers.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.graphql import stored
from gateway.graphql.ids import global_id
from gateway.graphql.scalars import JSON, DateTime

Document = Mapping[str, Any]
Reader = Callable[[Any], Any]

# (GraphQL type name, field name) -> the function reading that field of a source
# object: what the Strawberry resolver runs, and what the planned serializer
# (gateway.graphql.completion) calls directly.
READERS: dict[tuple[str, str], Reader] = {}
# (GraphQL type name, field name) -> (stored key, kind): the reader returns the source's
# `doc[key]` unchanged when it is of the kind's type, and (for a nullable field) None
# when it is null or missing ("string":
# str, "integer": an int within 32 bits, "boolean", "instant": datetime, "enum": a
# name the enum knows, as its member; "json": any value). The planned serializer reads
# such a field directly, and calls the reader for anything else.
PLAIN: dict[tuple[str, str], tuple[str, str]] = {}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def reads(*, description: str, plain: tuple[str, str] | None = None) -> Callable[[Reader], Any]:
    """``strawberry.field(description=...)`` over a method that reads the source object;
    the method is registered in ``READERS`` under its type's and field's GraphQL names,
    and ``plain`` (stored key, kind) in ``PLAIN`` (see there)."""

    def register(method: Reader) -> Any:
        name = (method.__qualname__.split(".")[0], _camel(method.__name__))
        READERS[name] = method
        if plain is not None:
            PLAIN[name] = plain
        return strawberry.field(description=description)(method)

    return register


@strawberry.enum(description="The state of a collection job.")
class JobStatus(Enum):
    CREATED = strawberry.enum_value("CREATED", description="Created, not started yet.")
    CANCELED = strawberry.enum_value("CANCELED", description="Canceled before it finished.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Running: `remainedTasks` counts down.")
    SUCCESS = strawberry.enum_value("SUCCESS", description="Finished; every task succeeded.")
    ERROR = strawberry.enum_value("ERROR", description="Finished with errors (see `errors`).")
    TIMEOUT = strawberry.enum_value("TIMEOUT", description="Did not finish in time.")


@strawberry.enum(description="A status filter of the published list request: `JOB_STATE_NONE` means no status filter.")
class JobStatusFilter(Enum):
    # The list request's own enum (the published API's), kept beside JobStatus.
    JOB_STATE_NONE = strawberry.enum_value("JOB_STATE_NONE", description="No status filter.")
    CREATED = strawberry.enum_value("CREATED", description="Jobs created, not started yet.")
    CANCELED = strawberry.enum_value("CANCELED", description="Jobs canceled.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Jobs running.")
    SUCCESS = strawberry.enum_value("SUCCESS", description="Jobs finished successfully.")
    ERROR = strawberry.enum_value("ERROR", description="Jobs finished with errors.")
    TIMEOUT = strawberry.enum_value("TIMEOUT", description="Jobs that timed out.")


@strawberry.enum(description="Whether a collector runs.")
class CollectorState(Enum):
    ENABLED = strawberry.enum_value("ENABLED", description="Collects on schedule.")
    DISABLED = strawberry.enum_value("DISABLED", description="Switched off.")


@strawberry.enum(description="How a collector's plugin is upgraded.")
class UpgradeMode(Enum):
    NONE = strawberry.enum_value("NONE", description="Never upgraded.")
    MANUAL = strawberry.enum_value("MANUAL", description="Upgraded by an operator.")
    AUTO = strawberry.enum_value("AUTO", description="Upgraded automatically to the latest version.")


@strawberry.interface(
    description="An object with a global id (Relay Global Object Identification): refetch it with `node(id:)`."
)
class Node:
    @strawberry.field(description="Opaque, stable, global: the same object always has the same id.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError


@strawberry.type(description="One error a job met.")
class ErrorInfo:
    doc: strawberry.Private[Document]
    owner: strawberry.Private[stored.Owner]
    at: strawberry.Private[str]

    @reads(description="The error's code, e.g. `ERROR_TASK_TIMEOUT`.", plain=("error_code", "string"))
    def error_code(self) -> str | None:
        return stored.string(self.doc, "error_code", self.owner, path=f"{self.at}.error_code")

    @reads(description="What happened, for people.", plain=("message", "string"))
    def message(self) -> str | None:
        return stored.string(self.doc, "message", self.owner, path=f"{self.at}.message")

    @reads(description="Free-form details.", plain=("additional", "json"))
    def additional(self) -> JSON | None:
        return stored.json_value(self.doc, "additional")


@strawberry.type(description="The plugin a collector runs.")
class PluginInfo:
    doc: strawberry.Private[Document]
    owner: strawberry.Private[stored.Owner]

    def _string(self, key: str) -> str | None:
        return stored.string(self.doc, key, self.owner, path=f"plugin_info.{key}")

    @reads(description="The plugin's id.", plain=("plugin_id", "string"))
    def plugin_id(self) -> str | None:
        return self._string("plugin_id")

    @reads(description="The plugin's version.", plain=("version", "string"))
    def version(self) -> str | None:
        return self._string("version")

    @reads(description="The plugin's options (free-form).", plain=("options", "json"))
    def options(self) -> JSON | None:
        return stored.json_value(self.doc, "options")

    @reads(description="The secret the plugin collects with.", plain=("secret_id", "string"))
    def secret_id(self) -> str | None:
        return self._string("secret_id")

    @reads(description="The secret group the plugin collects with.", plain=("secret_group_id", "string"))
    def secret_group_id(self) -> str | None:
        return self._string("secret_group_id")

    @reads(description="The cloud provider the plugin collects from.", plain=("provider", "string"))
    def provider(self) -> str | None:
        return self._string("provider")

    @reads(description="The service account the plugin collects with.", plain=("service_account_id", "string"))
    def service_account_id(self) -> str | None:
        return self._string("service_account_id")

    @reads(description="The plugin's metadata (free-form).", plain=("metadata", "json"))
    def metadata(self) -> JSON | None:
        return stored.json_value(self.doc, "metadata")

    @reads(description="How the plugin is upgraded.", plain=("upgrade_mode", "enum"))
    def upgrade_mode(self) -> UpgradeMode | None:
        return stored.enum(UpgradeMode, self.doc, "upgrade_mode", self.owner, path="plugin_info.upgrade_mode")


@strawberry.type(description="The collector a job ran with, in full.")
class CollectorInfo(Node):
    doc: strawberry.Private[Document]

    def _owner(self) -> str:
        return stored.collector_name(self.doc)

    @reads(description="Global id: refetch this collector with `node(id:)`.")
    def id(self) -> strawberry.ID:
        domain = stored.string(self.doc, "domain_id", self._owner, required=True)
        key = stored.string(self.doc, "collector_id", self._owner, required=True)
        return strawberry.ID(global_id("CollectorInfo", str(domain), str(key)))

    @reads(description="The collector's id, e.g. `collector-2c0847644f39`.", plain=("collector_id", "string"))
    def collector_id(self) -> str:
        return str(stored.string(self.doc, "collector_id", self._owner, required=True))

    @reads(description="The collector's display name.", plain=("name", "string"))
    def name(self) -> str:
        return str(stored.string(self.doc, "name", self._owner, required=True))

    @reads(description="Whether the collector runs.", plain=("state", "enum"))
    def state(self) -> CollectorState | None:
        return stored.enum(CollectorState, self.doc, "state", self._owner)

    @reads(description="The plugin the collector runs.")
    def plugin_info(self) -> PluginInfo | None:
        plugin = stored.sub_document(self.doc, "plugin_info", self._owner)
        return None if plugin is None else PluginInfo(doc=plugin, owner=self._owner)

    @reads(description="The collector's priority.", plain=("priority", "integer"))
    def priority(self) -> int | None:
        return stored.integer(self.doc, "priority", self._owner)

    @reads(description="The collector's tags (free-form).", plain=("tags", "json"))
    def tags(self) -> JSON | None:
        return stored.json_value(self.doc, "tags")

    @reads(description="The cloud provider the collector collects from, e.g. `aws`.", plain=("provider", "string"))
    def provider(self) -> str | None:
        return stored.string(self.doc, "provider", self._owner)

    @reads(description="What the collector supports (free-form).", plain=("capability", "json"))
    def capability(self) -> JSON | None:
        return stored.json_value(self.doc, "capability")

    @reads(
        description="Whether the collector is shared with every project of its domain.", plain=("is_public", "boolean")
    )
    def is_public(self) -> bool | None:
        return stored.boolean(self.doc, "is_public", self._owner)

    @reads(description="The project the collector belongs to.", plain=("project_id", "string"))
    def project_id(self) -> str | None:
        return stored.string(self.doc, "project_id", self._owner)

    @reads(description="The domain (tenant) the collector belongs to.", plain=("domain_id", "string"))
    def domain_id(self) -> str:
        # Non-null as Job.domainId: a collector is only ever read in the caller's domain
        # (collectors_filter), so a stored one without it is a broken document.
        return str(stored.string(self.doc, "domain_id", self._owner, required=True))

    @reads(description="When the collector was created.", plain=("created_at", "instant"))
    def created_at(self) -> DateTime | None:
        return _instant(stored.instant(self.doc, "created_at", self._owner))

    @reads(description="When the collector last collected.", plain=("last_collected_at", "instant"))
    def last_collected_at(self) -> DateTime | None:
        return _instant(stored.instant(self.doc, "last_collected_at", self._owner))


def _instant(value: datetime | None) -> DateTime | None:
    return None if value is None else DateTime(value)


@strawberry.type(description="One collection job.")
class Job(Node):
    doc: strawberry.Private[Document]
    collector: strawberry.Private[CollectorInfo | None] = None

    def _owner(self) -> str:
        return stored.job_name(self.doc)

    @reads(description="Global id: refetch this job with `node(id:)`.")
    def id(self) -> strawberry.ID:
        domain = stored.string(self.doc, "domain_id", self._owner, required=True)
        key = stored.string(self.doc, "job_id", self._owner, required=True)
        return strawberry.ID(global_id("Job", str(domain), str(key)))

    @reads(description="The job's id, e.g. `job-3b124006c2d2`.", plain=("job_id", "string"))
    def job_id(self) -> str:
        return str(stored.string(self.doc, "job_id", self._owner, required=True))

    @reads(description="Where the job is.", plain=("status", "enum"))
    def status(self) -> JobStatus:
        return stored.enum(JobStatus, self.doc, "status", self._owner, required=True)  # type: ignore[return-value]

    @reads(
        description="The collect filter the job ran with (free-form; stored as `filters`).", plain=("filters", "json")
    )
    def filter(self) -> JSON | None:
        return stored.json_value(self.doc, "filters")

    @reads(description="How many tasks the job has.", plain=("total_tasks", "integer"))
    def total_tasks(self) -> int | None:
        return stored.integer(self.doc, "total_tasks", self._owner)

    @reads(
        description="How many tasks are left: progress is `(totalTasks - remainedTasks) / totalTasks`.",
        plain=("remained_tasks", "integer"),
    )
    def remained_tasks(self) -> int | None:
        return stored.integer(self.doc, "remained_tasks", self._owner)

    @reads(description="The errors the job met, oldest first (empty when none).")
    def errors(self) -> list[ErrorInfo]:
        return [
            ErrorInfo(doc=e, owner=self._owner, at=f"errors[{i}]")
            for i, e in enumerate(stored.sub_documents(self.doc, "errors", self._owner))
        ]

    @reads(description="The job's collector, in full; null when it no longer exists.")
    def collector_info(self) -> CollectorInfo | None:
        return self.collector

    @reads(description="The project the job belongs to.", plain=("project_id", "string"))
    def project_id(self) -> str | None:
        return stored.string(self.doc, "project_id", self._owner)

    @reads(description="The domain (tenant) the job belongs to.", plain=("domain_id", "string"))
    def domain_id(self) -> str:
        return str(stored.string(self.doc, "domain_id", self._owner, required=True))

    @reads(description="When the job was created.", plain=("created_at", "instant"))
    def created_at(self) -> DateTime:
        return DateTime(stored.instant(self.doc, "created_at", self._owner, required=True))  # type: ignore[arg-type]

    @reads(description="When the job last changed.", plain=("updated_at", "instant"))
    def updated_at(self) -> DateTime | None:
        return _instant(stored.instant(self.doc, "updated_at", self._owner))

    @reads(description="When the job finished; null while it runs.", plain=("finished_at", "instant"))
    def finished_at(self) -> DateTime | None:
        return _instant(stored.instant(self.doc, "finished_at", self._owner))


@strawberry.type(description="A page of jobs in the published language's form.")
class JobsInfo:
    results: list[Job | None] = strawberry.field(
        description="The page's jobs, in order. An item is null only when its stored document breaks the schema "
        "(an error in `errors` names the job); the other items are kept."
    )
    total_count: int = strawberry.field(description="Every match, ignoring the page (0 when not selected).")
