"""What the root resolvers of a planned operation (``gateway.graphql.planning``) read
of its plan: the selection of their field (fragments followed, ``@skip``/``@include``
applied), since graphql-core builds no ``info.selected_fields`` for them. The current
run is a context variable, so that the operations of a batch, which share one GraphQL
context, never see each other's."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.types.nodes import Selection

if TYPE_CHECKING:
    from gateway.graphql.plan import OperationPlan


@dataclass(frozen=True)
class PlannedRun:
    """One execution of a plan."""

    plan: OperationPlan


CURRENT: ContextVar[PlannedRun | None] = ContextVar("gateway_planned_run", default=None)


def _key(info: Any) -> str:
    return str(info.path.key)


def selected_fields(info: Any) -> list[Selection]:
    """``info.selected_fields``, or, for a planned root field, the plan's selection of
    it (fragments followed, ``@skip``/``@include`` applied)."""
    run = CURRENT.get()
    root = run.plan.roots.get(_key(info)) if run is not None else None
    return info.selected_fields if root is None else [root.selected]
