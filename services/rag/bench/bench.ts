/**
 * Benchmark: `npm run bench:rag` (root) or `npm run bench` here (builds first).
 *
 * Starts the BUILT service (`node dist/server.cjs`, embedded store, production defaults:
 * dim 1024, hybrid RRF, 50 candidates per route, rerank depth 32, topK 8) and, in a second
 * process, the TEI and gateway fakes answering in 0 ms. Ingests the evaluation corpus
 * (288 chunks) over NDJSON, then drives POST /v1/search with autocannon (the 60 evaluation
 * questions in rotation) and prints throughput and p50/p95/p99. Each search is one /embed
 * and one /rerank HTTP call plus the in-process hybrid search.
 * Target (2 cores): >= 1,500 req/s per process at p95 < 20 ms. Measured, never enforced in tests.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 16), BENCH_WARMUP (s, default 3).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 3);
const TARGET_RPS = 1500;
const TARGET_P95_MS = 20;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const fakes: ChildProcess = spawn(process.execPath, [resolve('dist/tools/fakes.cjs')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DIM: '1024' } });
  const urls = await new Promise<{ tei: string; gateway: string }>((res) => {
    createInterface({ input: fakes.stdout as NodeJS.ReadableStream }).once('line', (l) => res(JSON.parse(l) as { tei: string; gateway: string }));
  });
  const dir = mkdtempSync(join(tmpdir(), 'rag-bench-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    [
      'store: memory',
      'auth: { mode: none }',
      'server: { host: 127.0.0.1 }',
      'logging: { level: warn }',
      'collections: { names: [bench], dim: 1024 }',
      `embeddings: { url: "${urls.tei}" }`,
      `rerank: { url: "${urls.tei}" }`,
      `gateway: { url: "${urls.gateway}" }`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const server = spawn(process.execPath, [resolve('dist/server.cjs')], {
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), NODE_ENV: 'production', RAG_CONFIG_PATH: cfg },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) break;
    } catch {
      /* not yet */
    }
    if (i > 100) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const corpus = readFileSync(resolve('eval/corpus.jsonl'), 'utf8').trim().split('\n');
  const ndjson = corpus.map((l) => JSON.stringify({ ...(JSON.parse(l) as object), tenant: 'bench', format: 'markdown' })).join('\n');
  const ing = await fetch(`${base}/v1/collections/bench/documents`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
  const last = (await ing.text()).trim().split('\n').at(-1) ?? '';
  const done = JSON.parse(last) as { chunks: number; complete: boolean };
  if (!done.complete) throw new Error(`ingest failed: ${last}`);
  const questions = (JSON.parse(readFileSync(resolve('eval/questions.json'), 'utf8')) as Array<{ question: string }>).map((q) => q.question);
  const probe = await fetch(`${base}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'bench', collection: 'bench', query: questions[0] }) });
  const pj = (await probe.json()) as { results: unknown[]; reranked: boolean };
  if (probe.status !== 200 || pj.results.length !== 8 || !pj.reranked) throw new Error(`unexpected search answer ${probe.status}`);

  process.stdout.write(
    `rag bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, ${DURATION}s after ${WARMUP}s warm-up; ` +
      `${done.chunks} chunks, dim 1024, hybrid RRF + rerank depth 32, topK 8; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );

  const run = async (name: string, extra: Record<string, unknown>, duration: number, record: boolean) => {
    const samples: number[] = [];
    const cpu0 = cpuMs(server.pid);
    const result = await new Promise<autocannon.Result>((res, rej) => {
      const inst = autocannon(
        {
          url: base,
          connections: CONNECTIONS,
          pipelining: 1,
          duration,
          requests: questions.map((q) => ({
            method: 'POST' as const,
            path: '/v1/search',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ tenant: 'bench', collection: 'bench', query: q, ...extra }),
          })),
        },
        (err, r) => (err ? rej(err as Error) : res(r)),
      );
      if (record) inst.on('response', (_c, _s, _b, t) => samples.push(t));
    });
    const sorted = Float64Array.from(samples).sort();
    return {
      name,
      requests: result.requests.total,
      rps: result.requests.average,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      serverCpuUsPerReq: ((cpuMs(server.pid) - cpu0) * 1000) / result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
    };
  };
  const results = [];
  for (const [name, extra] of [
    ['search', {}],
    ['search-norerank', { rerank: false }],
  ] as const) {
    if (WARMUP > 0) await run(`${name}-warmup`, extra, WARMUP, false);
    results.push(await run(name, extra, DURATION, true));
  }
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fakes.kill('SIGTERM');
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  process.stdout.write('\nrun              requests   req/s   p50 ms  p95 ms  p99 ms  server CPU/req  non2xx errors\n');
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(16)} ${String(r.requests).padStart(8)} ${r.rps.toFixed(0).padStart(7)} ${f(r.p50).padStart(7)} ${f(r.p95).padStart(7)} ${f(r.p99).padStart(7)} ${`${r.serverCpuUsPerReq.toFixed(0)} us`.padStart(14)}  ${r.non2xx} ${r.errors}\n`,
    );
  }
  const main = results[0];
  const met = main !== undefined && main.rps >= TARGET_RPS && main.p95 < TARGET_P95_MS && main.non2xx === 0 && main.errors === 0;
  process.stdout.write(`\ntarget >= ${TARGET_RPS} req/s and p95 < ${TARGET_P95_MS} ms (search with rerank): ${met ? 'MET' : 'MISSED'}\n`);
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, connections: CONNECTIONS, duration: DURATION, results })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${String(e)}\n`);
  process.exit(1);
});
