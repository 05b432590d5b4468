/**
 * Smoke test of the BUILT artifact: `node dist/server.cjs` with a config file from
 * RAG_CONFIG_PATH (embedded store, loopback fakes for TEI and the gateway), exercised over
 * loopback (ingest, search, answer, ready, metrics), then stopped with SIGTERM; it must exit 0.
 * Twice: on the embedded store, and on Milvus (the loopback gRPC fake from the SDK's protos,
 * with auth), which checks that the bundled SDK works.
 * Run with `npm run smoke` after `npm run build`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeGateway, startFakeTei } from '../src/dev/fakes.js';
import { FakeMilvus } from '../test/fakes/milvus.js';

const SERVER = resolve('dist/server.cjs');

function fail(msg: string): never {
  process.stderr.write(`SMOKE FAIL: ${msg}\n`);
  process.exit(1);
}

async function phase(store: 'memory' | 'milvus'): Promise<void> {
  process.stdout.write(`== smoke: ${store} store\n`);
  const tei = await startFakeTei({ dim: 32 });
  const gw = await startFakeGateway({ apiKey: 'sk-smoke', keys: { 'sk-caller': { team_id: 'team-smoke', key_alias: 'smoke' } } });
  const milvus = store === 'milvus' ? new FakeMilvus() : undefined;
  const milvusAddr = milvus !== undefined ? await milvus.start() : '';
  const dir = mkdtempSync(join(tmpdir(), 'rag-smoke-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    [
      `store: ${store}`,
      ...(milvusAddr ? [`milvus: { address: "${milvusAddr}" }`] : []),
      'server: { host: 127.0.0.1 }',
      'collections: { names: [smoke], dim: 32 }',
      `embeddings: { url: "${tei.url}" }`,
      `rerank: { url: "${tei.url}" }`,
      `gateway: { url: "${gw.url}", model: gpt-oss-20b }`,
      '',
    ].join('\n'),
  );
  const env = { PATH: process.env['PATH'] ?? '', RAG_CONFIG_PATH: cfg, PORT: '0', NODE_ENV: 'production', GATEWAY_API_KEY: 'sk-smoke', MILVUS_USERNAME: 'rag', MILVUS_PASSWORD: 'pw' };
  if (milvus !== undefined) {
    // the bootstrap Job's command: create/verify/load the collections, then exit 0
    const boot = spawn(process.execPath, [SERVER, 'bootstrap'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const bootCode = await new Promise<number | null>((res) => boot.on('exit', (c) => res(c)));
    if (bootCode !== 0 || milvus.callsOf('CreateCollection').length !== 1) fail(`bootstrap: exit ${String(bootCode)}, ${milvus.callsOf('CreateCollection').length} CreateCollection`);
  }
  const child = spawn(process.execPath, [SERVER], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const killTimer = setTimeout(() => {
    child.kill('SIGKILL');
    fail('timed out');
  }, 30_000);
  const port = await new Promise<number>((res) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      process.stdout.write(`  server: ${line}\n`);
      try {
        const o = JSON.parse(line) as { msg?: string; port?: number };
        if (o.msg === 'rag service listening' && typeof o.port === 'number') res(o.port);
      } catch {
        /* not JSON */
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;
  // auth.mode is the default (gateway-key): callers send their gateway key; the answer uses it
  const post = async (path: string, body: unknown, key: string | null = 'sk-caller') => {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  const anon = await post('/rag/v1/search', { tenant: 't1', query: 'x' }, null);
  if (anon.status !== 401 || anon.body.error !== 'missing_api_key') fail(`no key: ${anon.status} ${JSON.stringify(anon.body)}`);
  const wrong = await post('/v1/search', { tenant: 't1', query: 'x' }, 'sk-unknown');
  if (wrong.status !== 401 || wrong.body.error !== 'invalid_api_key') fail(`unknown key: ${wrong.status} ${JSON.stringify(wrong.body)}`);
  const ing = await post('/v1/collections/smoke/documents', {
    tenant: 't1',
    documents: [{ id: 'd1', title: 'Backups', text: 'Milvus backups run nightly at 02:00 UTC into S3.' }],
  });
  if (ing.status !== 200 || ing.body.chunks !== 1) fail(`ingest: ${ing.status} ${JSON.stringify(ing.body)}`);
  const s = await post('/rag/v1/search', { tenant: 't1', collection: 'smoke', query: 'when do backups run' });
  if (s.status !== 200 || s.body.results[0]?.docId !== 'd1') fail(`search: ${s.status} ${JSON.stringify(s.body)}`);
  if (milvus !== undefined) {
    const hs = milvus.callsOf('HybridSearch');
    if (hs.length !== 1 || hs[0]?.request['requests']?.length !== 2) fail('milvus: no HybridSearch with two sub-requests');
    const auth = hs[0]?.metadata['authorization'] ?? '';
    if (Buffer.from(auth, 'base64').toString() !== 'rag:pw') fail(`milvus: credentials not sent (${auth})`);
  }
  const a = await post('/v1/answer', { tenant: 't1', collection: 'smoke', question: 'When do Milvus backups run?' });
  if (a.status !== 200 || !String(a.body.answer).includes('02:00 UTC') || a.body.citations[0]?.docId !== 'd1') fail(`answer: ${a.status} ${JSON.stringify(a.body)}`);
  if (gw.chatKeys.length !== 1 || gw.chatKeys[0] !== 'sk-caller') fail(`answer: the chat call did not carry the caller's key (${gw.chatKeys.length} calls)`);
  const bad = await post('/v1/search', { tenant: 't1', query: '' });
  if (bad.status !== 400) fail(`bad input: ${bad.status}`);
  const ready = await fetch(`${base}/ready`);
  if (ready.status !== 200) fail(`ready: ${ready.status} ${await ready.text()}`);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  if (!metrics.includes('rag_stage_duration_seconds_count{stage="rerank"}')) fail('metrics: no rerank stage series');
  child.kill('SIGTERM');
  const code = await exited;
  clearTimeout(killTimer);
  await tei.close();
  await gw.close();
  await milvus?.stop();
  if (code !== 0) fail(`exit code ${String(code)}`);
  process.stdout.write(`SMOKE OK (${store}): ${store === 'milvus' ? 'bootstrap command, ' : ''}401 without/with an unknown key, ingest, search (also under /rag), answer with the caller's key, 400, ready, metrics, graceful exit\n`);
}

async function main(): Promise<void> {
  await phase('memory');
  await phase('milvus');
}

void main().then(
  () => process.exit(0),
  (e: unknown) => fail(String(e)),
);
