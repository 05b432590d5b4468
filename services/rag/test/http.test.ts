import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOCS, ingest, startStack, type Stack } from './helpers.js';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(async () => {
  await stack.close();
});

describe('ingest, search and answer on the embedded store with the fakes', () => {
  it('ingests documents into chunks with stable ids', async () => {
    const res = await ingest(stack);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.documents.map((d: { id: string }) => d.id)).toEqual(['kb-milvus', 'kb-vllm', 'kb-gateway']);
    expect(body.documents[0].chunks).toBe(2); // two markdown sections
    for (const d of body.documents) for (const id of d.chunkIds) expect(id).toMatch(new RegExp(`^${d.id}#[0-9a-f]{16}$`));
    // the embedder saw every chunk, with truncation on
    const embeds = stack.tei.requests.filter((r) => r.path === '/embed');
    expect(embeds.every((r) => r.body.truncate === true && r.body.normalize === true)).toBe(true);
    expect(embeds.reduce((n, r) => n + r.body.inputs.length, 0)).toBe(body.chunks);
  });

  it('re-ingesting replaces chunks instead of duplicating them, deleting removes them', async () => {
    const first = (await ingest(stack)).json();
    const again = (await ingest(stack)).json();
    expect(again.documents[0].chunkIds).toEqual(first.documents[0].chunkIds);
    const changed = { ...DOCS[0], text: '# Milvus operations\n\n## Backups\n\nBackups now run hourly.' };
    const r3 = (await ingest(stack, [changed])).json();
    expect(r3.documents[0].chunks).toBe(1);
    expect(r3.documents[0].removedStale).toBe(2);
    const list = await stack.service.app.inject({ method: 'GET', url: '/v1/collections/docs/documents/kb-milvus?tenant=acme' });
    expect(list.json().chunkIds).toEqual(r3.documents[0].chunkIds);
    const del = await stack.service.app.inject({ method: 'DELETE', url: '/v1/collections/docs/documents/kb-milvus?tenant=acme' });
    expect(del.json().deleted).toBe(1);
    const gone = await stack.service.app.inject({ method: 'GET', url: '/v1/collections/docs/documents/kb-milvus?tenant=acme' });
    expect(gone.statusCode).toBe(404);
  });

  it('searches hybrid + rerank, honours tenant isolation and metadata filters', async () => {
    await ingest(stack);
    await ingest(stack, [{ id: 'other-tenant', text: 'Milvus backups run nightly for the other tenant too.' }], 'globex');
    const res = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'when do milvus backups run', topK: 3 } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.reranked).toBe(true);
    expect(body.results[0].docId).toBe('kb-milvus');
    expect(body.results[0].text).toContain('02:00 UTC');
    expect(body.results[0].rerankScore).toBeGreaterThan(0.5);
    expect(body.results.map((r: { docId: string }) => r.docId)).not.toContain('other-tenant');
    const rr = stack.tei.requests.filter((r) => r.path === '/rerank');
    expect(rr).toHaveLength(1);
    expect(rr[0]?.body).toMatchObject({ query: 'when do milvus backups run', truncate: true, raw_scores: false });

    const g = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'globex', query: 'milvus backups' } });
    expect(g.json().results.map((r: { docId: string }) => r.docId)).toEqual(['other-tenant']);

    const f = await stack.service.app.inject({
      method: 'POST',
      url: '/v1/search',
      payload: { tenant: 'acme', query: 'milvus backups keys gpu', filter: { metadata: { team: { in: ['edge', 'inference'] }, year: { gte: 2026 } } } },
    });
    const docs = new Set(f.json().results.map((r: { docId: string }) => r.docId));
    expect([...docs].sort()).toEqual(['kb-gateway', 'kb-vllm']);
  });

  it('answers with numbered sources through the gateway and returns citations', async () => {
    await ingest(stack);
    const res = await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'When do Milvus backups run?' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.noContext).toBe(false);
    expect(body.answer).toContain('02:00 UTC');
    expect(body.citations[0]).toMatchObject({ source: 1, docId: 'kb-milvus', chunkIndex: 0 });
    const chat = stack.gateway.requests.find((r) => r.path === '/v1/chat/completions');
    expect(chat?.headers['authorization']).toBe('Bearer sk-gw');
    expect(chat?.body.model).toBe('gpt-oss-20b');
    expect(chat?.body.messages[1].content).toMatch(/^Sources:\n\n\[1\] Milvus operations \(document kb-milvus, chunk 0\)/);
    expect(chat?.body.messages[1].content).toContain('Question: When do Milvus backups run?');
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('says so when there is no relevant context, without calling the model', async () => {
    await ingest(stack);
    const res = await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'Who won the football world cup in 1954?' } });
    const body = res.json();
    expect(body.noContext).toBe(true);
    expect(body.answer).toBe(stack.config.answer.noContextAnswer);
    expect(body.citations).toEqual([]);
    expect(stack.gateway.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
  });

  it('streams the answer as OpenAI-style SSE with citations in the last chunk', async () => {
    await ingest(stack);
    const res = await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'How are vLLM replicas scaled?', stream: true } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const events = res.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('The gpt-oss-120b model runs on H100 GPUs with tensor parallelism of two. [1]');
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(last.rag.citations[0].docId).toBe('kb-vllm');
    expect(chunks[0].rag.sources.length).toBeGreaterThan(0);
    expect(stack.gateway.requests.at(-1)?.body.stream).toBe(true);
  });
});
