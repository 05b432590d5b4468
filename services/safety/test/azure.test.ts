import { describe, expect, it } from 'vitest';
import { AzureCallError, AzureContentSafetyClient, parseAnalyzeResponse } from '../src/azure/client.js';
import { Admission } from '../src/resilience/admission.js';
import { CircuitBreaker } from '../src/resilience/breaker.js';
import { backoffDelay, parseRetryAfter } from '../src/resilience/retry.js';
import {
  TEST_KEY,
  azureConfig,
  closedPort,
  getJson,
  layerOf,
  parseMetrics,
  postJson,
  startService,
  type Running,
  useFakeAzure,
} from './helpers.js';

const { fake, track } = useFakeAzure();
let svc: Running | undefined;

async function start(azure: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Promise<Running> {
  svc = track(await startService({ azure: azureConfig(fake.url, azure), ...rest }));
  return svc;
}

async function moderate(direction: 'input' | 'output', text: string): Promise<Record<string, unknown>> {
  if (!svc) throw new Error('service not started');
  const r = await postJson(svc.base, `/v1/moderate/${direction}`, { text });
  expect(r.status).toBe(200);
  return r.json;
}

describe('Azure request shape', () => {
  it('POSTs text:analyze with api-version, subscription key header and the four categories', async () => {
    await start();
    const j = await moderate('input', 'hello there');
    expect(j['level']).toBe('safe');
    expect(fake.count).toBe(1);
    const req = fake.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/contentsafety/text:analyze');
    expect(req?.query.get('api-version')).toBe('2024-09-01');
    expect(req?.headers['ocp-apim-subscription-key']).toBe(TEST_KEY);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.body).toEqual({
      text: 'hello there',
      categories: ['Hate', 'SelfHarm', 'Sexual', 'Violence'],
      blocklistNames: [],
      haltOnBlocklistHit: false,
      outputType: 'FourSeverityLevels',
    });
    const az = layerOf(j, 'azure_content_safety');
    expect(az['level']).toBe('safe');
    expect((az['details'] as Record<string, unknown>)['severities']).toEqual({ Hate: 0, SelfHarm: 0, Sexual: 0, Violence: 0 });
  });

  it('runs for output too and never for an empty text', async () => {
    await start();
    expect((await moderate('output', 'fine answer'))['level']).toBe('safe');
    expect(fake.count).toBe(1);
    expect((await moderate('input', '   '))['level']).toBe('safe');
    expect(fake.count).toBe(1);
  });

  it('splits texts over 10k code points into several calls and takes the max severity', async () => {
    await start();
    const text = `${'a '.repeat(6000)}[Violence:4]${' b'.repeat(2000)}`; // ~16k chars
    const j = await moderate('input', text);
    expect(fake.count).toBe(2);
    for (const r of fake.requests) expect(String(r.body['text']).length).toBeLessThanOrEqual(10_000);
    expect(j['level']).toBe('blocked');
    expect(j['categories']).toContain('Violence');
  });
});

describe('thresholds (FourSeverityLevels, defaults Hate/Sexual/Violence 4, SelfHarm 2)', () => {
  const cases: Array<[string, string, string[]]> = [
    ['[Hate:4]', 'blocked', ['Hate']],
    ['[Hate:2]', 'warning', ['Hate']],
    ['[Sexual:4]', 'blocked', ['Sexual']],
    ['[Sexual:2]', 'warning', ['Sexual']],
    ['[Violence:6]', 'blocked', ['Violence']],
    ['[Violence:2]', 'warning', ['Violence']],
    ['[SelfHarm:2]', 'blocked', ['SelfHarm']],
    ['[SelfHarm:0]', 'safe', []],
    ['[Hate:0]', 'safe', []],
  ];
  it('all default-threshold cases on one service', async () => {
    await start();
    for (const [marker, level, categories] of cases) {
      const j = await moderate('input', `text ${marker}`);
      const az = layerOf(j, 'azure_content_safety');
      expect(az['level'], marker).toBe(level);
      expect(az['categories'], marker).toEqual(categories);
      expect(j['level'], marker).toBe(level);
    }
  });

  it.each(cases.slice(0, 2))('%s -> %s (separate service)', async (marker, level, categories) => {
    await start();
    const j = await moderate('input', `text ${marker}`);
    const az = layerOf(j, 'azure_content_safety');
    expect(az['level']).toBe(level);
    expect(az['categories']).toEqual(categories);
    expect(j['level']).toBe(level);
  });

  it('EightSeverityLevels: severity equal to the threshold blocks, one below does not', async () => {
    await start({ outputType: 'EightSeverityLevels', warnAtOrAbove: 8 });
    expect(layerOf(await moderate('input', '[Hate:4]'), 'azure_content_safety')['level']).toBe('blocked');
    expect(layerOf(await moderate('input', '[Hate:3]'), 'azure_content_safety')['level']).toBe('safe');
    expect(layerOf(await moderate('input', '[SelfHarm:2]'), 'azure_content_safety')['level']).toBe('blocked');
    expect(layerOf(await moderate('input', '[SelfHarm:1]'), 'azure_content_safety')['level']).toBe('safe');
    expect(fake.requests[0]?.body['outputType']).toBe('EightSeverityLevels');
  });

  it('custom thresholds from config', async () => {
    await start({ thresholds: { Hate: 6, SelfHarm: 4 } });
    expect(layerOf(await moderate('input', '[Hate:4]'), 'azure_content_safety')['level']).toBe('warning');
    expect(layerOf(await moderate('input', '[Hate:6]'), 'azure_content_safety')['level']).toBe('blocked');
    expect(layerOf(await moderate('input', '[SelfHarm:2]'), 'azure_content_safety')['level']).toBe('warning');
  });

  it('an Azure blocklist hit blocks', async () => {
    await start({ blocklistNames: ['custom1'], haltOnBlocklistHit: true });
    const j = await moderate('input', 'x [blocklist:custom1]');
    expect(j['level']).toBe('blocked');
    expect(j['categories']).toEqual(['azure_blocklist:custom1']);
    expect(fake.requests[0]?.body['blocklistNames']).toEqual(['custom1']);
    expect(fake.requests[0]?.body['haltOnBlocklistHit']).toBe(true);
  });
});

