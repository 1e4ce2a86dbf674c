"""job-gateway: a GraphQL gateway (and the published REST routes) over SpaceONE
inventory collection jobs stored in MongoDB."""

__version__ = "0.1.0"
