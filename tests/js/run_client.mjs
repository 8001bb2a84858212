// Runs calls of a real `meilisearch` JS client against a server and prints what came back.
//
//   node run_client.mjs HOST API_KEY CLIENT < calls.json
//
// CLIENT is "meilisearch" (the version instant-meilisearch pins), "meilisearch-latest" or
// "meilisearch-0.30" (the one docs-searchbar.js bundles). calls.json is a list of
// {"method": "search", "index": "articles", "args": [...]} (no "index": a client method).
// Each result is {"ok": true, "value": ...} or {"ok": false, "error": {name, message, code,
// status}}: the tests in tests/test_meili_clients.py assert on them, so the JavaScript
// here only makes calls and never decides what is right.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const MODULES = {
  "meilisearch": () => import("meilisearch"),
  "meilisearch-latest": () => import("meilisearch-latest"),
  // docs-searchbar.js's own copy, CommonJS (its ES build imports a directory, which Node refuses)
  "meilisearch-0.30": async () => require("docs-searchbar.js/node_modules/meilisearch"),
};

const [host, apiKey, client = "meilisearch"] = process.argv.slice(2);
const mod = await MODULES[client]();
const Client = mod.Meilisearch ?? mod.MeiliSearch;
const meili = new Client({ host, apiKey: apiKey || undefined });
const calls = JSON.parse(readFileSync(0, "utf8"));

function plain(value) {
  // Index objects hold an HTTP client: keep what a caller reads from them
  if (value && typeof value === "object" && "uid" in value && "httpRequest" in value) {
    return { uid: value.uid, primaryKey: value.primaryKey, createdAt: value.createdAt, updatedAt: value.updatedAt };
  }
  if (value && Array.isArray(value.results)) return { ...value, results: value.results.map(plain) };
  return value;
}

const out = [];
for (const call of calls) {
  const target = call.index ? meili.index(call.index) : meili;
  try {
    if (typeof target[call.method] !== "function") throw new TypeError(`no method ${call.method}`);
    out.push({ ok: true, value: plain(await target[call.method](...(call.args ?? []))) });
  } catch (e) {
    out.push({
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        code: e.cause?.code ?? e.code,
        type: e.cause?.type ?? e.type,
        status: e.response?.status ?? e.httpStatus,
      },
    });
  }
}
process.stdout.write(JSON.stringify(out));
