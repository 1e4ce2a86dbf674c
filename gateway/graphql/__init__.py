"""The GraphQL adapter: Strawberry types, typed inputs, thin resolvers, per-request
DataLoaders; it only talks to the service."""