describe('failure handling: fail closed (default) vs open-with-warning', () => {
  type Case = { name: string; setup: () => Promise<string> | string; attempts: number; kind: string };
  const cases: Case[] = [
    {
      name: 'unreachable (connection refused)',
      setup: async () => `http://127.0.0.1:${await closedPort()}`,
      attempts: 0, // nothing reaches the fake
      kind: 'network',
    },
    {
      name: 'slow (beyond the timeout)',
      setup: () => {
        fake.behavior = () => ({ kind: 'delay', ms: 2000, then: { kind: 'analyze' } });
        return fake.url;
      },
      attempts: 3,
      kind: 'timeout',
    },
    {
      name: 'HTTP 500',
      setup: () => {
        fake.behavior = () => ({ kind: 'json', status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } });
        return fake.url;
      },
      attempts: 3,
      kind: 'http',
    },
    {
      name: 'HTTP 429',
      setup: () => {
        fake.behavior = () => ({ kind: 'json', status: 429, body: { error: { code: 'TooManyRequests', message: 'slow down' } }, headers: { 'retry-after': '0' } });
        return fake.url;
      },
      attempts: 3,
      kind: 'http',
    },
    {
      name: 'malformed response (not retried)',
      setup: () => {
        fake.behavior = () => ({ kind: 'json', status: 200, body: { categoriesAnalysis: [{ category: 'Hate' }] } });
        return fake.url;
      },
      attempts: 1,
      kind: 'malformed',
    },
    {
      name: 'non-JSON 200 body (not retried)',
      setup: () => {
        fake.behavior = () => ({ kind: 'raw', status: 200, body: '<html>gateway</html>' });
        return fake.url;
      },
      attempts: 1,
      kind: 'malformed',
    },
    {
      name: 'connection dropped mid-request',
      setup: () => {
        fake.behavior = () => ({ kind: 'destroy' });
        return fake.url;
      },
      attempts: 3,
      kind: 'network',
    },
  ];

  for (const mode of ['closed', 'open-with-warning'] as const) {
    for (const c of cases) {
      it(`${mode}: ${c.name}`, async () => {
        const endpoint = await c.setup();
        svc = track(await startService({ failureMode: mode, azure: azureConfig(endpoint, { timeoutMs: 100 }) }));
        const j = await moderate('input', 'hello');
        const az = layerOf(j, 'azure_content_safety');
        const details = az['details'] as Record<string, unknown>;
        expect(az['level']).toBe(mode === 'closed' ? 'blocked' : 'warning');
        expect(j['level']).toBe(mode === 'closed' ? 'blocked' : 'warning');
        expect(j['allowed']).toBe(mode !== 'closed');
        expect(az['categories']).toEqual(['azure_unavailable']);
        expect(details['failureKind']).toBe(c.kind);
        // retries happened (1 + maxRetries = 3 attempts for retryable failures)
        expect(fake.count).toBe(c.attempts);
        expect(details['attempts']).toBe(c.kind === 'network' && c.attempts === 0 ? 3 : c.attempts);
        const metrics = parseMetrics(await (await fetch(`${svc.base}/metrics`)).text());
        expect(metrics.get(`safety_azure_errors_total{kind="${c.kind}"}`)).toBe(c.kind === 'network' && c.attempts === 0 ? 3 : c.attempts);
      });
    }
  }

  it('recovers after a transient 503 (retry succeeds)', async () => {
    fake.behavior = (n) => (n === 0 ? { kind: 'json', status: 503, body: {} } : { kind: 'analyze' });
    await start();
    const j = await moderate('input', 'hello [Hate:4]');
    expect(fake.count).toBe(2);
    expect(j['level']).toBe('blocked');
    expect(j['categories']).toEqual(['Hate']);
    const metrics = parseMetrics(await (await fetch(`${svc?.base}/metrics`)).text());
    expect(metrics.get('safety_azure_attempts_total{outcome="failure"}')).toBe(1);
    expect(metrics.get('safety_azure_attempts_total{outcome="success"}')).toBe(1);
    expect(metrics.get('safety_azure_http_errors_total{status_code="503"}')).toBe(1);
  });

  it('does not retry a 401 (wrong key)', async () => {
    fake.behavior = () => ({ kind: 'json', status: 401, body: { error: { code: '401', message: 'Access denied' } } });
    await start();
    const j = await moderate('input', 'hello');
    expect(fake.count).toBe(1);
    expect(j['level']).toBe('blocked');
    expect((layerOf(j, 'azure_content_safety')['details'] as Record<string, unknown>)['status']).toBe(401);
  });
});

