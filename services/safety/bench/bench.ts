/**
 * Benchmark: `npm run bench` (builds first; `npm run bench:safety` from the repository root).
 *
 * One run measures, with the same load tool (autocannon, in this process) and the same
 * LiteLLM guardrail request (a ~420-character prompt, sent as `texts` and
 * `structured_messages`, as LiteLLM does):
 *
 * - `bare`: a bare node:http server that reads the body and answers fixed JSON: the ceiling
 *   of this machine at this moment;
 * - `local`: the BUILT service (`node dist/server.cjs`, a child process) with the shipped
 *   default lists and normalization, Azure off: the local-layers path;
 * - `azure-0ms` / `azure-30ms`: the same service with Azure on, against a loopback fake Azure
 *   (another child process, node:http) that answers after 0 ms or 30 ms;
 *
 * each at 16 and at 256 connections, with req/s, p50/p95/p99 (per response, ms), the
 * service's CPU time per request (from /proc), responses other than 200 (503 = shed), and
 * benign requests answered BLOCKED. Targets (2 cores, load generator on the same machine):
 * local >= 50% of bare's req/s at p95 < 10 ms (16 connections); Azure 30 ms >= 3,000 req/s at
 * p95 < 60 ms and 0 benign requests blocked (256 connections: 30 ms per call needs about 90
 * concurrent requests for 3,000 req/s). The script measures and reports; it never fails on a
 * missed target.
 *
 * Env knobs: BENCH_DURATION (s per run, default 8), BENCH_WARMUP (s, default 2),
 * BENCH_CONNECTIONS (comma list, default "16,256").
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { stringify } from 'yaml';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 8);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '16,256').split(',').map(Number);

const NONE = '{"action":"NONE"}';

// A bare node:http server: reads the whole body, answers fixed JSON.
const BARE_SERVER = `
const http = require('node:http');
const body = ${JSON.stringify(NONE)};
const srv = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
srv.keepAliveTimeout = 65000;
srv.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

// A fake Azure AI Content Safety text:analyze: all severities 0, after DELAY_MS.
const FAKE_AZURE = `
const http = require('node:http');
const delay = Number(process.env.DELAY_MS);
const body = JSON.stringify({ blocklistsMatch: [], categoriesAnalysis: ['Hate', 'SelfHarm', 'Sexual', 'Violence'].map((category) => ({ category, severity: 0 })) });
const srv = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const send = () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); };
    if (req.url === '/health') return send();
    if (delay > 0) setTimeout(send, delay); else send();
  });
});
srv.keepAliveTimeout = 65000;
srv.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

// ~420 characters of ordinary prompt text.
const INPUT_TEXT =
  'Hi! I am planning a three day trip to Lisbon in early May with my partner. We like food markets, ' +
  'small museums and walking, and we would rather avoid long queues. Could you suggest an itinerary ' +
  'with one neighbourhood per day, a couple of affordable restaurants for dinner, and tips on public ' +
  'transport passes? Also, is it worth doing a day trip to Sintra, and how early should we leave to ' +
  'beat the crowds? Thanks a lot for your help.';

const LITELLM_BODY = JSON.stringify({
  input_type: 'request',
  texts: [INPUT_TEXT],
  structured_messages: [{ role: 'user', content: INPUT_TEXT }],
  images: null,
  tools: null,
  tool_calls: null,
  request_data: { user_api_key_hash: 'a'.repeat(64), user_api_key_team_id: 'team-1' },
  request_headers: { 'user-agent': 'openai/python 1.99.0' },
  litellm_call_id: '0b7c4c4e-2f0a-4c1e-9d52-3c1f0c6f9a11',
  litellm_version: '1.80.0',
  additional_provider_specific_params: {},
  model: 'gpt-oss-120b',
});
const GUARDRAIL = '/beta/litellm_basic_guardrail_api';

interface RunSummary {
  name: string;
  connections: number;
  /** responses whose body was not {"action":"NONE"}: BLOCKED (or an error body) */
  notNone: number;
  /** server process CPU time (user+system) per request, microseconds */
  serverCpuUsPerReq: number;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  acP50: number;
  acP99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

