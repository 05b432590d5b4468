import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOCS, ingest, startStack, type Stack } from './helpers.js';

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

describe('bad input gets a clear 4xx', () => {
  beforeEach(async () => {
    stack = await startStack();
  });
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => stack.service.app.inject({ method: 'POST', url, payload: payload as never, headers });

  it('names the failing fields', async () => {
    const r = await post('/v1/search', { tenant: 'acme', query: '', topK: 0, extra: 1 });
    expect(r.statusCode).toBe(400);
    const b = r.json();
    expect(b.error).toBe('invalid_request');
    const paths = b.details.map((d: { path: string }) => d.path);
    expect(paths).toContain('body/query');
    expect(paths).toContain('body/topK');
    expect(b.details.some((d: { message: string }) => d.message.includes('additional properties'))).toBe(true);
  });

  it('rejects bad tenants, filters and unknown collections', async () => {
    expect((await post('/v1/search', { query: 'x' })).json()).toMatchObject({ statusCode: 400, error: 'tenant_required' });
    expect((await post('/v1/search', { tenant: 'a b', query: 'x' })).statusCode).toBe(400);
    const f = await post('/v1/search', { tenant: 'acme', query: 'x', filter: { metadata: { 'bad key': 1 } } });
    expect(f.statusCode).toBe(400);
    const c = await post('/v1/search', { tenant: 'acme', query: 'x', collection: 'nope' });
    expect(c.statusCode).toBe(404);
    expect(c.json()).toMatchObject({ error: 'collection_not_found' });
    expect(c.json().message).toContain('docs, other');
    const k = await post('/v1/search', { tenant: 'acme', query: 'x', topK: 51 });
    expect(k.json()).toMatchObject({ statusCode: 400, error: 'top_k_too_large' });
    const q = await post('/v1/search', { tenant: 'acme', query: 'x'.repeat(4001) });
    expect(q.json()).toMatchObject({ statusCode: 413, error: 'query_too_long' });
  });

  it('validates ingest bodies and content types', async () => {
    const r = await post('/v1/collections/docs/documents', { tenant: 'acme', documents: [{ id: 'a', text: '' }] });
    expect(r.statusCode).toBe(400);
    expect(r.json().details[0].path).toBe('body/documents/0/text');
    const t = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: 'query', headers: { 'content-type': 'text/plain' } });
    expect(t.statusCode).toBe(415);
    const m = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: '{"tenant":', headers: { 'content-type': 'application/json' } });
    expect(m.json()).toMatchObject({ statusCode: 400, error: 'malformed_json' });
  });
});

describe('a dependency down gets 503 naming it, and no half-written ingest', () => {
  beforeEach(async () => {
    stack = await startStack();
  });

  it('TEI embed down: 503 tei-embed, nothing written for that document', async () => {
    await stack.tei.close();
    const r = await ingest(stack, [DOCS[0]]);
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: 'dependency_unavailable', dependency: 'tei-embed' });
    expect(r.json().message).toContain('document kb-milvus was not written');
    const list = await stack.service.app.inject({ method: 'GET', url: '/v1/collections/docs/documents/kb-milvus?tenant=acme' });
    expect(list.statusCode).toBe(404);
    const ready = await stack.service.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().reasons).toEqual(['tei-embed is not reachable', 'tei-rerank is not reachable']);
  });

  it('TEI rerank failing: 503 tei-rerank; gateway rejecting the key: 502 gateway', async () => {
    await ingest(stack);
    stack.tei.failWith = 500;
    const s = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'milvus', rerank: false } });
    expect(s.json()).toMatchObject({ statusCode: 503, dependency: 'tei-embed' });
    stack.tei.failWith = undefined;
    const noRerank = await startStack({ rerank: { url: 'http://127.0.0.1:9' } });
    try {
      await ingest(noRerank);
      const r = await noRerank.service.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'milvus' } });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ error: 'dependency_unavailable', dependency: 'tei-rerank' });
      expect(r.json().message).toContain('tei-rerank unreachable at http://127.0.0.1:9');
    } finally {
      await noRerank.close();
    }
    // the gateway answers 401 for a wrong key: the service's config error, not an outage
    const svc2 = await startStack({}, { env: { GATEWAY_API_KEY: 'sk-wrong' } });
    try {
      await ingest(svc2);
      const a = await svc2.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'When do Milvus backups run?' } });
      expect(a.statusCode).toBe(502);
      expect(a.json()).toMatchObject({ error: 'dependency_error', dependency: 'gateway' });
      expect(a.json().message).toContain('401');
    } finally {
      await svc2.close();
    }
  });

  it('gateway down: 503 gateway (JSON) and an error event in the SSE stream', async () => {
    await ingest(stack);
    await stack.gateway.close();
    const a = await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'When do Milvus backups run?' } });
    expect(a.statusCode).toBe(503);
    expect(a.json()).toMatchObject({ dependency: 'gateway' });
    const s = await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'When do Milvus backups run?', stream: true } });
    const events = s.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const err = JSON.parse(events.at(-2) as string);
    expect(err.error).toMatchObject({ type: 'dependency_unavailable', dependency: 'gateway' });
  });
});

describe('tenant from a gateway-set header', () => {
  it('uses the header and refuses a body tenant that differs', async () => {
    stack = await startStack({ server: { host: '127.0.0.1', port: 0, tenantHeader: 'x-rag-tenant' } });
    const ok = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { query: 'x' }, headers: { 'x-rag-tenant': 'acme' } });
    expect(ok.json().tenant).toBe('acme');
    const bad = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { query: 'x', tenant: 'globex' }, headers: { 'x-rag-tenant': 'acme' } });
    expect(bad.statusCode).toBe(403);
    const none = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { query: 'x' } });
    expect(none.json()).toMatchObject({ statusCode: 403, error: 'tenant_required' });
  });
});
