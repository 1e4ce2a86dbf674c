// Apollo Client and urql, as frontends use them, run every example operation against a
// live gateway: POST, GET with a persisted id, batched, and Apollo's automatic
// persisted queries. Prints one JSON line per operation run:
//   {"client", "mode", "operation", "data", "errors", "requests": [{method, batch, sentQuery, query}], "first", "own"}
// ("requests": every request of the mode's (last) pass, all operations together;
// "query": the document text a single request sent, null when it sent none;
// "first": the requests of the first pass; APQ runs every operation twice;
// "own": the requests made while this operation ran alone, null when batched).
// usage: node clients.mjs URL EXAMPLES_JSON MANIFEST_JSON [mode...]
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client, fetchExchange, gql } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { getOperationAST, parse } from 'graphql';

const [url, examplesPath, manifestPath, ...wanted] = process.argv.slice(2);
const examples = JSON.parse(readFileSync(examplesPath, 'utf8'));
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const modes = wanted.length ? wanted : ['post', 'persisted-get', 'batched', 'apq'];
const idByName = Object.fromEntries(
  Object.entries(manifest).map(([id, doc]) => [getOperationAST(parse(doc)).name.value, id]),
);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// A fetch that records what went over the wire.
function recordingFetch(requests) {
  return async (input, init = {}) => {
    const method = init.method || 'GET';
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const query = method === 'GET' ? new URL(String(input)).searchParams : null;
    const sent = Array.isArray(body) ? null : body?.query || query?.get('query') || null;
    requests.push({
      method,
      batch: Array.isArray(body) ? body.length : 0,
      sentQuery: Array.isArray(body) ? body.some((b) => 'query' in b) : Boolean(sent),
      query: sent,
    });
    return fetch(input, init);
  };
}

// urql has no batching exchange of its own: this fetch gathers the operations started
// in the same tick into POSTs of arrays of at most BATCH_MAX, as Apollo's BatchHttpLink does.
const BATCH_MAX = 10; // the gateway's default max_batch_operations
function batchingFetch(requests) {
  let pending = [];
  const send = async (batch) => {
    requests.push({ method: 'POST', batch: batch.length, sentQuery: true, query: null });
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify(batch.map((b) => b.body)),
    });
    const answers = await response.json();
    batch.forEach((b, i) =>
      b.resolve(new Response(JSON.stringify(answers[i]), { status: 200, headers: { 'content-type': 'application/json' } })),
    );
  };
  return (_input, init) =>
    new Promise((resolve) => {
      pending.push({ body: JSON.parse(init.body), resolve });
      if (pending.length === 1) {
        queueMicrotask(() => setTimeout(() => {
          const all = pending;
          pending = [];
          for (let i = 0; i < all.length; i += BATCH_MAX) send(all.slice(i, i + BATCH_MAX));
        }, 0));
      }
    });
}

function apollo(mode, requests) {
  const fetchFn = recordingFetch(requests);
  const http = new HttpLink({ uri: `${url}/graphql`, fetch: fetchFn });
  let link = http;
  if (mode === 'batched') {
    link = new BatchHttpLink({ uri: `${url}/graphql`, fetch: fetchFn, batchMax: BATCH_MAX, batchInterval: 20 });
  } else if (mode === 'persisted-get') {
    // A persisted query list: the id of each operation comes from the manifest.
    const persisted = new PersistedQueryLink({
      generateHash: (document) => idByName[getOperationAST(document).name.value],
      useGETForHashedQueries: true,
    });
    link = ApolloLink.from([persisted, http]);
  } else if (mode === 'apq') {
    const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
    link = ApolloLink.from([persisted, http]);
  }
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return async (example) => {
    const result = await client.query({
      query: gql(manifest[example.documentId]),
      variables: example.variables,
      fetchPolicy: 'no-cache',
      errorPolicy: 'all',
    });
    return { data: result.data ?? null, errors: result.error ? [String(result.error.message)] : [] };
  };
}

function urql(mode, requests) {
  const exchanges = [fetchExchange];
  let fetchFn = recordingFetch(requests);
  if (mode === 'persisted-get') {
    exchanges.unshift(
      persistedExchange({
        preferGetForPersistedQueries: true,
        generateHash: async (_query, document) => idByName[getOperationAST(document).name.value],
      }),
    );
  } else if (mode === 'apq') {
    exchanges.unshift(persistedExchange({ preferGetForPersistedQueries: true }));
  } else if (mode === 'batched') {
    fetchFn = batchingFetch(requests);
  }
  const client = new Client({
    url: `${url}/graphql`,
    exchanges,
    fetch: fetchFn,
    requestPolicy: 'network-only',
    preferGetMethod: false, // POST, but where the persisted exchange asks for GET
  });
  return async (example) => {
    const result = await client.query(gql(manifest[example.documentId]), example.variables).toPromise();
    return {
      data: result.data ?? null,
      errors: result.error ? result.error.graphQLErrors.map((e) => e.message).concat(result.error.networkError ? [String(result.error.networkError)] : []) : [],
    };
  };
}

for (const [name, make] of [['apollo', apollo], ['urql', urql]]) {
  for (const mode of modes) {
    const requests = [];
    const run = make(mode, requests);
    // Batched: every operation at once, so that the client batches them; otherwise one by one.
    // own[i]: the requests made while example i ran alone (null when batched together).
    const own = examples.map(() => null);
    const results = mode === 'batched'
      ? await Promise.all(examples.map(run))
      : await examples.reduce(async (done, e, i) => {
          const before = [...(await done)];
          const start = requests.length;
          const result = await run(e);
          own[i] = requests.slice(start);
          return [...before, result];
        }, Promise.resolve([]));
    const first = [...requests];
    if (mode === 'apq') {
      // Again: now every hash is known to the gateway, and no query is sent.
      requests.length = 0;
      for (const [i, e] of examples.entries()) results[i] = await run(e);
    }
    examples.forEach((example, i) => {
      console.log(JSON.stringify({ client: name, mode, operation: example.name, ...results[i], first, requests, own: own[i] }));
    });
  }
}
