/**
 * Benchmark: `npm run bench` (builds first).
 *
 * Starts the BUILT service (`node dist/server.cjs`) as a child process on 127.0.0.1
 * with the layers of config/example.yaml but Azure disabled (local layers only) and
 * logging at warn, then drives it with autocannon (fixed connections, bounded
 * duration) for input and output moderation, and prints throughput and
 * p50/p95/p99 latency. Target (2 cores): >= 5,000 req/s per process with p95 < 10 ms.
 *
 * Env knobs: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 16),
 * BENCH_WARMUP (s, default 2), BENCH_BASELINE (default 1: also measure a bare
 * Fastify endpoint that parses the same body and returns {"ok":true}, as a
 * reference for what this machine can do right now; 0 to skip).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { parse, stringify } from 'yaml';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
const BASELINE = (process.env['BENCH_BASELINE'] ?? '1') !== '0';

// A bare Fastify server (same framework, no moderation) as a machine reference.
const BASELINE_SERVER = `
const app = require('fastify')();
app.post('/echo', async (req) => ({ ok: true, n: req.body.text.length }));
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;
const TARGET_RPS = 5000;
const TARGET_P95_MS = 10;

// ~420 characters of ordinary prompt text, and a ~700 character model answer.
const INPUT_TEXT =
  'Hi! I am planning a three day trip to Lisbon in early May with my partner. We like food markets, ' +
  'small museums and walking, and we would rather avoid long queues. Could you suggest an itinerary ' +
  'with one neighbourhood per day, a couple of affordable restaurants for dinner, and tips on public ' +
  'transport passes? Also, is it worth doing a day trip to Sintra, and how early should we leave to ' +
  'beat the crowds? Thanks a lot for your help.';
const OUTPUT_TEXT =
  'Here is a relaxed three day plan. Day 1: Baixa and Chiado. Start at Praça do Comércio, walk up Rua ' +
  'Augusta, take a coffee at a pastelaria and visit the Museu Nacional de Arte Contemporânea. In the ' +
  'evening try a tasca in Bairro Alto. Day 2: Alfama and Graça. Ride tram 28 early, before 9 am, to ' +
  'avoid queues, visit the Sé and the Miradouro da Senhora do Monte, and have dinner near the Feira da ' +
  'Ladra. Day 3: Belém. See the Jerónimos Monastery (book online), the MAAT and the Padrão dos ' +
  'Descobrimentos; try the custard tarts. A 24 hour Carris/Metro pass or a Navegante card covers ' +
  'trams, buses and the metro. Sintra is worth a day: take the 8:11 train from Rossio and start with ' +
  'Pena Palace.';

interface RunSummary {
  name: string;
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

async function startServer(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
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
      const r = await fetch(`http://127.0.0.1:${port}/health`);
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

async function run(name: string, url: string, body: string, duration: number, record: boolean, serverPid?: number): Promise<RunSummary> {
  const samples: number[] = [];
  const cpu0 = cpuMs(serverPid);
  const result = await new Promise<autocannon.Result>((res, rej) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: CONNECTIONS,
        pipelining: 1,
        duration,
      },
      (err, r) => (err ? rej(err as Error) : res(r)),
    );
    if (record) instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
  const cpu1 = cpuMs(serverPid);
  const sorted = Float64Array.from(samples).sort();
  return {
    name,
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

async function main(): Promise<void> {
  const example = parse(readFileSync(resolve('config/example.yaml'), 'utf8')) as Record<string, unknown>;
  const cfg = {
    ...example,
    azure: { enabled: false },
    logging: { level: 'warn', logRequestText: false },
  };
  const dir = mkdtempSync(join(tmpdir(), 'safety-bench-'));
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, stringify(cfg));

  const { child, port } = await startServer([resolve('dist/server.cjs')], { SAFETY_CONFIG_PATH: cfgPath });
  const base = `http://127.0.0.1:${port}`;
  const inputBody = JSON.stringify({ text: INPUT_TEXT });
  const outputBody = JSON.stringify({ text: OUTPUT_TEXT, context: INPUT_TEXT });

  // sanity: both bodies are answered "safe"
  for (const [path, body] of [
    ['/v1/moderate/input', inputBody],
    ['/v1/moderate/output', outputBody],
  ] as const) {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const j = (await r.json()) as { level?: string };
    if (r.status !== 200 || j.level !== 'safe') throw new Error(`unexpected answer from ${path}: ${r.status} ${JSON.stringify(j)}`);
  }

  process.stdout.write(
    `safety bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `${CONNECTIONS} connections, ${DURATION}s per run after ${WARMUP}s warm-up, Azure disabled, ` +
      `load average before start ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const results: RunSummary[] = [];
  for (const [name, path, body] of [
    ['input', '/v1/moderate/input', inputBody],
    ['output', '/v1/moderate/output', outputBody],
  ] as const) {
    if (WARMUP > 0) await run(`${name}-warmup`, `${base}${path}`, body, WARMUP, false);
    results.push(await run(name, `${base}${path}`, body, DURATION, true, child.pid));
  }
  child.kill('SIGTERM');

  if (BASELINE) {
    const ref = await startServer(['-e', BASELINE_SERVER], {});
    if (WARMUP > 0) await run('baseline-warmup', `http://127.0.0.1:${ref.port}/echo`, inputBody, WARMUP, false);
    results.push(await run('baseline', `http://127.0.0.1:${ref.port}/echo`, inputBody, Math.min(DURATION, 5), true, ref.child.pid));
    ref.child.kill('SIGTERM');
  }

  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  process.stdout.write('\nendpoint  requests   req/s     p50 ms  p95 ms  p99 ms  server CPU/req  non2xx errors timeouts\n');
  let pass = true;
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(8)}  ${String(r.requests).padStart(8)}  ${r.rps.toFixed(0).padStart(7)}  ${f(r.p50).padStart(7)} ${f(r.p95).padStart(7)} ${f(r.p99).padStart(7)}  ${`${r.serverCpuUsPerReq.toFixed(0)} us`.padStart(14)}  ${r.non2xx} ${r.errors} ${r.timeouts}\n`,
    );
    if (r.name === 'baseline') continue;
    if (!(r.rps >= TARGET_RPS && r.p95 < TARGET_P95_MS && r.non2xx === 0 && r.errors === 0)) pass = false;
  }
  process.stdout.write(`\ntarget >= ${TARGET_RPS} req/s and p95 < ${TARGET_P95_MS} ms (input and output): ${pass ? 'MET' : 'MISSED'}\n`);
  if (BASELINE) {
    process.stdout.write('(baseline = bare Fastify POST endpoint, same body, no moderation: the ceiling of this machine at this moment)\n');
  }
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, connections: CONNECTIONS, duration: DURATION, results })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${String(e)}\n`);
  process.exit(1);
});
