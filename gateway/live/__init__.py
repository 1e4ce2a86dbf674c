"""Live jobs: the process's one source of job changes (``sources``), the hub that matches
them against every subscription in the database and fans them out (``hub``), and the
subscription transports - GraphQL over WebSocket (``websocket``: graphql-transport-ws)
and GraphQL over Server-Sent Events (``sse``: graphql-sse's distinct connections mode)."""