async function startServer(args: string[], env: Record<string, string>, healthPath = '/health'): Promise<{ child: ChildProcess; port: number }> {
  // The bench config logs at warn, so the "listening" line is not printed: pick the
  // port here and poll /health until the server answers.
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 100; i++) {
    if (exited) throw new Error('server exited during start-up');
    try {
      const r = await fetch(`http://127.0.0.1:${port}${healthPath}`);
      if (r.status === 200 || r.status === 404) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy within 10 s');
}

/** CPU time (user+system, ms) of a process, from /proc/<pid>/stat (Linux; NaN elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (clock ticks; 100 per second on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function run(name: string, url: string, body: string, connections: number, duration: number, record: boolean, serverPid?: number): Promise<RunSummary> {
  const samples: number[] = [];
  const cpu0 = cpuMs(serverPid);
  const result = await new Promise<autocannon.Result>((res, rej) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        pipelining: 1,
        duration,
        expectBody: NONE,
      },
      (err, r) => (err ? rej(err as Error) : res(r)),
    );
    if (record) instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
  const cpu1 = cpuMs(serverPid);
  const sorted = Float64Array.from(samples).sort();
  return {
    name,
    connections,
    notNone: (result as unknown as { mismatches: number }).mismatches,
    serverCpuUsPerReq: ((cpu1 - cpu0) * 1000) / result.requests.total,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    acP50: result.latency.p50,
    acP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function serviceConfig(azure: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'safety-bench-'));
  const path = join(dir, 'config.yaml');
  // What the platform deploys (components/safety.ts), with loopback host and a quiet log.
  writeFileSync(
    path,
    stringify({
      server: { host: '127.0.0.1', bodyLimitBytes: 6_553_600, maxTextChars: 1_048_576 },
      logging: { level: 'warn', logRequestText: false },
      failureMode: 'closed',
      azure,
      layers: { defaults: { enabled: true, disable: [] }, promptInjection: { appliesTo: ['input', 'output'] } },
      litellmGuardrail: { enabled: true },
    }),
  );
  return path;
}

async function measureTarget(name: string, url: string, pid: number | undefined, results: RunSummary[]): Promise<void> {
  for (const c of CONNECTIONS) {
    if (WARMUP > 0) await run(`${name}-warmup`, url, LITELLM_BODY, c, WARMUP, false);
    results.push(await run(name, url, LITELLM_BODY, c, DURATION, true, pid));
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `safety bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), connections ${CONNECTIONS.join(' and ')}, ` +
      `${DURATION}s per run after ${WARMUP}s warm-up, load average before start ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const results: RunSummary[] = [];

  // 1. bare node:http
  const bare = await startServer(['-e', BARE_SERVER], {}, '/');
  await measureTarget('bare', `http://127.0.0.1:${bare.port}${GUARDRAIL}`, bare.child.pid, results);
  bare.child.kill('SIGTERM');

  // 2. local layers only
  const local = await startServer([resolve('dist/server.cjs')], { SAFETY_CONFIG_PATH: serviceConfig({ enabled: false }) });
  await sanity(local.port);
  await measureTarget('local', `http://127.0.0.1:${local.port}${GUARDRAIL}`, local.child.pid, results);
  local.child.kill('SIGTERM');

  // 3. Azure path against a loopback fake at 0 ms and 30 ms
  for (const delay of [0, 30]) {
    const fake = await startServer(['-e', FAKE_AZURE], { DELAY_MS: String(delay) });
    const svc = await startServer([resolve('dist/server.cjs')], {
      SAFETY_CONFIG_PATH: serviceConfig({ enabled: true, endpoint: `http://127.0.0.1:${fake.port}` }),
      AZURE_CONTENT_SAFETY_KEY: 'bench-key',
    });
    await sanity(svc.port);
    await measureTarget(`azure-${delay}ms`, `http://127.0.0.1:${svc.port}${GUARDRAIL}`, svc.child.pid, results);
    svc.child.kill('SIGTERM');
    fake.child.kill('SIGTERM');
  }

  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  process.stdout.write('\nrun          conns  requests    req/s   p50 ms  p95 ms  p99 ms  CPU/req  non-200  blocked  errors\n');
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(11)}  ${String(r.connections).padStart(5)}  ${String(r.requests).padStart(8)}  ${r.rps.toFixed(0).padStart(7)}  ${f(r.p50).padStart(7)} ${f(r.p95).padStart(7)} ${f(r.p99).padStart(7)}  ${`${r.serverCpuUsPerReq.toFixed(0)} us`.padStart(7)}  ${String(r.non2xx).padStart(7)}  ${String(Math.max(0, r.notNone - r.non2xx)).padStart(7)}  ${String(r.errors + r.timeouts).padStart(6)}\n`,
    );
  }
  const get = (name: string, c: number) => results.find((r) => r.name === name && r.connections === c);
  const bare16 = get('bare', 16);
  const local16 = get('local', 16);
  const az256 = get('azure-30ms', 256);
  process.stdout.write('\ntargets (measured, not enforced):\n');
  if (bare16 && local16) {
    const ratio = local16.rps / bare16.rps;
    process.stdout.write(
      `  local layers >= 50% of bare req/s at p95 < 10 ms (16 conns): ${(ratio * 100).toFixed(0)}% at p95 ${f(local16.p95)} ms -> ${ratio >= 0.5 && local16.p95 < 10 ? 'MET' : 'MISSED'}\n`,
    );
  }
  if (az256) {
    const blocked = Math.max(0, az256.notNone - az256.non2xx);
    process.stdout.write(
      `  Azure 30 ms >= 3,000 req/s at p95 < 60 ms, 0 benign blocked (256 conns): ${az256.rps.toFixed(0)} req/s at p95 ${f(az256.p95)} ms, ${blocked} blocked, ${az256.non2xx} shed -> ${az256.rps >= 3000 && az256.p95 < 60 && blocked === 0 ? 'MET' : 'MISSED'}\n`,
    );
  }
  process.stdout.write('  (CPU/req is the service process only; "blocked" counts 200 answers other than {"action":"NONE"}; non-200 are shed 503s)\n');
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, duration: DURATION, results })}\n`);
}

async function sanity(port: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}${GUARDRAIL}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LITELLM_BODY });
  const t = await r.text();
  if (r.status !== 200 || t !== NONE) throw new Error(`unexpected answer: ${r.status} ${t}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${String(e)}\n`);
  process.exit(1);
});
