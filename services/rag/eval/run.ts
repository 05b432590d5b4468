/**
 * `npm run eval` — the retrieval evaluation.
 *   (no flags)           in-process: embedded store + deterministic embedder/reranker (what CI gates on)
 *   --url <base>         against a running service (e.g. in-cluster, real TEI and Milvus): ingests the
 *                        corpus as NDJSON into --collection for a fresh tenant, runs the same questions
 *                        through /v1/search (mode bm25|dense|hybrid, rerank on/off), then deletes the documents.
 *   --collection <name>  (with --url) default rag_chunks
 *   --min-recall5 <x>    exit 1 if hybrid+rerank recall@5 is below x
 *   RAG_EVAL_API_KEY     (env, with --url) the LiteLLM key sent as the caller's (auth.mode gateway-key)
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { evaluate, formatTable, loadFixture, runEmbedded, type Row } from './evaluate.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * The caller's LiteLLM key for a service in auth.mode gateway-key (src/auth.ts), from the
 * environment (RAG_EVAL_API_KEY), never from a flag that would show in the process list.
 */
function authHeaders(): Record<string, string> {
  const key = process.env.RAG_EVAL_API_KEY;
  return key ? { authorization: `Bearer ${key}` } : {};
}

function fixtureDir(): string {
  for (const d of [arg('--fixtures'), resolve('eval'), join(dirname(process.argv[1] ?? '.'), '..', 'eval'), '/app/eval']) {
    if (d !== undefined && existsSync(join(d, 'corpus.jsonl'))) return d;
  }
  throw new Error('eval fixture not found (eval/corpus.jsonl); pass --fixtures <dir>');
}

async function remote(base: string, collection: string): Promise<Row[]> {
  const { docs, questions } = loadFixture(fixtureDir());
  const tenant = `eval-${Date.now()}`;
  const ndjson = docs.map((d) => JSON.stringify({ ...d, tenant, format: 'markdown' })).join('\n');
  const ing = await fetch(`${base}/v1/collections/${collection}/documents`, { method: 'POST', headers: { ...authHeaders(), 'content-type': 'application/x-ndjson' }, body: ndjson });
  const events = (await ing.text()).trim().split('\n').map((l) => JSON.parse(l) as { event: string; complete?: boolean });
  const done = events.at(-1);
  if (done?.event !== 'done' || done.complete !== true) throw new Error(`ingest failed: ${JSON.stringify(events.slice(-3))}`);
  // chunk ids depend on the tenant: map the fixture's ids by document + section heading instead
  try {
    const idsByDoc = new Map<string, string[]>();
    for (const d of docs) {
      const r = await fetch(`${base}/v1/collections/${collection}/documents/${encodeURIComponent(d.id)}?tenant=${tenant}`, { headers: authHeaders() });
      idsByDoc.set(d.id, ((await r.json()) as { chunkIds: string[] }).chunkIds);
    }
    const search = async (q: string, mode: string, rerank: boolean, topK: number) => {
      const r = await fetch(`${base}/v1/search`, { method: 'POST', headers: { ...authHeaders(), 'content-type': 'application/json' }, body: JSON.stringify({ collection, tenant, query: q, mode, rerank, topK }) });
      if (r.status !== 200) throw new Error(`search ${r.status}: ${await r.text()}`);
      return ((await r.json()) as { results: Array<{ chunkId: string; docId: string; text: string }> }).results.map((h) => ({
        chunkId: `${h.docId}::${h.text.split('\n')[0] ?? ''}`,
      }));
    };
    const qs = questions.map((q) => ({ ...q, relevant: [`${q.docId}::${q.docId.replace(/^runbook-/, '')} runbook > ${q.section}`] }));
    return await evaluate(search as never, qs);
  } finally {
    for (const d of docs) await fetch(`${base}/v1/collections/${collection}/documents/${encodeURIComponent(d.id)}?tenant=${tenant}`, { method: 'DELETE', headers: authHeaders() });
  }
}

async function main(): Promise<void> {
  const url = arg('--url');
  let rows: Row[];
  if (url !== undefined) {
    rows = await remote(url.replace(/\/$/, ''), arg('--collection') ?? 'rag_chunks');
    process.stdout.write(`${formatTable(rows, `Retrieval evaluation against ${url} (real TEI and Milvus behind it)`)}\n`);
  } else {
    const r = await runEmbedded(fixtureDir());
    rows = r.rows;
    process.stdout.write(
      `${formatTable(rows, `Retrieval evaluation, embedded store + deterministic hash embedder and lexical reranker (${r.chunks} chunks, ${r.questions} questions). These numbers measure the pipeline, not semantic quality.`)}\n`,
    );
  }
  const min = arg('--min-recall5');
  const hr = rows.find((x) => x.variant === 'hybrid+rerank');
  if (min !== undefined && (hr?.recall[5] ?? 0) < Number(min)) {
    process.stderr.write(`hybrid+rerank recall@5 ${hr?.recall[5]} is below ${min}\n`);
    process.exit(1);
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