describe('client internals', () => {
  it('full-jitter backoff stays within [0, min(max, base*2^n)]', () => {
    expect(backoffDelay(0, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(99);
    expect(backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(799);
    expect(backoffDelay(10, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(999);
    expect(backoffDelay(2, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 })).toBe(0);
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:59 GMT'))).toBe(1000);
  });

  it('sleeps the jittered backoff between attempts, honouring Retry-After up to maxDelayMs', async () => {
    fake.behavior = () => ({ kind: 'json', status: 429, body: {}, headers: { 'retry-after': '30' } });
    const sleeps: number[] = [];
    const client = new AzureContentSafetyClient({
      endpoint: `${fake.url}/`,
      key: 'k',
      apiVersion: '2024-09-01',
      outputType: 'FourSeverityLevels',
      blocklistNames: [],
      haltOnBlocklistHit: false,
      timeoutMs: 500,
      maxRetries: 2,
      baseDelayMs: 100,
      maxDelayMs: 400,
      breaker: new CircuitBreaker({ failureThreshold: 10, cooldownMs: 1000 }),
      admission: new Admission({ maxInFlight: 4, maxQueue: 4, queueTimeoutMs: 100, retryAfterSeconds: 1 }),
      maxConnections: 2,
      maxResponseBytes: 65536,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const err = await client.analyzeText('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureCallError);
    expect((err as AzureCallError).kind).toBe('http');
    expect((err as AzureCallError).status).toBe(429);
    expect((err as AzureCallError).attempts).toBe(3);
    expect(fake.count).toBe(3);
    expect(fake.requests[0]?.path).toBe('/contentsafety/text:analyze'); // trailing slash of the endpoint handled
    expect(sleeps).toEqual([400, 400]); // Retry-After 30 s capped at maxDelayMs
    await client.close();
  });

  it('validates the response shape strictly', () => {
    const ok = { categoriesAnalysis: ['Hate', 'SelfHarm', 'Sexual', 'Violence'].map((category) => ({ category, severity: 0 })) };
    expect(typeof parseAnalyzeResponse(ok)).toBe('object');
    expect(parseAnalyzeResponse([])).toMatch(/not a JSON object/);
    expect(parseAnalyzeResponse({})).toMatch(/categoriesAnalysis/);
    expect(parseAnalyzeResponse({ categoriesAnalysis: ok.categoriesAnalysis.slice(1) })).toMatch(/Hate missing/);
    expect(parseAnalyzeResponse({ categoriesAnalysis: [{ category: 'Hate', severity: 9 }] })).toMatch(/0\.\.7/);
    expect(parseAnalyzeResponse({ ...ok, blocklistsMatch: 'x' })).toMatch(/blocklistsMatch/);
  });
});

describe('readiness with Azure', () => {
  it('is ready while the breaker is closed', async () => {
    await start();
    const r = await getJson(svc?.base ?? '', '/ready');
    expect(r.status).toBe(200);
    expect(r.json['azure']).toEqual({ enabled: true, breaker: 'closed' });
  });
});
