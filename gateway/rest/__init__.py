"""The published REST routes (contract section 5), over the same service as GraphQL."""

from gateway.rest.routes import routes

__all__ = ["routes"]
