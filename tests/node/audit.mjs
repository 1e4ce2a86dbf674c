// The GraphQL-over-HTTP conformance audit of graphql-http against a live gateway.
// usage: node audit.mjs URL   (exit 1 unless every audit is ok: no error, no warning)
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const count = (status) => results.filter((r) => r.status === status).length;
for (const result of results.filter((r) => r.status !== 'ok')) {
  console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
}
console.log(`${results.length} audits: ${count('ok')} ok, ${count('warn')} warnings, ${count('error')} errors`);
process.exit(count('ok') === results.length ? 0 : 1);
