/**
 * Issue 13: the service under real traffic. Each test here fails on the service as it
 * was before (see the comment on each), on loopback against the fake Azure.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AzureCallError, parseAnalyzeResponse } from '../src/azure/client.js';
import { ConfigError } from '../src/config.js';
import { FakeAzure, azureConfig, getJson, layerOf, makeConfig, parseMetrics, postJson, startService, useFakeAzure } from './helpers.js';

const LITELLM = '/beta/litellm_basic_guardrail_api';
const SEVERITIES = (over: Record<string, number>) =>
  ['Hate', 'SelfHarm', 'Sexual', 'Violence'].map((category) => ({ category, severity: over[category] ?? 0 }));

describe('limits', () => {
  const { fake, track } = useFakeAzure();

  it('maxTextChars applies to the joined LiteLLM texts: 100,000 one-character texts are 413, not 30 Azure calls', async () => {
    // before: the sum of the lengths (100,000) passed, then the joined 299,998 characters went to Azure in 30 calls
    const svc = track(await startService({ azure: azureConfig(fake.url), server: { maxTextChars: 100_000, bodyLimitBytes: 4 * 1024 * 1024 } }));
    const r = await postJson(svc.base, LITELLM, { input_type: 'request', texts: new Array<string>(100_000).fill('a') });
    expect(r.status).toBe(413);
    expect(r.json['error']).toBe('text_too_long');
    expect(r.json['message']).toContain('299998');
    expect(fake.count).toBe(0);
  });

  it('a long conversation within the limit is moderated in chunks, not rejected', async () => {
    const svc = track(await startService({ azure: azureConfig(fake.url), server: { maxTextChars: 200_000, bodyLimitBytes: 2 * 1024 * 1024 } }));
    const turn = 'Please summarise the following meeting notes for me. '.repeat(40); // ~2,100 chars
    const texts = new Array<string>(40).fill(turn); // ~85,000 chars joined
    const r = await postJson(svc.base, LITELLM, { input_type: 'request', texts, structured_messages: texts.map((content) => ({ role: 'user', content })) });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ action: 'NONE' });
    expect(fake.count).toBe(9); // ceil(85,000 / 10,000)
    for (const req of fake.requests) expect([...String(req.body['text'])].length).toBeLessThanOrEqual(10_000);
  });
});

describe('Azure answers are parsed strictly', () => {
  const { fake, track } = useFakeAzure();
  const start = async () => track(await startService({ azure: azureConfig(fake.url) }));

  it('a category reported twice counts at its highest severity', async () => {
    // before: the last entry won, so SelfHarm 6 followed by SelfHarm 0 read as safe
    fake.behavior = () => ({
      kind: 'json',
      status: 200,
      body: { categoriesAnalysis: [...SEVERITIES({ SelfHarm: 6 }), { category: 'SelfHarm', severity: 0 }] },
    });
    const svc = await start();
    const r = await postJson(svc.base, '/v1/moderate/input', { text: 'some text' });
    expect(r.json['level']).toBe('blocked');
    expect(r.json['categories']).toEqual(['SelfHarm']);
  });

  it.each([
    ['an unknown category', { categoriesAnalysis: [...SEVERITIES({}), { category: 'Jailbreak', severity: 0 }] }],
    ['an odd severity with FourSeverityLevels', { categoriesAnalysis: SEVERITIES({ Hate: 3 }) }],
    ['a non-string blocklistItemId', { categoriesAnalysis: SEVERITIES({}), blocklistsMatch: [{ blocklistName: 'b', blocklistItemId: 7 }] }],
  ])('fails closed on %s', async (_name, body) => {
    // before: each of these was accepted and read as safe
    fake.behavior = () => ({ kind: 'json', status: 200, body });
    const svc = await start();
    const r = await postJson(svc.base, '/v1/moderate/input', { text: 'some text' });
    expect(r.json['level']).toBe('blocked');
    expect(r.json['categories']).toEqual(['azure_unavailable']);
    expect((layerOf(r.json, 'azure_content_safety')['details'] as Record<string, unknown>)['failureKind']).toBe('malformed');
  });

  it('parseAnalyzeResponse: duplicates take the maximum, in either order', () => {
    const a = parseAnalyzeResponse({ categoriesAnalysis: [{ category: 'Hate', severity: 0 }, ...SEVERITIES({ Hate: 4 })] }, 'FourSeverityLevels');
    const b = parseAnalyzeResponse({ categoriesAnalysis: [...SEVERITIES({ Hate: 4 }), { category: 'Hate', severity: 2 }] }, 'FourSeverityLevels');
    expect(typeof a === 'object' && a.severities.Hate).toBe(4);
    expect(typeof b === 'object' && b.severities.Hate).toBe(4);
  });

  it('an oversized response body is not read: fail closed', async () => {
    // before: the body was read whole, whatever its size, and this one parsed as safe
    fake.behavior = () => ({ kind: 'json', status: 200, body: { categoriesAnalysis: SEVERITIES({}), padding: 'x'.repeat(200_000) } });
    const svc = track(await startService({ azure: azureConfig(fake.url, { maxResponseBytes: 65_536 }) }));
    const r = await postJson(svc.base, '/v1/moderate/input', { text: 'some text' });
    expect(r.json['level']).toBe('blocked');
    const d = layerOf(r.json, 'azure_content_safety')['details'] as Record<string, unknown>;
    expect(d['failureKind']).toBe('malformed');
  });
});

describe('security of the Azure call', () => {
  const { fake, track } = useFakeAzure();

  it('never follows a redirect: the key and the text do not reach another origin', async () => {
    // before: fetch followed the 307 and re-sent the subscription key and the text to the new origin
    const other = await new FakeAzure().start();
    try {
      fake.behavior = () => ({ kind: 'json', status: 307, body: {}, headers: { location: `${other.url}/contentsafety/text:analyze?api-version=2024-09-01` } });
      const svc = track(await startService({ azure: azureConfig(fake.url) }));
      const r = await postJson(svc.base, '/v1/moderate/input', { text: 'secret prompt' });
      expect(r.json['level']).toBe('blocked');
      expect(r.json['categories']).toEqual(['azure_unavailable']);
      expect(other.count).toBe(0);
      expect(fake.count).toBe(1); // a 3xx is not retried either
    } finally {
      await other.stop();
    }
  });

  it('requires an https endpoint except on loopback', () => {
    // before: any http:// URL was accepted, so the key could travel in clear text
    for (const endpoint of ['http://example.cognitiveservices.azure.com', 'http://10.0.0.5:8080']) {
      let err: unknown;
      try {
        makeConfig({ azure: { endpoint } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('"azure.endpoint": must be an https:// URL');
    }
    expect(makeConfig({ azure: { endpoint: 'http://127.0.0.1:9' } }).azure.endpoint).toBe('http://127.0.0.1:9');
    expect(makeConfig({ azure: { endpoint: 'https://x.cognitiveservices.azure.com' } }).azure.endpoint).toBe('https://x.cognitiveservices.azure.com');
  });

  it('sends well-formed text: lone surrogates become U+FFFD', async () => {
    // before: JSON.stringify sent "\\ud800", which is not Unicode text
    const svc = track(await startService({ azure: azureConfig(fake.url) }));
    const r = await postJson(svc.base, '/v1/moderate/input', { text: 'abc\ud800def\udc00 ok \ud83d\ude00' });
    expect(r.status).toBe(200);
    expect(fake.requests[0]?.body['text']).toBe('abc\ufffddef\ufffd ok \ud83d\ude00');
    expect(fake.requests[0]?.raw).not.toMatch(/\\ud[89ab]/i);
  });

  it('content Azure rejects (400) does not open the breaker or take /ready down', async () => {
    // before: 5 requests answered 400 opened the breaker for everyone and /ready went 503
    fake.behavior = () => ({ kind: 'json', status: 400, body: { error: { code: 'InvalidRequestBody' } } });
    const svc = track(await startService({ azure: azureConfig(fake.url, { circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 } }) }));
    for (let i = 0; i < 6; i++) {
      const r = await postJson(svc.base, '/v1/moderate/input', { text: `bad input ${i}` });
      expect(r.json['level']).toBe('blocked'); // still fails closed for that request
    }
    expect(fake.count).toBe(6); // a 400 is not retried
    const ready = await getJson(svc.base, '/ready');
    expect(ready.status).toBe(200);
    expect(ready.json['azure']).toEqual({ enabled: true, breaker: 'closed' });
    fake.behavior = () => ({ kind: 'analyze' });
    expect((await postJson(svc.base, '/v1/moderate/input', { text: 'fine' })).json['level']).toBe('safe');
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [401, false],
    [404, false],
  ])('HTTP %i counts toward the breaker: %s', async (status, counts) => {
    fake.behavior = () => ({ kind: 'json', status, body: {} });
    const svc = track(await startService({ azure: azureConfig(fake.url, { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } }) }));
    for (let i = 0; i < 2; i++) await postJson(svc.base, '/v1/moderate/input', { text: 'x' });
    expect(svc.service.engine.breaker?.state).toBe(counts ? 'open' : 'closed');
  });
});

describe('admission control', () => {
  const { fake, track } = useFakeAzure();

  it('sheds excess load with 503 and Retry-After instead of timing out everything; the breaker stays closed', async () => {
    // before: there was no bound: both requests went to Azure and waited
    fake.behavior = () => ({ kind: 'delay', ms: 300, then: { kind: 'analyze' } });
    const svc = track(
      await startService({ azure: azureConfig(fake.url, { admission: { maxInFlight: 1, maxQueue: 0, retryAfterSeconds: 2 } }) }),
    );
    const [a, b] = await Promise.all([
      postJson(svc.base, '/v1/moderate/input', { text: 'first' }),
      new Promise((r) => setTimeout(r, 50)).then(() => postJson(svc.base, LITELLM, { input_type: 'request', texts: ['second'] })),
    ]);
    expect(a.status).toBe(200);
    expect(a.json['level']).toBe('safe');
    expect(b.status).toBe(503);
    expect(b.headers.get('retry-after')).toBe('2');
    expect(b.json['error']).toBe('overloaded');
    expect(fake.count).toBe(1);
    expect(svc.service.engine.breaker?.state).toBe('closed');
    const m = parseMetrics(await (await fetch(`${svc.base}/metrics`)).text());
    expect(m.get('safety_azure_shed_total{reason="queue_full"}')).toBe(1);
  });

  it('a queued call waits at most queueTimeoutMs, then is shed', async () => {
    fake.behavior = () => ({ kind: 'delay', ms: 400, then: { kind: 'analyze' } });
    const svc = track(await startService({ azure: azureConfig(fake.url, { admission: { maxInFlight: 1, maxQueue: 10, queueTimeoutMs: 50 } }) }));
    const first = postJson(svc.base, '/v1/moderate/input', { text: 'first' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const second = await postJson(svc.base, '/v1/moderate/input', { text: 'second' });
    expect(second.status).toBe(503);
    expect(performance.now() - t0).toBeLessThan(350); // shed from the queue, not after the first call finished
    expect((await first).status).toBe(200);
  });

  it('a timeout caused by this process being starved sheds (503) and does not feed the breaker', async () => {
    // before: the starved attempt counted as an Azure timeout and was retried; enough of them opened the breaker
    fake.behavior = () => ({ kind: 'busy', ms: 400, then: { kind: 'analyze' } });
    const svc = track(
      await startService({ azure: azureConfig(fake.url, { timeoutMs: 100, starvationLagMs: 150, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } }) }),
    );
    for (let i = 0; i < 3; i++) {
      const r = await postJson(svc.base, '/v1/moderate/input', { text: `starved ${i}` });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
    }
    expect(fake.count).toBe(3); // no retries piled on
    expect(svc.service.engine.breaker?.state).toBe('closed');
    expect(svc.service.engine.breaker?.failures).toBe(0);
  });

  it('a real Azure timeout (this process idle) still fails closed and counts', async () => {
    fake.behavior = () => ({ kind: 'delay', ms: 500, then: { kind: 'analyze' } });
    const svc = track(await startService({ azure: azureConfig(fake.url, { timeoutMs: 100, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 } }) }));
    const r = await postJson(svc.base, '/v1/moderate/input', { text: 'slow' });
    expect(r.status).toBe(200);
    expect(r.json['level']).toBe('blocked');
    expect(svc.service.engine.breaker?.failures).toBe(1);
  });

  it('uses a bounded pool of keep-alive connections to Azure', async () => {
    // before: fetch opened one connection per concurrent call (20 here)
    fake.behavior = () => ({ kind: 'delay', ms: 50, then: { kind: 'analyze' } });
    const svc = track(await startService({ azure: azureConfig(fake.url, { admission: { maxConnections: 2, maxInFlight: 2, maxQueue: 100, queueTimeoutMs: 5000 } }) }));
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => postJson(svc.base, '/v1/moderate/input', { text: `t${i}` })));
    for (const r of rs) expect(r.json['level']).toBe('safe');
    expect(fake.count).toBe(20);
    expect(fake.maxOpenConnections).toBeLessThanOrEqual(2);
    expect(new Set(fake.requests.map((q) => q.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('AzureCallError is still what an unusable answer throws', () => {
    expect(new AzureCallError('http', 'x', 1, 500).status).toBe(500);
  });

  it('maxInFlight may not exceed the connection pool', () => {
    expect(() => makeConfig({ azure: { endpoint: 'https://x.example', admission: { maxConnections: 8, maxInFlight: 16 } } })).toThrow(
      /azure\.admission\.maxInFlight": must be <= azure\.admission\.maxConnections/,
    );
  });
});

describe('request timeouts', () => {
  it('a stalled upload is answered 408 and closed after requestTimeoutMs', async () => {
    // before: Node's defaults (300 s, checked every 30 s) let it hold the connection and its buffer
    const svc = await startService({ azure: { enabled: false }, server: { requestTimeoutMs: 300 } });
    try {
      const port = Number(new URL(svc.base).port);
      const t0 = performance.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => {
          sock.write('POST /v1/moderate/input HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"text":"');
        });
        let data = '';
        sock.on('data', (d: Buffer) => (data += d.toString('utf8')));
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
        setTimeout(() => {
          sock.destroy();
          reject(new Error('still open after 3 s'));
        }, 3000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      await svc.close();
    }
  });

  it('a stalled upload does not hold up graceful shutdown', async () => {
    // before: app.close() waited for the stalled request, up to Node's 300 s request timeout
    const svc = await startService({ azure: { enabled: false }, server: { requestTimeoutMs: 400 } });
    const port = Number(new URL(svc.base).port);
    const sock = connect(port, '127.0.0.1', () => {
      sock.write('POST /v1/moderate/input HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"text":"');
    });
    sock.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await svc.close();
    expect(performance.now() - t0).toBeLessThan(2500);
    sock.destroy();
  });
});
