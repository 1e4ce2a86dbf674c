"""The store: one small async interface, two engines (MongoDB and the embedded one)."""

from gateway.store.base import COLLECTOR, JOB, Collection, JobStore

__all__ = ["COLLECTOR", "JOB", "Collection", "JobStore"]
