import { afterEach, describe, expect, it } from 'vitest';
import { DOCS, startStack, type Stack } from './helpers.js';

/** auth.mode gateway-key: callers' LiteLLM keys, checked with the gateway's GET /key/info. */
let stack: Stack;
afterEach(async () => {
  await stack.close();
});

const GW_AUTH = { auth: { mode: 'gateway-key' } };
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return stack.service.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as never } : {}) });
}

const ingestBody = { tenant: 'acme', documents: DOCS };
const searchBody = { tenant: 'acme', query: 'when do milvus backups run' };
const answerBody = { tenant: 'acme', question: 'When do Milvus backups run?' };

describe('auth.mode gateway-key', () => {
  it('refuses search, answer, ingest, get and delete without a key (401, nothing read or written)', async () => {
    stack = await startStack(GW_AUTH);
    const rs = [
      await call('POST', '/v1/collections/docs/documents', ingestBody),
      await call('POST', '/v1/search', searchBody),
      await call('POST', '/v1/answer', answerBody),
      await call('GET', '/v1/collections/docs/documents/kb-milvus?tenant=acme'),
      await call('DELETE', '/v1/collections/docs/documents/kb-milvus?tenant=acme'),
      await call('POST', '/v1/search', searchBody, { authorization: 'Basic c2stYWxpY2U6' }),
    ];
    for (const r of rs) {
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toContain('Bearer');
      expect(r.json()).toMatchObject({ statusCode: 401, error: 'missing_api_key' });
      expect(r.json().message).toContain('Authorization: Bearer');
    }
    expect(stack.tei.requests).toHaveLength(0);
    expect(stack.gateway.chatKeys).toHaveLength(0);
    expect(stack.gateway.keyInfoCalls).toBe(0);
  });

  it('refuses an unknown key with 401 after asking the gateway, and caches the refusal briefly', async () => {
    stack = await startStack(GW_AUTH);
    const r = await call('POST', '/v1/search', searchBody, bearer('sk-stolen'));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ error: 'invalid_api_key' });
    expect(r.json().message).not.toContain('sk-stolen');
    expect(stack.gateway.keyInfoCalls).toBe(1);
    const info = stack.gateway.requests.find((q) => q.path === '/key/info');
    expect(info?.headers['authorization']).toBe('Bearer sk-stolen');
    // within negativeCacheSeconds the refusal is served from the cache
    expect((await call('POST', '/v1/answer', answerBody, bearer('sk-stolen'))).statusCode).toBe(401);
    expect(stack.gateway.keyInfoCalls).toBe(1);
    expect(stack.gateway.chatKeys).toHaveLength(0);
  });

  it('accepts a known key; the answer goes through the gateway with the caller key, not the service key', async () => {
    stack = await startStack(GW_AUTH);
    const ing = await call('POST', '/v1/collections/docs/documents', ingestBody, bearer('sk-alice'));
    expect(ing.statusCode).toBe(200);
    const s = await call('POST', '/v1/search', searchBody, bearer('sk-alice'));
    expect(s.statusCode).toBe(200);
    expect(s.json().results[0].docId).toBe('kb-milvus');
    const a = await call('POST', '/v1/answer', answerBody, bearer('sk-alice'));
    expect(a.statusCode).toBe(200);
    expect(a.json().answer).toContain('02:00 UTC');
    const st = await call('POST', '/v1/answer', { ...answerBody, stream: true }, bearer('sk-alice'));
    expect(st.statusCode).toBe(200);
    expect(st.body).toContain('02:00');
    expect(st.body).not.toContain('"error"');
    const b = await call('POST', '/v1/answer', answerBody, bearer('sk-bob'));
    expect(b.statusCode).toBe(200);
    expect(stack.gateway.chatKeys).toEqual(['sk-alice', 'sk-alice', 'sk-bob']);
    expect(stack.gateway.chatKeys).not.toContain('sk-gw');
  });

  it('caches an accepted key for cacheSeconds: later calls do not ask the gateway again', async () => {
    stack = await startStack(GW_AUTH);
    await call('POST', '/v1/collections/docs/documents', ingestBody, bearer('sk-alice'));
    const parallel = await Promise.all([1, 2, 3].map(() => call('POST', '/v1/search', searchBody, bearer('sk-alice'))));
    expect(parallel.every((r) => r.statusCode === 200)).toBe(true);
    expect(stack.gateway.keyInfoCalls).toBe(1);
    // a key the gateway stops accepting is refused once the cache entry expires (cacheSeconds: 0 here)
    await stack.close();
    stack = await startStack({ auth: { mode: 'gateway-key', cacheSeconds: 0 } });
    await call('POST', '/v1/search', searchBody, bearer('sk-alice'));
    await call('POST', '/v1/search', searchBody, bearer('sk-alice'));
    expect(stack.gateway.keyInfoCalls).toBe(2);
  });

  it('fails closed with 503 naming the gateway when it cannot validate the key', async () => {
    stack = await startStack(GW_AUTH);
    stack.gateway.failWith = 503;
    const r = await call('POST', '/v1/search', searchBody, bearer('sk-alice'));
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: 'dependency_unavailable', dependency: 'gateway' });
    expect(r.json().message).toContain('validating the API key');
    expect(r.json().message).not.toContain('sk-alice');
    expect(stack.tei.requests).toHaveLength(0);
    // not cached: once the gateway is back, the same key works
    stack.gateway.failWith = undefined;
    expect((await call('POST', '/v1/search', searchBody, bearer('sk-alice'))).statusCode).toBe(200);
    // the gateway gone altogether
    await stack.gateway.close();
    const down = await call('POST', '/v1/search', searchBody, bearer('sk-bob'));
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ dependency: 'gateway' });
    expect(down.json().message).toMatch(/gateway unreachable at http:\/\/127\.0\.0\.1:\d+ while validating the API key/);
  });

  it('keeps /health, /ready and /metrics open; metrics count auth outcomes without key material', async () => {
    stack = await startStack(GW_AUTH);
    expect((await call('GET', '/health')).statusCode).toBe(200);
    expect((await call('GET', '/ready')).statusCode).toBe(200);
    await call('POST', '/v1/search', searchBody);
    await call('POST', '/v1/search', searchBody, bearer('sk-stolen'));
    await call('POST', '/v1/search', searchBody, bearer('sk-alice'));
    const m = await call('GET', '/metrics');
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/rag_auth_requests_total\{outcome="missing_key"\} 1/);
    expect(m.body).toMatch(/rag_auth_requests_total\{outcome="invalid_key"\} 1/);
    expect(m.body).toMatch(/rag_auth_requests_total\{outcome="ok"\} 1/);
    expect(m.body).toMatch(/rag_auth_gateway_lookups_total\{result="rejected"\} 1/);
    expect(m.body).not.toMatch(/sk-|alice|stolen/);
  });

  it('serves the same API under the /rag prefix the ALB forwards', async () => {
    stack = await startStack(GW_AUTH);
    expect((await call('POST', '/rag/v1/search', searchBody)).statusCode).toBe(401);
    expect((await call('POST', '/rag/v1/search', searchBody, bearer('sk-alice'))).statusCode).toBe(200);
    expect((await call('GET', '/rag/health')).statusCode).toBe(200);
  });

  it('auth.tenantFrom team_id: the tenant is the key team, another tenant is refused', async () => {
    stack = await startStack({ auth: { mode: 'gateway-key', tenantFrom: 'team_id' } });
    const ing = await call('POST', '/v1/collections/docs/documents', { documents: DOCS }, bearer('sk-alice'));
    expect(ing.statusCode).toBe(200);
    const own = await call('POST', '/v1/search', { query: 'milvus backups' }, bearer('sk-alice'));
    expect(own.json()).toMatchObject({ tenant: 'team-acme' });
    expect(own.json().results.length).toBeGreaterThan(0);
    const other = await call('POST', '/v1/search', { tenant: 'team-acme', query: 'milvus backups' }, bearer('sk-bob'));
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ error: 'tenant_mismatch' });
    const bobs = await call('POST', '/v1/search', { query: 'milvus backups' }, bearer('sk-bob'));
    expect(bobs.json()).toMatchObject({ tenant: 'team-globex', results: [] });
    const noTeam = await call('POST', '/v1/search', { query: 'x' }, bearer('sk-nobody'));
    expect(noTeam.statusCode).toBe(403);
    expect(noTeam.json().message).toContain('team_id');
  });

  it('auth.mode none (local runs): no key needed, the answer uses the service key', async () => {
    stack = await startStack();
    expect((await call('POST', '/v1/collections/docs/documents', ingestBody)).statusCode).toBe(200);
    expect((await call('POST', '/v1/answer', answerBody)).statusCode).toBe(200);
    expect(stack.gateway.chatKeys).toEqual(['sk-gw']);
    expect(stack.gateway.keyInfoCalls).toBe(0);
  });
});
