"""HTTP plumbing shared by the routes: the one request-body reader, and the
GraphQL-over-HTTP transport of ``/graphql`` (media types, batching, persisted
documents, GraphiQL)."""
