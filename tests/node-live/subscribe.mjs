// Subscribe with a transport's reference client and print each result as one JSON line:
//   node subscribe.mjs ws|sse URL TOKEN|- QUERY VARIABLES_JSON COUNT
// ws: graphql-ws (graphql-transport-ws), the token in connection_init's payload;
// sse: graphql-sse (distinct connections mode), the token in the Authorization header.
// Exits after COUNT results, or prints {"error": ...} and exits 1 when the client fails.
import { createClient as createSSEClient } from "graphql-sse";
import { createClient as createWSClient } from "graphql-ws";
import WebSocket from "ws";

const [transport, url, token, query, variables, count] = process.argv.slice(2);
const authorization = token === "-" ? {} : { Authorization: `Bearer ${token}` };
const client =
  transport === "ws"
    ? createWSClient({ url, webSocketImpl: WebSocket, connectionParams: authorization, retryAttempts: 0 })
    : createSSEClient({ url, headers: authorization, retryAttempts: 0 });

let seen = 0;
try {
  for await (const result of client.iterate({ query, variables: JSON.parse(variables) })) {
    console.log(JSON.stringify(result));
    if (++seen >= Number(count)) break;
  }
} catch (error) {
  const described = Array.isArray(error) ? error : error instanceof Error ? error.message : String(error?.reason ?? error);
  console.log(JSON.stringify({ error: described }));
  process.exitCode = 1;
}
client.dispose();
