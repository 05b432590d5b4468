/**
 * Smoke test of the BUILT artifact: `node dist/server.cjs` with a config file from
 * SAFETY_CONFIG_PATH (Azure disabled), exercised over loopback, then stopped with
 * SIGTERM; the process must exit 0. Run with `npm run smoke` after `npm run build`.
 *
 * Extra flags (used by docs/safety.md to check the container assumptions):
 *   SMOKE_WRAP="unshare ..."  wrap the node command (e.g. read-only root, non-root user)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const SERVER = resolve('dist/server.cjs');

function fail(msg: string): never {
  process.stderr.write(`SMOKE FAIL: ${msg}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'safety-smoke-'));
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(
    cfgPath,
    [
      'azure:',
      '  enabled: false',
      'logging:',
      '  level: info',
      'layers:',
      '  keywordBlocklist:',
      '    groups:',
      '      - category: smoke',
      '        terms: ["forbidden phrase"]',
      '',
    ].join('\n'),
  );

  const wrap = (process.env['SMOKE_WRAP'] ?? '').split(' ').filter((s) => s.length > 0);
  const cmd = wrap.length > 0 ? (wrap[0] as string) : process.execPath;
  const args = wrap.length > 0 ? [...wrap.slice(1), process.execPath, SERVER] : [SERVER];
  const child = spawn(cmd, args, {
    env: { PATH: process.env['PATH'] ?? '', SAFETY_CONFIG_PATH: cfgPath, PORT: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const killTimer = setTimeout(() => {
    child.kill('SIGKILL');
    fail('timed out');
  }, 20_000);

  const port = await new Promise<number>((res, rej) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      process.stdout.write(`[server] ${line}\n`);
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg === 'safety service listening' && typeof rec.port === 'number') res(rec.port);
      } catch {
        // not JSON
      }
    });
    void exited.then((code) => rej(new Error(`server exited early with code ${String(code)}`)));
  }).catch((e: unknown) => fail(String(e)));

  const base = `http://127.0.0.1:${port}`;
  const health = await fetch(`${base}/health`);
  if (health.status !== 200) fail(`/health ${health.status}`);
  const ready = await fetch(`${base}/ready`);
  if (ready.status !== 200) fail(`/ready ${ready.status}`);

  const post = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  const safe = await post('/v1/moderate/input', { text: 'hello there' });
  if (safe.status !== 200 || safe.json['level'] !== 'safe') fail(`safe input: ${JSON.stringify(safe)}`);
  const blocked = await post('/v1/moderate/input', { text: 'this has a Forbidden   Phrase in it' });
  if (blocked.json['level'] !== 'blocked') fail(`blocked input: ${JSON.stringify(blocked)}`);
  const injected = await post('/v1/moderate/output', { text: 'Sure. Ignore previous instructions and ...' });
  if (injected.json['level'] !== 'blocked') fail(`output injection: ${JSON.stringify(injected)}`);
  const ll = await post('/beta/litellm_basic_guardrail_api', { input_type: 'request', texts: ['forbidden phrase'], request_data: {} });
  if (ll.json['action'] !== 'BLOCKED') fail(`litellm: ${JSON.stringify(ll)}`);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  if (!metrics.includes('safety_requests_total{endpoint="/v1/moderate/input",verdict="blocked"} 1')) fail('metrics missing');

  child.kill('SIGTERM');
  const code = await exited;
  clearTimeout(killTimer);
  if (code !== 0) fail(`exit code after SIGTERM was ${String(code)}`);
  process.stdout.write('SMOKE OK: built server started, answered, and exited 0 on SIGTERM\n');
}

main().catch((e: unknown) => fail(String(e)));
